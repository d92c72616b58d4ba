"""The guide's vocabulary: every enumerated value the data model allows."""

STAGES = ("new", "qualified", "discovery", "audit", "proposal", "contract", "won", "lost")
OPEN_STAGES = ("new", "qualified", "discovery", "audit", "proposal", "contract")
STAGE_LABELS = {
    "new": "New",
    "qualified": "Qualified",
    "discovery": "Discovery",
    "audit": "Audit",
    "proposal": "Proposal",
    "contract": "Contract (proposal sent)",
    "won": "Won",
    "lost": "Lost",
}
SOURCES = ("referral", "website", "outbound", "event", "partner", "ads", "other")
SERVICES = ("seo", "paid_media", "crm_automation", "web_build", "analytics", "content")
SERVICE_LABELS = {
    "seo": "SEO",
    "paid_media": "Paid media",
    "crm_automation": "CRM automation",
    "web_build": "Web build",
    "analytics": "Analytics",
    "content": "Content",
}
SERVICE_FIT = ("strong", "partial", "poor")
URGENCY = ("high", "medium", "low")
CONSENT = ("unknown", "granted", "withdrawn")
PAUSE_REASONS = ("consent", "timing", "source_context", "decision_path")
LOST_REASONS = (
    "price",
    "timing",
    "competitor",
    "no_decision",
    "poor_fit",
    "unresponsive",
    "other",
    "duplicate",
)
LOST_REASON_LABELS = {
    "price": "Price",
    "timing": "Timing",
    "competitor": "Chose a competitor",
    "no_decision": "No decision",
    "poor_fit": "Poor fit",
    "unresponsive": "Unresponsive",
    "other": "Other",
    "duplicate": "Duplicate (merged into another lead)",  # set only by zarts.domain.merge
}

ROLES = ("admin", "growth_ops", "approver", "delivery", "client")
STAFF_ROLES = ("admin", "growth_ops", "approver", "delivery")

CLIENT_STATUS = ("prospect", "onboarding", "active", "paused", "churned")
CADENCES = ("weekly", "monthly")
PROJECT_STATUS = ("onboarding", "active", "paused", "completed")
PAYMENT_STATES = ("not_invoiced", "invoiced", "deposit_paid", "paid", "overdue")
CONTRACT_STATES = ("draft", "sent", "signed", "cancelled")

TASK_KINDS = (
    "follow_up",
    "proposal_review",
    "contract_step",
    "onboarding",
    "connector",
    "reactivation",
    "reply",
    "report",
    "other",
)
AUDIT_STATUS = ("draft", "completed")
# Audit evidence as data (zarts.models.evidence.EvidenceItem) and the claims of a proposal that cite it.
EVIDENCE_KINDS = ("finding", "baseline", "provider_data")
EVIDENCE_KIND_LABELS = {"finding": "Finding", "baseline": "Baseline metric", "provider_data": "Provider data"}
BETTER = ("higher", "lower")  # which way a baseline metric improves
BETTER_LABELS = {"higher": "Higher is better", "lower": "Lower is better"}
CLAIM_KINDS = ("expected_improvement", "timeline", "item")
CLAIM_KIND_LABELS = {
    "expected_improvement": "Expected improvement",
    "timeline": "Timeline",
    "item": "Scope item",
}
CLIENT_SAFE_STATUS = ("none", "pending", "approved", "rejected")
REPORT_KINDS = ("client_report", "handoff_packet", "pipeline_weekly")
REPORT_STATUS = ("draft", "approved", "published")
NOTE_VISIBILITY = ("internal", "client_safe")
MESSAGE_DIRECTIONS = ("outbound", "inbound", "internal")
MESSAGE_CHANNELS = ("email", "portal", "phone", "meeting", "system")
EMAIL_STATUS = ("none", "pending", "sent", "failed")

