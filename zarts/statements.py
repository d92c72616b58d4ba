"""How a request uses its PostgreSQL connection: prepared statements that outlive it, reads without a
transaction, and a liveness check without a round trip.

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

Reads without a transaction. A request that only reads (most pages) used to pay three round trips
beside its own statements: the pool's ping, BEGIN and the COMMIT above. Now a PostgreSQL connection
is checked out in autocommit: a plain SELECT runs on its own, as it would inside a READ COMMITTED
transaction anyway (each statement there takes its own snapshot too). The first statement that is not
a plain read (an INSERT, UPDATE or DELETE, DDL, a SAVEPOINT, SELECT ... FOR UPDATE, any text() SQL
such as a SET LOCAL or set_config, a server-side cursor) switches the connection back before it
runs, so it and everything after it until commit or rollback are one transaction, as before: a
domain function's writes are all or nothing, and its row locks last until its commit. A connection
that asked for an isolation level of its own (a migration's autocommit block) is left alone.

Liveness without a ping. Instead of a round trip before every checkout (`pool_pre_ping`), the
connection is asked locally whether the server can have gone: PostgreSQL tells a client it closes
(a restart, pg_terminate_backend) with a message and the end of the socket, so an idle connection
with something to read, one psycopg found broken, or one unused for IDLE_PING_SECONDS (a network
that dropped it silently) is pinged, and replaced if the ping fails (with every connection pooled
before it, as SQLAlchemy's own pre-ping does). tests/faults/test_postgres_restart.py restarts the
server and kills connections mid-request.
"""

from __future__ import annotations

import re
import select
import time

import sqlalchemy as sa
from psycopg import ServerCursor
from psycopg.pq import TransactionStatus
from sqlalchemy.orm import Session

WROTE = "zarts.wrote"  # Connection.info: a statement other than SELECT ran in this transaction
CONNECTION = "zarts.connection"  # Session.info: the connection of the session's transaction
PLAN_EACH_TIME = {"zarts_prepare": False}  # execution options of a statement never to prepare
PREPARE_NOW = {"zarts_prepare": True}  # ... of one to prepare on its first run, parameters or not

# ConnectionRecord.info: in autocommit until a statement needs a transaction
READS_ALONE = "zarts.reads_alone"
CHECKED_IN = "zarts.checked_in"  # ConnectionRecord.info: when the connection went back to the pool
IDLE_PING_SECONDS = 30
_PLAIN_READ = "_zarts_plain_read"  # on a Compiled: may it run outside a transaction (plain_read)
# A SELECT that locks rows or changes the session (SQLAlchemy renders FOR UPDATE / SHARE at the end)
# runs in a transaction whatever its form. Matching more than needed costs one BEGIN, never a lost lock.
_NEEDS_TRANSACTION = re.compile(
    r"\bFOR\s+(?:NO\s+KEY\s+)?(?:UPDATE|SHARE|KEY\s+SHARE)\b|set_config|nextval|setval|advisory|pg_notify",
    re.IGNORECASE,
)


def plain_read(statement: str, context, cursor) -> bool:
    """A statement that may run outside a transaction: a SELECT (or a UNION of them) SQLAlchemy
    compiled, without row locks or functions that change the session, on a client-side cursor."""
    compiled = context.compiled
    if compiled is None or isinstance(cursor, ServerCursor) or context.executemany:
        return False
    # Decided once per compiled statement (SQLAlchemy keeps and reuses them): its SQL only varies
    # by the number of values in an IN list.
    known = compiled.__dict__.get(_PLAIN_READ)
    if known is None:
        known = compiled.__dict__[_PLAIN_READ] = (
            isinstance(compiled.statement, (sa.sql.Select, sa.sql.CompoundSelect))  # not text(), DML, DDL
            and getattr(compiled.statement, "_for_update_arg", None) is None
            and not _NEEDS_TRANSACTION.search(statement)
        )
    return known


def install(engine) -> None:
    if engine.dialect.name != "postgresql":
        return

    @sa.event.listens_for(engine, "checkout")
    def _reads_alone(dbapi_conn, record, proxy):
        if _may_be_gone(dbapi_conn, record):
            try:
                engine.dialect.do_ping(dbapi_conn)
            except Exception as exc:
                # Gone: this connection and every one pooled before it are replaced (the pool retries).
                raise sa.exc.InvalidatePoolError(f"connection lost: {exc}") from exc
        if not dbapi_conn.autocommit and dbapi_conn.info.transaction_status == TransactionStatus.IDLE:
            dbapi_conn.autocommit = True
        record.info[READS_ALONE] = dbapi_conn.autocommit

    @sa.event.listens_for(engine, "checkin")
    def _note_checkin(dbapi_conn, record):
        record.info[CHECKED_IN] = time.monotonic()

    @sa.event.listens_for(engine, "before_cursor_execute")
    def _note_writes(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip()[:6].upper() != "SELECT":
            conn.info[WROTE] = True
        record = conn.connection._connection_record
        if record is not None and record.info.get(READS_ALONE) and not plain_read(statement, context, cursor):
            record.info[READS_ALONE] = False
            if context.execution_options.get("isolation_level") is None and cursor.connection.autocommit:
                cursor.connection.autocommit = False  # psycopg sends BEGIN before this statement

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


def _may_be_gone(dbapi_conn, record) -> bool:
    """True if the server may have closed this pooled connection (then it is pinged)."""
    if dbapi_conn.closed or dbapi_conn.broken:
        return True
    if time.monotonic() - record.info.get(CHECKED_IN, time.monotonic()) > IDLE_PING_SECONDS:
        return True
    if dbapi_conn.info.transaction_status != TransactionStatus.IDLE:
        return True
    poller = select.poll()
    poller.register(dbapi_conn.fileno(), select.POLLIN | select.POLLERR | select.POLLHUP)
    return bool(poller.poll(0))  # an idle connection has nothing to read unless the server spoke


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
