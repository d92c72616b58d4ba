"""PDF documents (WeasyPrint): HTML rendered from a template under templates/pdf/, printed on A4.

Nothing is fetched while printing: the fetcher refuses every URL but inline `data:` ones, so a
document cannot reach the network or the disk, whatever a text in it says. Fonts come from the
system (fontconfig: DejaVu / Liberation on Debian).

What a document says is decided by its caller's view model: a proposal's PDF is rendered from the
portal's allow-listed `ProposalPage` (zarts.portal.pdf_views), never from the Proposal row.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

from flask import make_response, render_template
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetchingError


class NoNetworkFetcher(URLFetcher):
    """Only `data:` URLs (inline images); everything else (http, https, file, ftp) is refused."""

    def fetch(self, url, headers=None):
        if not url.lower().startswith("data:"):
            raise URLFetchingError(f"not fetched while printing: {url[:80]}")
        return super().fetch(url, headers)


def html_to_pdf(html: str) -> bytes:
    # base_url stays unset: a relative link resolves to nothing rather than to a file on this machine.
    return HTML(string=html, url_fetcher=NoNetworkFetcher(allowed_protocols=("data",))).write_pdf()


def render_pdf(template: str, **context) -> bytes:
    return html_to_pdf(render_template(template, **context))


def safe_filename(stem: str, ext: str = "pdf") -> str:
    """A download name of letters, digits and dashes (ASCII) from a title."""
    ascii_stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()
    ascii_stem = re.sub(r"[^A-Za-z0-9]+", "-", ascii_stem).strip("-").lower()[:80]
    return f"{ascii_stem or 'document'}.{ext}"


def download_response(body, filename: str, content_type: str):
    """A file to save, never to show inline: attachment, nosniff, not cached anywhere."""
    filename = re.sub(r"[\x00-\x1f\x7f]", "", filename) or "file"
    response = make_response(body)
    response.headers["Content-Type"] = content_type
    ascii_name = filename.encode("ascii", "replace").decode().replace("?", "_").replace('"', "")
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def pdf_response(body: bytes, filename: str):
    return download_response(body, filename, "application/pdf")
