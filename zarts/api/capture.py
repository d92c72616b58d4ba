"""Lead capture: a public form (hosted here, or pasted into a website) and a JSON POST, per source key.

Spam defences: limits per address and per key (Flask-Limiter), a honeypot field (`website`: filled
in, the post is thanked and dropped), and a minimum fill time (`_started`, a signed time stamp the
hosted form carries and the pasted snippet fetches from /start; required for form posts, checked
when a JSON post sends it). JSON from a browser is allowed only from CAPTURE_CORS_ORIGINS.

CSRF: a cross-site post carries no session cookie (SameSite=Lax), so it has nothing to forge; a post
that does carry this site's session is same-site and is CSRF-checked like every form here.
"""

from __future__ import annotations

import hashlib

from flask import Blueprint, current_app, jsonify, make_response, render_template, request
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from ..domain import DomainError, unit
from ..domain.capture import capture_errors, capture_lead, find_source
from ..extensions import csrf, db
from ..models import utcnow
from ..models.vocab import SERVICE_LABELS, SERVICES
from .problems import problem

bp = Blueprint("capture", __name__, url_prefix="/capture")

THANKS = "Thank you: we received your enquiry and will reply soon."
MAX_FILL_AGE = 24 * 3600


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="zarts-capture-start")


def start_token(source_id: int) -> str:
    return _serializer().dumps(source_id)


def _fill_time_error(token: str | None, source_id: int, required: bool) -> str | None:
    if not token:
        return "The form is incomplete: reload the page and send it again." if required else None
    try:
        value, stamp = _serializer().loads(token, max_age=MAX_FILL_AGE, return_timestamp=True)
    except SignatureExpired:
        return "The form was open too long: reload the page and send it again."
    except BadSignature:
        return "The form is incomplete: reload the page and send it again."
    if value != source_id:
        return "The form is incomplete: reload the page and send it again."
    waited = (utcnow() - stamp.replace(tzinfo=None)).total_seconds()
    if waited < current_app.config.get("CAPTURE_MIN_FILL_SECONDS", 3):
        return "That was quick: take a moment to check your details, then send the form again."
    return None


def _wants_json() -> bool:
    return request.is_json


def _cors(resp):
    origin = request.headers.get("Origin")
    if origin and origin.rstrip("/") in current_app.config.get("CAPTURE_CORS_ORIGINS", []):
        resp.headers["Access-Control-Allow-Origin"] = origin
        resp.headers["Access-Control-Allow-Methods"] = "POST, OPTIONS"
        resp.headers["Access-Control-Allow-Headers"] = "Content-Type"
        resp.headers["Access-Control-Max-Age"] = "600"
        resp.headers["Vary"] = "Origin"
    return resp


def _not_found():
    if _wants_json():
        return _cors(problem(404, "Not found", "This capture key is unknown or no longer active."))
    return render_template(
        "error.html", title="Not found", message="This form is no longer available.", code=404
    ), 404


def _form_page(source, status=200, errors=None, values=None):
    return render_template(
        "api/capture_form.html",
        source=source,
        errors=errors or {},
        values=values or {},
        started=start_token(source.id),
        services=SERVICES,
        SERVICE_LABELS=SERVICE_LABELS,
        key=request.view_args["source_key"],
    ), status


@bp.route("/<source_key>", methods=["GET"], provide_automatic_options=False)
def form(source_key: str):
    """The hosted form of a source (the same fields as the snippet)."""
    source = find_source(db.session, source_key)
    if source is None:
        return _not_found()
    return _form_page(source)


@bp.route("/<source_key>/start", methods=["GET"], provide_automatic_options=False)
def start(source_key: str):
    """A fresh fill-time token for the pasted snippet (capture.js): not a secret, any origin may ask."""
    source = find_source(db.session, source_key)
    if source is None:
        return problem(404, "Not found", "This capture key is unknown or no longer active.")
    resp = jsonify({"token": start_token(source.id)})
    resp.headers["Access-Control-Allow-Origin"] = "*"
    return resp


