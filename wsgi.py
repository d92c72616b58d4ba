import gc

from zarts import create_app

app = create_app()

# What the app built at start-up (routes, templates, models, admin views: ~150k objects) lives as long
# as the process. Frozen, it is left out of the cyclic collector's full passes, which otherwise walk
# it every few dozen requests and stall that request for ~70 ms (bench/README.md).
gc.freeze()
