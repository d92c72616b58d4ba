"""Errors of the API (and of the capture endpoint) as RFC 9457 problem details, never HTML."""

from __future__ import annotations

from flask import jsonify

from ..domain.errors import Conflict, DomainError, Forbidden, GateRefused, Invalid

SLUGS = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    412: "precondition-failed",
    413: "too-large",
    415: "unsupported-media-type",
    422: "gate-refused",
    428: "precondition-required",
    429: "too-many-requests",
    500: "server-error",
    503: "unavailable",
}


def problem(
    status: int, title: str, detail: str, *, slug: str | None = None, headers: dict | None = None, **extra
):
    body = {
        "type": f"urn:zarts:problem:{slug or SLUGS.get(status, 'error')}",
        "title": title,
        "status": status,
        "detail": detail,
        **extra,
    }
    resp = jsonify(body)
    resp.status_code = status
    resp.mimetype = "application/problem+json"
    for name, value in (headers or {}).items():
        resp.headers[name] = value
    return resp


def domain_problem(exc: DomainError):
    """A refusal of the domain, as the screens show it: what is wrong and where."""
    if isinstance(exc, GateRefused):
        return problem(
            422,
            "Gate refused",
            exc.message,
            slug="gate-refused",
            target=exc.target,
            missing=[m.as_dict() for m in exc.missing],
        )
    if isinstance(exc, Conflict):
        return problem(409, "Conflict", exc.message, slug="conflict", current_version=exc.current_version)
    if isinstance(exc, Forbidden):
        return problem(403, "Not allowed", exc.message, slug="forbidden")
    if isinstance(exc, Invalid):
        errors = {exc.field: [exc.message]} if exc.field else {}
        return problem(400, "Invalid input", exc.message, slug="invalid", errors=errors)
    return problem(exc.status, "Refused", exc.message)


def field_errors(messages) -> dict:
    """webargs' messages ({location: {field: [msg]}}) as {field: [msg]}."""
    out: dict = {}
    if isinstance(messages, dict):
        for location, fields in messages.items():
            if isinstance(fields, dict):
                for name, msgs in fields.items():
                    out[str(name)] = _flat(msgs)
            else:
                out[str(location)] = _flat(fields)
    return out


def _flat(msgs) -> list[str]:
    if isinstance(msgs, dict):
        return [f"{k}: {m}" for k, v in msgs.items() for m in _flat(v)]
    if isinstance(msgs, (list, tuple)):
        return [str(m) for m in msgs]
    return [str(msgs)]
