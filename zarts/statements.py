"""Prepared statements that outlive a request (PostgreSQL).

psycopg prepares a statement on the server the fifth time a connection runs it: PostgreSQL then
parses it once, and once it has seen five executions it may keep one plan for all of them (a generic
plan, when that plan costs no more than the ones made for each execution's values). But psycopg
forgets every prepared statement of a connection when the connection rolls back (a rolled-back DDL
may have changed what they refer to), and Flask-SQLAlchemy ends every request with a rollback, so
nothing a page ran was ever prepared. (The job workers commit, so theirs were.)

So a request whose transaction only read is ended with COMMIT instead: for a transaction that wrote
nothing the two are the same, and the connection keeps its prepared statements for the next
request: about a fifth less PostgreSQL CPU per request in the benchmark's mix (README, Performance).
"Only read" is decided on the SQL that reached the database: every statement of the transaction was
a SELECT (a write, a savepoint, a SET, a WITH ... anything else ends it with a rollback, as before;
the app calls no function that writes from a SELECT). Changes the session holds but never sent are
dropped, as a rollback drops them.

A statement the app writes with its values in the SQL (no parameters: psycopg would never prepare
it) can ask to be prepared at once with `PREPARE_NOW`: the board's cards and counts, whose planning
was half their time.

A statement whose best plan depends on what the user typed (the admin's searches and column
filters, its relationship look-ups: a rare word wants the trigram index, a common one the list's
order) is never prepared: it carries the execution option `PLAN_EACH_TIME` and is planned for its
own values every time, as before.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

WROTE = "zarts.wrote"  # Connection.info: a statement other than SELECT ran in this transaction
CONNECTION = "zarts.connection"  # Session.info: the connection of the session's transaction
PLAN_EACH_TIME = {"zarts_prepare": False}  # execution options of a statement never to prepare
PREPARE_NOW = {"zarts_prepare": True}  # ... of one to prepare on its first run, parameters or not


def install(engine) -> None:
    if engine.dialect.name != "postgresql":
        return

    @sa.event.listens_for(engine, "before_cursor_execute")
    def _note_writes(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip()[:6].upper() != "SELECT":
            conn.info[WROTE] = True

    @sa.event.listens_for(engine, "do_execute")
    def _execute(cursor, statement, parameters, context):
        prepare = context.execution_options.get("zarts_prepare")
        if prepare is None:
            return None  # psycopg's own rule: prepared the fifth time this connection runs it
        cursor.execute(statement, parameters, prepare=prepare)
        return True

    @sa.event.listens_for(engine, "do_execute_no_params")
    def _execute_no_params(cursor, statement, context):
        if context.execution_options.get("zarts_prepare") is not True:
            return None
        cursor.execute(statement, prepare=True)
        return True


@sa.event.listens_for(Session, "after_begin")
def _remember_connection(session, transaction, connection):
    if connection.dialect.name == "postgresql" and transaction.parent is None:
        connection.info[WROTE] = False
        session.info[CONNECTION] = connection


def only_read(session: Session) -> bool:
    """True if the session's transaction (PostgreSQL) has sent nothing but SELECTs so far."""
    connection = session.info.get(CONNECTION)
    return connection is not None and not connection.closed and not connection.info.get(WROTE, True)


def end_read_only(session: Session) -> bool:
    """Commit the session's transaction if all it ran were SELECTs (PostgreSQL). True if it did."""
    read_only = only_read(session) and session.in_transaction() and not session.in_nested_transaction()
    session.info.pop(CONNECTION, None)
    if not read_only:
        return False
    session.expunge_all()  # what the session holds unsent is dropped, as a rollback would drop it
    session.commit()
    return True
