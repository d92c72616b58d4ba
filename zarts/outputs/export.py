"""Downloads: formula-safe CSV and the documented JSON envelope (see docs/outputs.md)."""

from __future__ import annotations

import csv
import io
import json
import re

from flask import Response

from ..models import utcnow

# A leading =, +, - or @ starts a spreadsheet formula; a tab or carriage return can hide one.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value) -> str:
    """The cell as text, prefixed with ' when a spreadsheet would otherwise run it as a formula."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def to_csv(columns: list[str], rows: list[dict]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([csv_cell(c) for c in columns])
    for row in rows:
        writer.writerow([csv_cell(row.get(c)) for c in columns])
    return buf.getvalue()


def envelope(output: str, filters: dict, rows: list, **extra) -> dict:
    """{"output", "generated_at", "filters", "rows", …}: the JSON export's documented shape."""
    return {
        "output": output,
        "generated_at": utcnow().replace(microsecond=0).isoformat() + "Z",
        "filters": filters,
        "rows": rows,
        **extra,
    }


def to_json(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, sort_keys=False)


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name)[:120] or "export"


def download(body: str, filename: str, mimetype: str, headers: dict | None = None) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{_safe_name(filename)}"'
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response
