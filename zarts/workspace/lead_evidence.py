"""Lead-page forms for audit evidence as data (add, edit, remove items of a draft audit; ask approval
of their client-safe wording; correct a completed audit with a new version) and for the evidence the
claims of a draft proposal cite. Each posts one domain action through `lead_action`."""

from __future__ import annotations

from flask import abort, request

from ..auth.access import staff_required
from ..domain import Invalid, citations, evidence
from ..extensions import db
from ..models import Audit, EvidenceItem, Proposal
from ..models.vocab import BETTER, EVIDENCE_KINDS
from . import bp
from .common import actor, choice, text, version
from .lead import lead_action
from .lead_sales import _of_lead

TEXT_FIELDS = (
    "metric",
    "value",
    "unit",
    "period",
    "source",
    "provider",
    "excerpt",
    "export_note",
    "raw_note",
    "client_text",
)


def _item(lead, item_id: int) -> EvidenceItem:
    """An evidence item of this lead's audits, or 404."""
    item = db.session.get(EvidenceItem, item_id)
    if item is None or db.session.get(Audit, item.audit_id).lead_id != lead.id:
        abort(404)
    return item


def _fields() -> dict:
    fields = {name: text(name) or "" for name in TEXT_FIELDS if name in request.form}
    if "better" in request.form:
        fields["better"] = choice("better", BETTER, "direction") or None
    return fields


@bp.post("/leads/<int:lead_id>/audits/<int:audit_id>/evidence")
@staff_required
def add_evidence(lead_id: int, audit_id: int):
    def add(lead):
        kind = choice("kind", EVIDENCE_KINDS, "kind of evidence")
        if kind is None:
            raise Invalid("Choose the kind of evidence.", "kind")
        evidence.add_item(
            db.session, _of_lead(Audit, lead, audit_id), actor(), kind=kind, via="workspace", **_fields()
        )

    return lead_action(lead_id, "audit", add, "Evidence added.")


@bp.post("/leads/<int:lead_id>/evidence/<int:item_id>")
@staff_required
def save_evidence(lead_id: int, item_id: int):
    """Save an item of a draft audit; its other buttons remove it or route its wording to approval."""
    then = request.form.get("then", "")

    def save(lead):
        item = _item(lead, item_id)
        if then == "remove":
            evidence.remove_item(db.session, item, actor(), via="workspace")
            return
        if then != "request_approval" or item.audit.status == "draft":
            evidence.update_item(db.session, item, actor(), version(), via="workspace", **_fields())
        if then == "request_approval":
            evidence.request_item_approval(db.session, item, actor())

    done = {"remove": "Evidence removed.", "request_approval": "Client-safe wording sent for approval."}
    return lead_action(lead_id, "audit", save, done.get(then, "Evidence saved."))


@bp.post("/leads/<int:lead_id>/audits/<int:audit_id>/new-version")
@staff_required
def new_audit_version(lead_id: int, audit_id: int):
    return lead_action(
        lead_id,
        "audit",
        lambda lead: evidence.new_audit_version(db.session, _of_lead(Audit, lead, audit_id), actor()),
        "New audit version started: correct it, then complete it.",
    )


@bp.post("/leads/<int:lead_id>/proposals/<int:proposal_id>/citations")
@staff_required
def cite_evidence(lead_id: int, proposal_id: int):
    """The claims form: per claim, the evidence it cites (checkboxes `cite:<claim>`), a target per cited
    baseline (`target:<claim>:<evidence id>`), and which scope items promise an outcome (`promising`)."""

    def cite(lead):
        proposal = _of_lead(Proposal, lead, proposal_id)
        claims = request.form.getlist("claim")
        cited = {claim: _ids(request.form.getlist(f"cite:{claim}")) for claim in claims}
        targets = {}
        for key, raw in request.form.items():
            if key.startswith("target:") and raw.strip():
                claim, _, evidence_id = key[len("target:") :].rpartition(":")
                if evidence_id.isdigit() and int(evidence_id) in cited.get(claim, ()):
                    targets[(claim, int(evidence_id))] = raw
        promising = _ids(request.form.getlist("promising")) if "promising_shown" in request.form else None
        if promising is not None:  # an item that no longer promises anything cites nothing
            cited = {
                c: ids
                for c, ids in cited.items()
                if not c.startswith("item:") or c[5:].isdigit() and int(c[5:]) in promising
            }
        citations.cite(
            db.session,
            proposal,
            actor(),
            version(),
            cited,
            promising=promising,
            targets=targets,
            via="workspace",
        )

    return lead_action(lead_id, "proposal", cite, "Claims and evidence saved.")


def _ids(values) -> list[int]:
    try:
        return [int(v) for v in values if str(v).strip()]
    except ValueError:
        raise Invalid("Choose evidence from the list.", "citations") from None


@bp.app_template_filter("evidence_number")
def evidence_number(value) -> str:
    from ..domain.claims import number

    return number(value) or ""


@bp.context_processor
def _evidence_vocabulary():
    from ..domain.claims import citations_of, claims_of
    from ..models.vocab import BETTER_LABELS, EVIDENCE_KIND_LABELS

    return {
        "EVIDENCE_KINDS": EVIDENCE_KINDS,
        "EVIDENCE_KIND_LABELS": EVIDENCE_KIND_LABELS,
        "BETTER": BETTER,
        "BETTER_LABELS": BETTER_LABELS,
        "claims_of": claims_of,
        "citations_of": citations_of,
    }
