"""Every GET route of the URL map, opened as the role that may open it, sends the security headers:
a CSP without 'unsafe-inline'/'unsafe-eval' (the admin adds only its nonce and the hashes of its own
handlers), nosniff, frame denial, a referrer policy — and in production HSTS and Secure cookies.
Every HTML page also obeys its own CSP (no inline script, handler or style that the browser would
block)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from tests.builders import PASSWORD
from tests.conftest import csrf_token
from tests.security.conftest import Scenario, scenario_app
from tests.security.crawl import get_pages
from zarts.extensions import db
from zarts.web import _sha256

STRICT_DIRECTIVES = {
    "default-src": "'self'",
    "style-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
}


def policy(header: str) -> dict[str, str]:
    out = {}
    for part in header.split(";"):
        name, _, value = part.strip().partition(" ")
        if name:
            out[name] = value.strip()
    return out


def crawl(scenario, one_per_endpoint: set | None = None):
    """(page, response) for every GET page, each as its role (a client contact for the portal)."""
    app = scenario.app
    contact = scenario.contacts[-1]  # the won client: it has projects, reports and a checklist
    sessions = {
        "anonymous": scenario.client_as(None),
        "admin": scenario.client_as(scenario.admin),
        "client": scenario.client_as(contact),
    }
    sessions["signed-in"] = sessions["admin"]
    for page in get_pages(app, client_id=contact.client_id):
        if one_per_endpoint is not None:
            if page.endpoint in one_per_endpoint:
                continue
            one_per_endpoint.add(page.endpoint)
        resp = sessions[page.role].get(page.url)
        yield page, resp


def assert_headers(page, resp, production: bool):
    where = f"{page.url} ({resp.status_code})"
    csp = policy(resp.headers.get("Content-Security-Policy", ""))
    assert csp, f"no CSP on {where}"
    for name, value in STRICT_DIRECTIVES.items():
        assert csp.get(name) == value, f"{where}: {name} is {csp.get(name)!r}"
    script = csp["script-src"]
    assert "'unsafe-inline'" not in script and "'unsafe-eval'" not in script, where
    if page.endpoint.startswith("admin.") or page.url.startswith("/admin"):
        assert re.fullmatch(r"'self'( 'nonce-[\w-]+')? 'unsafe-hashes'( 'sha256-[\w+/=]+')+", script), where
    else:
        assert script == "'self'", f"{where}: {script}"
    assert resp.headers.get("X-Content-Type-Options") == "nosniff", where
    assert resp.headers.get("X-Frame-Options") == "DENY", where
    assert resp.headers.get("Referrer-Policy") == "same-origin", where
    assert resp.headers.get("Cross-Origin-Opener-Policy") == "same-origin", where
    hsts = resp.headers.get("Strict-Transport-Security")
    if production:
        assert hsts and "max-age=31536000" in hsts, where
    else:
        assert hsts is None, where


class InlineCode(HTMLParser):
    """What a strict CSP would block: inline scripts without the nonce, handlers, style attributes.

    `allowed` holds the CSP hashes of the handlers the policy allows (the admin's own)."""

    def __init__(self, nonce: str | None, allowed: str = ""):
        super().__init__(convert_charrefs=True)
        self.nonce, self.allowed, self.problems = nonce, allowed, []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if (
            tag == "script"
            and "src" not in attrs
            and (self.nonce is None or attrs.get("nonce") != self.nonce)
        ):
            self.problems.append("inline <script> without the page's nonce")
        if tag == "script" and off_site(attrs.get("src")):
            self.problems.append(f"off-site script {attrs['src']}")
        if tag == "style":
            self.problems.append("<style> element")
        if tag == "link" and off_site(attrs.get("href")):
            self.problems.append(f"off-site stylesheet {attrs['href']}")
        for name, value in attrs.items():
            if name.startswith("on") and _sha256(value or "") not in self.allowed:
                self.problems.append(f"inline handler {name}={value!r}")
            if name == "style":
                self.problems.append(f"style attribute on <{tag}>")
            if name.startswith("hx-on"):
                self.problems.append(f"{name} needs eval")


def off_site(url: str | None) -> bool:
    """An absolute URL to another host (a downloaded packet links back to this app's own CSS)."""
    m = re.match(r"(?:https?:)?//([^/]+)", url or "")
    return bool(m) and m.group(1) not in ("localhost", "127.0.0.1:5000")


def csp_problems(resp) -> list[str]:
    header = resp.headers["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([\w-]+)'", header)
    parser = InlineCode(nonce.group(1) if nonce else None, header)
    parser.feed(resp.get_data(as_text=True))
    return sorted(set(parser.problems))


def test_every_page_sends_the_security_headers_and_obeys_its_csp(scenario):
    seen, bad = {}, {}
    for page, resp in crawl(scenario):
        assert resp.status_code < 500, f"{page.url}: {resp.status_code}"
        assert_headers(page, resp, production=False)
        seen.setdefault(page.endpoint, set()).add(resp.status_code)
        if resp.mimetype == "text/html" and (problems := csp_problems(resp)):
            bad[page.url] = problems
    assert not bad, bad
    # The crawl really reached the pages (as the right role), not just login redirects.
    opened = {endpoint for endpoint, codes in seen.items() if 200 in codes}
    for must in (
        "workspace.board",
        "workspace.lead",
        "portal.home",
        "portal.proposal",
        "outputs.packet_page",
        "auth.login",
        "auth.change_password",
        "jobs.index",
        "leads.index_view",
        "leads.edit_view",
    ):
        assert must in opened, f"{must} never answered 200: {seen.get(must)}"


def test_in_production_every_page_also_sends_hsts(seeded_db, tmp_path, monkeypatch):
    monkeypatch.setenv("ZARTS_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "a-private-production-secret")
    app = scenario_app(seeded_db, tmp_path)
    with app.app_context():
        done = set()
        for page, resp in crawl(Scenario(app), one_per_endpoint=done):
            assert resp.status_code < 500, f"{page.url}: {resp.status_code}"
            assert_headers(page, resp, production=True)
        assert len(done) > 60
        db.session.remove()


def test_admin_handler_hashes_cover_every_inline_handler_the_admin_renders(scenario):
    from zarts.web import admin_handler_hashes

    allowed = admin_handler_hashes(scenario.app)
    admin = scenario.client_as(scenario.admin)
    for url in ("/admin/leads/", "/admin/connectors/", "/admin/tasks/"):
        html = admin.get(url).get_data(as_text=True)
        for handler in set(re.findall(r'\son\w+="([^"]*)"', html)):
            import html as htmlmod

            assert _sha256(htmlmod.unescape(handler)) in allowed, (url, handler)


def test_production_cookies_are_secure_httponly_and_samesite(seeded_db, tmp_path, monkeypatch):
    monkeypatch.setenv("ZARTS_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "a-private-production-secret")
    app = scenario_app(seeded_db, tmp_path)
    with app.app_context():
        from tests.builders import Make

        user = Make().user("growth_ops")
        db.session.commit()
        client = app.test_client()
        token = csrf_token(client)
        resp = client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token})
        assert resp.status_code == 302
        cookies = resp.headers.getlist("Set-Cookie")
        assert cookies and all(
            ("Secure" in c and "HttpOnly" in c and "SameSite=Lax" in c) for c in cookies
        ), cookies
        assert "Strict-Transport-Security" in resp.headers
        db.session.remove()


def test_development_keeps_plain_http_cookies_usable(client):
    # 127.0.0.1 runs on http://: a Secure cookie would never come back and nobody could sign in.
    assert "Secure" not in client.get("/login").headers.get("Set-Cookie", "")
    assert csrf_token(client)
