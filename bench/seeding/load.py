"""Loaders: PostgreSQL (COPY into stripped tables, then rebuild) and SQLite (executemany)."""

from __future__ import annotations

import os
import time
import warnings

import sqlalchemy as sa

from zarts.models import Base


# ---------------------------------------------------------------------------------------------
# Loaders
# ---------------------------------------------------------------------------------------------
def _psycopg_url(url: sa.engine.URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


class PostgresLoader:
    """COPY into tables stripped of FKs, unique constraints and secondary indexes, then rebuild them.

    With jobs > 1, tables are loaded (and indexes built, tables analysed) on that many connections at
    once, largest first: on a 2-core machine the server side of COPY is the bottleneck, not Python.
    """

    # Rough cost order (largest first) for scheduling the parallel load.
    ORDER = (
        "events",
        "tasks",
        "leads",
        "proposals",
        "proposal_items",
        "messages",
        "approvals",
        "audits",
        "report_notes",
        "reports",
        "contracts",
        "connectors",
        "projects",
        "users",
        "clients",
    )

    def __init__(self, url: str, admin_url: str, recreate: bool, jobs: int):
        import psycopg

        self.psycopg = psycopg
        self.url = sa.engine.make_url(url)
        self.admin_url = sa.engine.make_url(admin_url)
        self.recreate = recreate
        self.jobs = max(1, jobs)
        self.deferred_indexes: list[tuple[str, str]] = []
        self.deferred_uniques: list[tuple[str, str]] = []
        self.deferred_fks: list[tuple[str, str]] = []
        self.index_statistics: list[tuple[str, str]] = []

    def connect(self, autocommit: bool = False):
        conn = self.psycopg.connect(_psycopg_url(self.url), autocommit=autocommit)
        conn.execute("SET synchronous_commit = off")
        conn.execute(f"SET maintenance_work_mem = '{'1GB' if self.jobs == 1 else '512MB'}'")
        conn.execute(f"SET max_parallel_maintenance_workers = {2 if self.jobs == 1 else 0}")
        if not autocommit:
            conn.commit()
        return conn

    def prepare(self) -> None:
        name = self.url.database
        with self.psycopg.connect(_psycopg_url(self.admin_url), autocommit=True) as admin:
            exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
            if exists and self.recreate:
                admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
                exists = None
            if not exists:
                admin.execute(f'CREATE DATABASE "{name}"')
        engine = sa.create_engine(self.url)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", sa.exc.SAWarning)  # the known FK cycle (proposals/projects/...)
            Base.metadata.drop_all(engine)
            Base.metadata.create_all(engine)
        engine.dispose()
        self.tables = list(Base.metadata.tables)
        with self.connect() as conn:
            cur = conn.cursor()
            # Foreign keys and unique constraints out during the load, back (validated) afterwards.
            cur.execute("""
                SELECT c.conrelid::regclass::text, c.conname, c.contype, pg_get_constraintdef(c.oid)
                FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
                WHERE n.nspname = current_schema() AND c.contype IN ('f', 'u')
                ORDER BY c.contype, c.conname""")
            for table, conname, contype, definition in cur.fetchall():
                stmt = f'ALTER TABLE {table} ADD CONSTRAINT "{conname}" {definition}'
                (self.deferred_fks if contype == "f" else self.deferred_uniques).append((table, stmt))
                cur.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{conname}"')
            cur.execute("""
                SELECT i.indrelid::regclass::text, i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
                FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
                JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = current_schema() AND NOT i.indisprimary
                  AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)""")
            indexes = cur.fetchall()
            # Statistics targets set on index expressions (ix_leads_search_trgm) go with the index.
            cur.execute("""
                SELECT i.indrelid::regclass::text, a.attrelid::regclass::text, a.attnum, a.attstattarget
                FROM pg_attribute a JOIN pg_index i ON i.indexrelid = a.attrelid
                JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = current_schema() AND a.attstattarget > 0""")
            for table, index, attnum, target in cur.fetchall():
                self.index_statistics.append(
                    (table, f"ALTER INDEX {index} ALTER COLUMN {attnum} SET STATISTICS {target}")
                )
            for table, index, definition in indexes:
                self.deferred_indexes.append((table, definition))
                cur.execute(f"DROP INDEX {index}")
            conn.commit()

    def load(self, table: str, cols, rows) -> int:
        n = 0
        with self.connect() as conn:
            with conn.cursor() as cur:
                cur.execute(f"TRUNCATE {table}")  # makes COPY FREEZE legal (same transaction)
                with cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN WITH (FREEZE)") as cp:
                    write = cp.write_row
                    for row in rows:
                        write(row)
                        n += 1
            conn.commit()
        return n

    def _rank(self, table: str) -> int:
        return self.ORDER.index(table) if table in self.ORDER else len(self.ORDER)

    def _run_statements(self, stmts: list[tuple[str, str]]) -> None:
        """Run (table, sql) statements on `jobs` connections, biggest tables first."""
        import queue
        import threading

        todo: queue.Queue = queue.Queue()
        for item in sorted(stmts, key=lambda ts: self._rank(ts[0])):
            todo.put(item)
        errors = []

        def worker():
            with self.connect(autocommit=True) as conn:
                while not errors:
                    try:
                        _table, sql = todo.get_nowait()
                    except queue.Empty:
                        return
                    try:
                        conn.execute(sql)
                    except Exception as exc:  # noqa: BLE001 - reported below
                        errors.append((sql, exc))

        threads = [threading.Thread(target=worker) for _ in range(self.jobs)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        if errors:
            sql, exc = errors[0]
            raise SystemExit(f"failed: {sql}\n{exc}")

    def finish(self, timings) -> None:
        t = time.perf_counter()
        self._run_statements(self.deferred_indexes + self.deferred_uniques)
        self._run_statements(self.index_statistics)
        timings.append(
            (
                "indexes + unique constraints",
                len(self.deferred_indexes) + len(self.deferred_uniques),
                time.perf_counter() - t,
            )
        )
        t = time.perf_counter()
        with self.connect(autocommit=True) as conn:
            # One connection: ADD FOREIGN KEY locks both tables, and users/clients refer to each other.
            for _table, stmt in self.deferred_fks:
                conn.execute(stmt)  # validates every existing row
        timings.append(("foreign keys (validated)", len(self.deferred_fks), time.perf_counter() - t))
        t = time.perf_counter()
        with self.connect(autocommit=True) as conn:
            for table in self.tables:
                if "id" not in Base.metadata.tables[table].c:
                    continue  # e.g. search_words (keyed by the word)
                conn.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"COALESCE((SELECT max(id) FROM {table}), 0) + 1, false)"
                )
        timings.append(("sequences (setval)", len(self.tables), time.perf_counter() - t))
        t = time.perf_counter()
        self._run_statements([(table, f"ANALYZE {table}") for table in self.tables])
        timings.append(("ANALYZE", len(self.tables), time.perf_counter() - t))
        with self.connect(autocommit=True) as conn:
            self.size = conn.execute(
                "SELECT pg_size_pretty(pg_database_size(current_database()))"
            ).fetchone()[0]

    def describe(self) -> str:
        return f"PostgreSQL database {self.url.database} ({self.size}), {self.jobs} parallel load job(s)"


class SqliteLoader:
    BATCH = 50_000

    def __init__(self, url: str):
        import sqlite3

        self.sqlite3 = sqlite3
        self.url = sa.engine.make_url(url)
        self.path = os.path.abspath(self.url.database)

    def prepare(self) -> None:
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        for suffix in ("", "-wal", "-shm", "-journal"):
            if os.path.exists(self.path + suffix):
                os.remove(self.path + suffix)
        engine = sa.create_engine(f"sqlite:///{self.path}")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", sa.exc.SAWarning)
            Base.metadata.create_all(engine)
        engine.dispose()
        self.conn = self.sqlite3.connect(self.path, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=OFF")
        self.conn.execute("PRAGMA foreign_keys=OFF")  # checked at the end with foreign_key_check
        self.conn.execute("PRAGMA cache_size=-400000")
        self.conn.execute("PRAGMA temp_store=MEMORY")
        self.deferred = self.conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        ).fetchall()
        for name, _sql in self.deferred:
            self.conn.execute(f'DROP INDEX "{name}"')

    def load(self, table: str, cols, rows) -> int:
        sql = f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
        n = 0
        batch = []
        self.conn.execute("BEGIN")
        for row in rows:
            batch.append(row)
            if len(batch) >= self.BATCH:
                self.conn.executemany(sql, batch)
                n += len(batch)
                batch.clear()
        if batch:
            self.conn.executemany(sql, batch)
            n += len(batch)
        self.conn.execute("COMMIT")
        return n

    def finish(self, timings) -> None:
        t = time.perf_counter()
        for _name, sql in self.deferred:
            self.conn.execute(sql)
        timings.append(("indexes", len(self.deferred), time.perf_counter() - t))
        t = time.perf_counter()
        bad = self.conn.execute("PRAGMA foreign_key_check").fetchmany(10)
        if bad:
            raise SystemExit(f"foreign key violations (first 10): {bad}")
        timings.append(("foreign_key_check", 0, time.perf_counter() - t))
        t = time.perf_counter()
        self.conn.execute("ANALYZE")
        self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        timings.append(("ANALYZE", 0, time.perf_counter() - t))
        self.conn.close()
        # The search's lexicon: PostgreSQL's triggers fill it during COPY; on SQLite only the ORM's
        # listeners do, so fill it from the loaded rows as the migration does.
        from zarts.models.search_words import backfill

        t = time.perf_counter()
        engine = sa.create_engine(self.url)
        try:
            with engine.begin() as conn:
                backfill(conn)
        finally:
            engine.dispose()
        timings.append(("search_words", 0, time.perf_counter() - t))

    def describe(self) -> str:
        return f"SQLite file {self.path} ({os.path.getsize(self.path) / 1e6:.0f} MB)"