PROPOSAL_STATUS = ("draft", "sent", "accepted", "declined", "superseded")
ITEM_KINDS = ("included", "excluded", "add_on", "assumption", "dependency")
ITEM_KIND_LABELS = {
    "included": "Included deliverables",
    "excluded": "Excluded work",
    "add_on": "Optional add-ons",
    "assumption": "Assumptions",
    "dependency": "Dependencies",
}
APPROVAL_KINDS = (
    "pricing",
    "claim",
    "contract_language",
    "client_summary",
    "summary",
    "timeline",
    "scope",
    "client_text",
)
APPROVAL_KIND_LABELS = {
    "pricing": "Pricing",  # the price, the currency and every add-on with its price: the totals a client can accept
    "claim": "Expected-improvement claim",
    "contract_language": "Contract language",
    "client_summary": "Client-safe summary",
    "summary": "Proposal summary",
    "timeline": "Timeline",
    "scope": "Scope",  # every scope item's kind, title and description
    "client_text": "Client-facing text",  # a project's client fields, a client checklist item
}
APPROVAL_STATES = ("pending", "approved", "rejected", "superseded")
CONNECTOR_STATUS = ("to_connect", "connected", "blocked")
OUTBOX_STATUS = ("pending", "dispatched", "done", "failed")

EVENT_KINDS = (
    "created",
    "stage_moved",
    "qualified",
    "discovery_logged",
    "audit_completed",
    "proposal_drafted",
    "proposal_revised",
    "proposal_sent",
    "proposal_viewed",
    "proposal_accepted",
    "proposal_declined",
    "objection_logged",
    "forecast_updated",
    "approval_requested",
    "approval_decided",
    "contract_updated",
    "won",
    "lost",
    "handoff_started",
    "handoff_done",
    "paused",
    "resumed",
    "reactivated",
    "next_action_set",
    "task_done",
    "checklist_ticked",
    "message_received",
    "client_safe_published",
    "reassigned",  # the owner changed: from, to, by whom (zarts.domain.pipeline.reassign)
    "fields_changed",  # a tracked edit: table, row, and each field's old and new value
    "message_sent",  # a staff member wrote to the client (portal thread or logged email)
    "task_reopened",
    "merged",  # another lead (and its history) was merged into this one, or this one into another
    "attachment_added",  # a file was attached to the lead, its audit, proposal or contract
    "attachment_deleted",  # an attachment was deleted (soft: kept, hidden)
)
# Labels of the event kinds a timeline shows in words.
EVENT_LABELS = {kind: kind.replace("_", " ").capitalize() for kind in EVENT_KINDS}
EVENT_LABELS.update({"fields_changed": "Fields changed", "reassigned": "Owner changed"})
SECRET_LINKS = ("invite", "reset")  # single-use links a message carries (minted when it is emailed)

# What a staff member is told about in the workspace's bell (zarts.jobs.notify makes them from events).
NOTIFICATION_KINDS = (
    "approval_requested",
    "approval_decided",
    "client_message",
    "proposal_viewed",
    "proposal_accepted",
    "proposal_declined",
    "task_assigned",
    "reactivation_due",
    "import_done",
)

# Spreadsheet imports (zarts.domain.imports): what is imported, and where an import stands.
IMPORT_KINDS = ("leads", "clients")
IMPORT_STATUS = ("uploaded", "queued", "running", "done", "failed", "cancelled")
# What an import does with a row that matches an existing record.
DUPLICATE_ACTIONS = ("skip", "update", "create")

