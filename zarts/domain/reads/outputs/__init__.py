"""The guide's outputs: "useful sales operations show what was promised, what changed, what closed,
and what delivery must inherit."

Pure reads (nothing here changes state):
- `page(session, slug, filters, after=, limit=)` / `detail(session, slug, lead_id)`: the eight outputs
  (qualified opportunity … won or lost reason), each row carrying source, owner, stage, due date,
  scope state, client-safe status and next action, then the output's own columns;
- `packet(session, lead_id, copy="staff"|"client")`: the handoff packet of a won deal.
"""

from .catalog import COMMON_COLUMNS, OUTPUTS, PRESERVED, Output, part_state  # noqa: F401
from .listing import (  # noqa: F401
    DATE_FIELDS,
    MAX_PAGE,
    PAGE_SIZE,
    SORTS,
    Detail,
    Filters,
    Page,
    decode_cursor,
    detail,
    encode_cursor,
    page,
)
from .packet import COPIES, packet, stored_packet_key  # noqa: F401