@bp.route("/<source_key>", methods=["OPTIONS"])
def preflight(source_key: str):
    return _cors(make_response("", 204))


@bp.route("/<source_key>", methods=["POST"])
def capture(source_key: str):
    """Create a lead from the form (form-encoded) or from JSON."""
    if request.cookies.get(current_app.config.get("SESSION_COOKIE_NAME", "session")):
        csrf.protect()  # same-site: this site's session came with it
    is_json = _wants_json()
    if is_json:
        if request.headers.get("Origin") and request.headers["Origin"].rstrip(
            "/"
        ) not in current_app.config.get("CAPTURE_CORS_ORIGINS", []):
            return problem(403, "Origin not allowed", "This site may not post enquiries here.")
        data = request.get_json(silent=True)
        if not isinstance(data, dict):
            return _cors(
                problem(
                    400,
                    "Invalid input",
                    "Send a JSON object of the form's fields.",
                    slug="invalid",
                    errors={},
                )
            )
    else:
        data = request.form.to_dict()
    source = find_source(db.session, source_key)
    if source is None:
        return _not_found()
    if any(isinstance(v, str) and "\x00" in v for v in data.values()):
        return _refused(source, is_json, {"form": "The form holds a character that cannot be stored."}, data)
    if isinstance(data.get("website"), str) and data["website"].strip():
        return _thanks(is_json)  # the honeypot: a bot filled in the field people never see
    late = _fill_time_error(data.get("_started"), source.id, required=not is_json)
    if late:
        return _refused(source, is_json, {"form": late}, data)
    _, errors = capture_errors(data)
    if errors:
        return _refused(source, is_json, errors, data)
    try:
        with unit(db.session):
            capture_lead(db.session, source, data)
    except DomainError as exc:
        field = getattr(exc, "field", None) or "form"
        if (
            exc.status == 403
        ):  # the owner can no longer take leads: the form is closed, not the visitor's fault
            return _refused(
                source, is_json, {"form": "This form is not taking enquiries right now."}, data, 503
            )
        return _refused(source, is_json, {field: exc.message}, data)
    return _thanks(is_json)


def _thanks(is_json: bool):
    if is_json:
        return _cors(make_response(jsonify({"status": "received", "detail": THANKS}), 201))
    return render_template("api/capture_thanks.html", message=THANKS), 200


def _refused(source, is_json, errors: dict, data: dict, status: int = 400):
    if is_json:
        detail = "; ".join(errors.values())
        return _cors(
            problem(
                status, "Invalid input", detail, slug="invalid", errors={k: [v] for k, v in errors.items()}
            )
        )
    values = {k: v for k, v in data.items() if isinstance(v, str) and k not in ("_started", "csrf_token")}
    return _form_page(source, status, errors, values)


def _address_key() -> str:
    return "capture-addr:" + (request.remote_addr or "unknown")


def _source_key() -> str:
    key = (request.view_args or {}).get("source_key", "")
    return "capture-key:" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:32]


LIMITED = "Too many enquiries from here. Wait a minute and try again."


def install_limits(app, blueprint) -> None:
    """Limits per address and per key on the POST (wrapped like zarts.auth.limits wraps sign-in)."""
    limiter = app.extensions.get("zarts.limiter")
    if limiter is None or not limiter.enabled:
        return
    per_address = limiter.limit(
        lambda: current_app.config["RATELIMIT_CAPTURE_PER_ADDRESS"],
        key_func=_address_key,
        methods=["POST"],
        scope="capture-address",
        error_message=LIMITED,
    )
    per_key = limiter.limit(
        lambda: current_app.config["RATELIMIT_CAPTURE_PER_KEY"],
        key_func=_source_key,
        methods=["POST"],
        scope="capture-key",
        error_message=LIMITED,
    )
    app.extensions["zarts.capture_limits"] = (per_address, per_key)


def wrap_views(app) -> None:
    limits = app.extensions.get("zarts.capture_limits")
    if limits:
        per_address, per_key = limits
        app.view_functions["capture.capture"] = per_address(per_key(app.view_functions["capture.capture"]))
