"""Fill a database with N leads and every row that goes with them, at realistic ratios.

    python bench/seed.py --database-url postgresql+psycopg://root@127.0.0.1:5432/zarts_bench --leads 1000000
    python bench/seed.py --database-url sqlite:///bench/data/bench.db --leads 100000

The schema is dropped and re-created from the models (Base.metadata); the data is bulk loaded
(PostgreSQL: COPY; SQLite: executemany in big transactions) with explicit ids, so foreign keys are
computed, never looked up. Generation is deterministic for a given --seed and --today.

How it works
  1. plan: one pass over the leads decides each lead's structure (stage, dates, owner, how many
     proposals, which audit/contract/project/client ids it gets). Compact arrays, no row data.
  2. per table, a generator walks the plan and yields rows, using its own random.Random stream for
     the attribute values; values shared by several tables (company name, contact email, proposal
     items, note status, ...) are pure functions of an id, so every table agrees.
  3. PostgreSQL: foreign keys, unique constraints and secondary indexes are dropped after create_all,
     the tables are loaded with COPY ... FREEZE, then indexes are built and the foreign keys are
     re-added (which validates every reference), sequences are set past max(id), ANALYZE.
     SQLite: secondary indexes are dropped, rows inserted with executemany, indexes re-created,
     PRAGMA foreign_key_check, ANALYZE. CHECK constraints stay on during the load in both.

At the end the ids a benchmark needs (the lead with exactly 200 events, a client contact with a
sent proposal, a pending approval, ...) are printed and written to bench/data/meta.json.

Modules (bench/seeding/): common (shape of the data, text pools, id-hash helpers), plan (the Plan),
one module per part of the business for the row generators -- people (users, clients), pipeline
(leads, events, tasks, audits), sales (proposals, items, messages, contracts, approvals), delivery
(projects, connectors, reports, notes) -- tables (load order, column check), load (the PostgreSQL and
SQLite loaders) and cli (main, meta.json). `python bench/seed.py` and `python -m seeding` (from bench/)
run cli.main.
"""

import os
import sys

# Run from bench/ (python bench/seed.py, python -m seeding): the app package lives one level up.
_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)
