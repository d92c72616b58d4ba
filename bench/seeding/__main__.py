"""`python -m seeding ...` from bench/: the same as `python bench/seed.py ...`."""

import sys

from .cli import main

sys.exit(main())
