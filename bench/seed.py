#!/usr/bin/env python
"""Fill a database with N leads and every row that goes with them, at realistic ratios.

    python bench/seed.py --database-url postgresql+psycopg://root@127.0.0.1:5432/zarts_bench --leads 1000000
    python bench/seed.py --database-url sqlite:///bench/data/bench.db --leads 100000

The code lives in bench/seeding/ (one module per part of what it seeds; its __init__ explains how it
works). This file is the command, and what other benches import (`from seed import company_of, ...`).
"""

from __future__ import annotations

import sys

from seeding.cli import main
from seeding.common import CO_A, company_of, contact_of, service_of

__all__ = ["CO_A", "company_of", "contact_of", "main", "service_of"]

if __name__ == "__main__":
    sys.exit(main())
