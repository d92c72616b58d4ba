"""Read models shared by pages and jobs: figures and views built from the tables, with no writes.

A page and a job that show the same thing (the dashboard and its snapshot job) import it from here,
so no job imports a web package (docs/architecture.md):
- `metrics`: the dashboard's figures (the dashboard page and its snapshot job);
- `outputs`: the guide's eight outputs and the handoff packet (the staff `zarts/outputs` blueprint,
  the handoff job, which freezes the packet).

Every read model shared by more than one room lives here; a query only one page needs stays beside
its blueprint (`workspace/queries.py`, `portal/queries.py`).
"""
