import gc

from zarts import create_app

app = create_app()

# What the app built at start-up (routes, templates, models, admin views: ~150k objects) lives as long
# as the process. Frozen, it is left out of the cyclic collector's full passes, which otherwise walk
# it every few dozen requests and stall that request for ~70 ms (bench/README.md). And a young
# collection every 20,000 net allocations instead of every 700: a page makes tens of thousands of
# short-lived objects that reference counting frees anyway; the collector's share of a page's time
# drops from ~6 % to ~3 % (bench/README.md).
gc.freeze()
gc.set_threshold(20_000, 10, 10)
