"""Errors are values users read: each carries a message (and, for gates, what is missing)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Missing:
    """One unmet requirement of a gate: what is missing and where on the lead page it is fixed."""

    code: str
    message: str
    section: str  # lead-page checkpoint: qualification, discovery, audit, proposal, approval, contract, …

    def as_dict(self) -> dict:
        return {"code": self.code, "message": self.message, "section": self.section}


class DomainError(Exception):
    """A refused change. Nothing was written; `message` is for the user."""

    status = 400

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class GateRefused(DomainError):
    status = 422

    def __init__(self, target: str, missing: list[Missing]):
        self.target = target
        self.missing = list(missing)
        lines = "; ".join(m.message for m in self.missing)
        super().__init__(f"Cannot move to {target}: {lines}")


class Conflict(DomainError):
    """The row changed since the user saw it. `current_version` lets the page show the latest state."""

    status = 409

    def __init__(
        self, what: str = "This record", current_version: int | None = None, *, message: str | None = None
    ):
        self.current_version = current_version
        super().__init__(
            message
            or f"{what} was changed by someone else since you opened it. "
            "Review the current version and try again."
        )


class Forbidden(DomainError):
    status = 403


class Invalid(DomainError):
    """Bad input for one field."""

    status = 400

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field
