"""`form_ajax_refs` options: relationship fields look rows up as the user types (never a full dropdown)."""

STAFF = {"fields": ("name", "email"), "filters": ("role <> 'client'",), "placeholder": "Type a name or email"}
USER = {"fields": ("name", "email"), "placeholder": "Type a name or email"}
LEAD = {"fields": ("title", "company"), "placeholder": "Type a lead title or company"}
CLIENT = {"fields": ("name",), "placeholder": "Type a client name"}
PROJECT = {"fields": ("name",), "placeholder": "Type a project name"}
PROPOSAL = {"fields": ("title",), "placeholder": "Type a proposal title"}
AUDIT = {"fields": ("id",), "placeholder": "Type the audit number"}
REPORT = {"fields": ("title",), "placeholder": "Type a report title"}
CONTRACT = {"fields": ("id",), "placeholder": "Type the contract number"}
