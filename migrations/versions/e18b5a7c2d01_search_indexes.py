"""global search across leads, clients, projects, tasks and messages

GIN trigram indexes (pg_trgm, without GIN's fast update, as ix_leads_search_trgm) on the names the
workspace's global search matches besides a lead's search document (which already has its index):
clients.name, projects.name, tasks.title and messages.subject. They serve ILIKE '%word%' and the
typo-tolerant word similarity (`<%`) of zarts.workspace.search; the models declare the same indexes.

PostgreSQL only (SQLite searches with LIKE). Built CONCURRENTLY, outside the migration's
transaction, so a live database keeps taking writes while they build.

Revision ID: e18b5a7c2d01
Revises: d780e3874a19
Create Date: 2026-12-04 19:10:00

"""

from alembic import op


# revision identifiers, used by Alembic.
revision = "e18b5a7c2d01"
down_revision = "d780e3874a19"
branch_labels = None
depends_on = None

# (index, table, column)
TRIGRAM = [
    ("ix_clients_name_trgm", "clients", "name"),
    ("ix_projects_name_trgm", "projects", "name"),
    ("ix_tasks_title_trgm", "tasks", "title"),
    ("ix_messages_subject_trgm", "messages", "subject"),
]


def _postgresql() -> bool:
    return op.get_context().dialect.name == "postgresql"


def upgrade():
    if not _postgresql():
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    with op.get_context().autocommit_block():
        for name, table, column in TRIGRAM:
            op.create_index(
                name,
                table,
                [column],
                unique=False,
                postgresql_concurrently=True,
                if_not_exists=True,
                postgresql_using="gin",
                postgresql_ops={column: "gin_trgm_ops"},
                postgresql_with={"fastupdate": "off"},
            )


def downgrade():
    if not _postgresql():
        return
    with op.get_context().autocommit_block():
        for name, table, _ in reversed(TRIGRAM):
            op.drop_index(name, table_name=table, postgresql_concurrently=True, if_exists=True)
    # pg_trgm stays: dropping an extension other objects may use is the administrator's call.
