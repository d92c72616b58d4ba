"""API list latency and webhook delivery throughput.

    .venv/bin/python bench/api_bench.py [--leads 100000] [--deliveries 1000] [--db URL]

Leads are bulk-inserted (Core, keys computed) into a fresh database; the API's first list page is
then timed (p50/p95 of 200 calls with a token). Deliveries: one endpoint on a local HTTP server,
N outbox rows run one after another by the job runner (one worker), total seconds.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--leads", type=int, default=100_000)
    ap.add_argument("--deliveries", type=int, default=1000)
    ap.add_argument("--db", default=None)
    args = ap.parse_args()
    import sqlalchemy as sa

    from zarts import create_app
    from zarts.domain import unit
    from zarts.domain.api_tokens import create_token
    from zarts.domain.webhooks import register_endpoint
    from zarts.extensions import db
    from zarts.jobs.runner import execute
    from zarts.models import Event, Lead, Outbox, User, keys, utcnow

    url = args.db or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "RATELIMIT_ENABLED": False,
            "WEBHOOKS_ALLOW_PRIVATE": True,
            "JOBS_RELAY_AFTER_COMMIT": False,
        }
    )
    with app.app_context():
        db.drop_all()
        db.create_all()
        user = User(email="bench@zarts.test", name="Bench", role="admin")
        db.session.add(user)
        db.session.commit()
        now = utcnow()
        for start in range(0, args.leads, 10_000):
            rows = [
                {
                    "title": f"Lead {i}",
                    "company": f"Company {i}",
                    "source": "referral",
                    "service": "seo",
                    "stage": "new",
                    "consent": "unknown",
                    "reactivation_never": False,
                    "version": 1,
                    "owner_id": user.id,
                    "created_at": now,
                    "updated_at": now,
                    "company_key": keys.company_key(f"Company {i}"),
                }
                for i in range(start, min(start + 10_000, args.leads))
            ]
            db.session.execute(sa.insert(Lead), rows)
            db.session.commit()
        with unit(db.session):
            _, token = create_token(db.session, user, "bench")
        client = app.test_client()
        headers = {"Authorization": f"Bearer {token}"}
        times = []
        for i in range(220):
            t = time.perf_counter()
            resp = client.get(
                "/api/v1/leads?limit=100&after=%d" % (i * 100 % max(args.leads - 100, 1)), headers=headers
            )
            times.append((time.perf_counter() - t) * 1000)
            assert resp.status_code == 200
        times = sorted(times[20:])
        print(
            f"API list at {args.leads} leads: p50 {statistics.median(times):.1f} ms, "
            f"p95 {times[int(len(times) * 0.95)]:.1f} ms"
        )

        class Ok(BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers["Content-Length"]))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *a):
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Ok)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        with unit(db.session):
            endpoint, _ = register_endpoint(
                db.session,
                user,
                url=f"http://127.0.0.1:{server.server_port}/",
                event_types=["lead.created"],
                acts_as_id=user.id,
            )
        lead_id = db.session.scalar(sa.select(Lead.id).limit(1))
        event = Event(lead_id=lead_id, kind="created", stage="new", payload={}, created_at=now)
        db.session.add(event)
        db.session.flush()
        ids = []
        for i in range(args.deliveries):
            row = Outbox(
                job="webhook",
                key=f"bench:{i}",
                payload={"endpoint_id": endpoint.id, "event_id": event.id, "delivery": f"bench{i}"},
            )
            db.session.add(row)
            db.session.flush()
            ids.append(row.id)
        db.session.commit()
        t = time.perf_counter()
        results = [execute(i, inline=True) for i in ids]
        took = time.perf_counter() - t
        ok = sum(r.startswith("delivered") for r in results)
        print(f"{ok}/{args.deliveries} webhook deliveries on one worker: {took:.1f} s")
        server.shutdown()


if __name__ == "__main__":
    main()
