"""Read models shared by pages and jobs: figures and views built from the tables, with no writes.

A page and a job that show the same thing (the dashboard and its snapshot job) import it from here,
so no job imports a web package (docs/architecture.md).
"""
