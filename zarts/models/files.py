"""Attachments: files kept with a lead, an audit (evidence), a proposal or a contract (the signed copy).

The file itself is in storage (zarts.storage: the instance folder, by default); a row holds what was
found in it (its type sniffed from the content, never the browser's word), its size and SHA-256, and
where it is kept. An attachment is internal unless its client-safe copy was approved
(`client_safe_status`, through an approval of kind client_text). Deleting is soft: `deleted_at`.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, Timestamps, enum, fk
from .vocab import CLIENT_SAFE_STATUS


class Attachment(Timestamps, Base):
    __tablename__ = "attachments"
    __table_args__ = (
        sa.CheckConstraint(
            "(CASE WHEN lead_id IS NULL THEN 0 ELSE 1 END) + "
            "(CASE WHEN audit_id IS NULL THEN 0 ELSE 1 END) + "
            "(CASE WHEN proposal_id IS NULL THEN 0 ELSE 1 END) + "
            "(CASE WHEN contract_id IS NULL THEN 0 ELSE 1 END) = 1",
            name="one_owner",
        ),
        sa.CheckConstraint("size_bytes >= 0", name="size_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int | None] = fk("leads.id")
    audit_id: Mapped[int | None] = fk("audits.id")
    proposal_id: Mapped[int | None] = fk("proposals.id")
    contract_id: Mapped[int | None] = fk("contracts.id")
    filename: Mapped[str] = mapped_column(sa.String(255), nullable=False)  # cleaned, for downloads
    content_type: Mapped[str] = mapped_column(sa.String(120), nullable=False)  # sniffed from the bytes
    size_bytes: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)
    sha256: Mapped[str] = mapped_column(sa.String(64), nullable=False, index=True)
    storage_key: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    uploaded_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), nullable=False, index=True)
    client_safe_status: Mapped[str] = mapped_column(
        enum("attachment_client_safe_status", CLIENT_SAFE_STATUS), nullable=False, default="none"
    )
    deleted_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
    deleted_by_id: Mapped[int | None] = fk("users.id", index=False)

    uploaded_by = relationship("User", foreign_keys=[uploaded_by_id])
    deleted_by = relationship("User", foreign_keys=[deleted_by_id])

    @property
    def owner_kind(self) -> str:
        for kind in ("lead", "audit", "proposal", "contract"):
            if getattr(self, f"{kind}_id") is not None:
                return kind
        return "lead"

    def __str__(self) -> str:
        return self.filename
