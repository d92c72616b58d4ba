from zarts import create_app
from zarts.runtime import WEB_THRESHOLD, collect_after_response, freeze_start_up

app = create_app()
# Young objects are collected after each response is sent, not in the middle of a page
# (zarts/runtime.py); what start-up built is frozen out of the collector's passes.
app.wsgi_app = collect_after_response(app.wsgi_app)
freeze_start_up(WEB_THRESHOLD)