# -- Labels in people's words for every other code (the admin shows these, never the codes) ------------
SOURCE_LABELS = {
    "referral": "Referral",
    "website": "Website",
    "outbound": "Outbound",
    "event": "Event",
    "partner": "Partner",
    "ads": "Ads",
    "other": "Other",
}
SERVICE_FIT_LABELS = {"strong": "Strong fit", "partial": "Partial fit", "poor": "Poor fit"}
URGENCY_LABELS = {"high": "High", "medium": "Medium", "low": "Low"}
CONSENT_LABELS = {"unknown": "Unknown", "granted": "Granted", "withdrawn": "Withdrawn"}
PAUSE_REASON_LABELS = {
    "consent": "Consent",
    "timing": "Timing",
    "source_context": "Source context",
    "decision_path": "Decision path",
}
ROLE_LABELS = {
    "admin": "Admin",
    "growth_ops": "Growth ops",
    "approver": "Approver",
    "delivery": "Delivery",
    "client": "Client contact",
}
CLIENT_STATUS_LABELS = {
    "prospect": "Prospect",
    "onboarding": "Onboarding",
    "active": "Active",
    "paused": "Paused",
    "churned": "Churned",
}
CADENCE_LABELS = {"weekly": "Weekly", "monthly": "Monthly"}
PROJECT_STATUS_LABELS = {
    "onboarding": "Onboarding",
    "active": "Active",
    "paused": "Paused",
    "completed": "Completed",
}
PAYMENT_STATE_LABELS = {
    "not_invoiced": "Not invoiced",
    "invoiced": "Invoiced",
    "deposit_paid": "Deposit paid",
    "paid": "Paid",
    "overdue": "Overdue",
}
CONTRACT_STATE_LABELS = {"draft": "Draft", "sent": "Sent", "signed": "Signed", "cancelled": "Cancelled"}
TASK_KIND_LABELS = {
    "follow_up": "Follow-up",
    "proposal_review": "Proposal review",
    "contract_step": "Contract step",
    "onboarding": "Onboarding",
    "connector": "Connector",
    "reactivation": "Win-back",
    "reply": "Reply",
    "report": "Report",
    "other": "Other",
}
AUDIT_STATUS_LABELS = {"draft": "Draft", "completed": "Completed"}
CLIENT_SAFE_STATUS_LABELS = {
    "none": "Not requested",
    "pending": "Awaiting approval",
    "approved": "Approved",
    "rejected": "Rejected",
}
REPORT_KIND_LABELS = {
    "client_report": "Client report",
    "handoff_packet": "Handoff packet",
    "pipeline_weekly": "Weekly pipeline",
}
REPORT_STATUS_LABELS = {"draft": "Draft", "approved": "Approved", "published": "Published"}
NOTE_VISIBILITY_LABELS = {"internal": "Internal", "client_safe": "Client-safe"}
MESSAGE_DIRECTION_LABELS = {"outbound": "To the client", "inbound": "From the client", "internal": "Internal"}
MESSAGE_CHANNEL_LABELS = {
    "email": "Email",
    "portal": "Portal",
    "phone": "Phone",
    "meeting": "Meeting",
    "system": "System",
}
EMAIL_STATUS_LABELS = {"none": "No email", "pending": "Waiting to send", "sent": "Sent", "failed": "Failed"}
PROPOSAL_STATUS_LABELS = {
    "draft": "Draft",
    "sent": "Sent",
    "accepted": "Accepted",
    "declined": "Declined",
    "superseded": "Superseded",
}
APPROVAL_STATE_LABELS = {
    "pending": "Pending",
    "approved": "Approved",
    "rejected": "Rejected",
    "superseded": "Superseded",
}
CONNECTOR_STATUS_LABELS = {"to_connect": "To connect", "connected": "Connected", "blocked": "Blocked"}
OUTBOX_STATUS_LABELS = {"pending": "Pending", "dispatched": "Dispatched", "done": "Done", "failed": "Failed"}
NOTIFICATION_KIND_LABELS = {
    "approval_requested": "Approval requested",
    "approval_decided": "Approval decided",
    "client_message": "Client message",
    "proposal_viewed": "Proposal viewed",
    "proposal_accepted": "Proposal accepted",
    "proposal_declined": "Proposal declined",
    "task_assigned": "Task assigned",
    "reactivation_due": "Win-back due",
    "import_done": "Import finished",
}
SECRET_LINK_LABELS = {"invite": "Invite", "reset": "Password reset"}
IMPORT_KIND_LABELS = {"leads": "Leads", "clients": "Clients"}
IMPORT_STATUS_LABELS = {
    "uploaded": "Uploaded",
    "queued": "Queued",
    "running": "Running",
    "done": "Done",
    "failed": "Failed",
    "cancelled": "Cancelled",
}
DUPLICATE_ACTION_LABELS = {
    "skip": "Skip",
    "update": "Update the existing record",
    "create": "Create a new one",
}
