"""The garbage collector in a long-running web or job worker.

What start-up built (routes, templates, models, admin views: ~150k objects) lives as long as the
process: `gc.freeze()` leaves it out of the collector's passes, which otherwise walk it every few
dozen requests and stall that request for ~70 ms.

In a web worker the young objects a request makes are collected after its response is sent, not
during it: a collection in the middle of a page walks every object the page still holds (a board
holds 200 cards and their rows) and took up to 40 ms of one request when the collector ran every
20,000 allocations (1-15 ms, several times a page, at Python's default of 700). After the response,
what the request made is garbage or a few long-lived cache entries: the pass is short, and the
next request does not wait for it. The automatic collector stays on, at 50,000 allocations, for a
request that makes far more than a page does (an export), and every 64th request the middle
generation is collected too, so a cycle that outlived its request is not kept for the process's life.
"""

from __future__ import annotations

import gc
import itertools

from werkzeug.wsgi import ClosingIterator

WEB_THRESHOLD = (50_000, 10, 10)
JOB_THRESHOLD = (20_000, 10, 10)
MIDDLE_EVERY = 64


def freeze_start_up(threshold: tuple[int, int, int]) -> None:
    gc.freeze()
    gc.set_threshold(*threshold)


def collect_after_response(wsgi_app):
    """Wrap a WSGI app so that each response, once sent (closed), is followed by a young collection."""
    served = itertools.count(1)

    def collect():
        gc.collect(1 if next(served) % MIDDLE_EVERY == 0 else 0)

    def app(environ, start_response):
        return ClosingIterator(wsgi_app(environ, start_response), collect)

    return app
