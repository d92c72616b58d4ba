#!/usr/bin/env python
"""Time the proposal PDF (zarts.portal.pdf_views.proposal_pdf: the portal's view model printed by
WeasyPrint) against its target: ≤ 500 ms per proposal.

    python bench/pdf_bench.py                 # a scratch SQLite file, 30 prints
    python bench/pdf_bench.py --requests 100

The proposal is built through the domain by the tests' journey (tests/builders.py: audit, evidence,
draft, approvals, send, accept), with 30 scope items and long texts: three to four A4 pages.

What is timed: one proposal's PDF, from loading its view model to the PDF's bytes, in-process (an
app context, as the portal route and the mail job run it), and the portal route itself
(GET /portal/proposals/<id>/pdf as the client contact, through the test client). The first print of
a process is reported apart ("cold": fonts and WeasyPrint's stylesheets load once). Results: a table
on stdout and a run appended to bench/results/<YYYY-MM-DD>.json (name "pdf").
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

TARGET_MS = 500


def _stats(samples: list[float]) -> dict:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered), 1),
        "p95_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))], 1),
        "max_ms": round(ordered[-1], 1),
        "n": len(ordered),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--note", default="")
    args = parser.parse_args()

    from tests.builders import Journey, Make
    from zarts import create_app
    from zarts.extensions import db
    from zarts.models import Proposal
    from zarts.portal.pdf_views import proposal_pdf

    scratch = tempfile.mkdtemp(prefix="zarts-pdf-bench-")
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{scratch}/bench.db",
            "WTF_CSRF_ENABLED": False,
            "ATTACHMENT_FOLDER": f"{scratch}/files",
        }
    )
    with app.app_context():
        db.create_all()
        make = Make()
        journey = Journey(make)

        def accepted(**fields):
            lead = make.lead(
                owner=make.user("growth_ops"),
                client_id=make.client().id,
                contact_email=f"buyer{make.client().id}@northwind.test",
                contact_name="Dana Buyer",
            )
            journey.to(lead, "proposal")
            proposal = journey.draft(lead, **fields)
            journey.approve_all(proposal)
            journey.send(proposal)
            journey.to(lead, "accepted")
            db.session.commit()
            return proposal, journey.contact(lead)

        kinds = ("included", "excluded", "add_on", "assumption", "dependency")
        items = [
            {
                "kind": kinds[n % 5],
                "title": f"Deliverable {n}: landing pages, tracking and reporting",
                "description": "Written for the client, " * 12,
                **({"price_cents": 50000} if n % 5 == 2 else {}),
            }
            for n in range(30)
        ]
        typical, contact = accepted(title="Growth plan for spring")  # the journey's 6 scope items: 1 page
        long, _ = accepted(title="Growth plan, long", summary="A three-month plan. " * 40, items=items)
        proposal = typical
        pid, login_id = proposal.id, contact.get_id()

        started = time.perf_counter()
        size = len(proposal_pdf(db.session, proposal))
        cold = (time.perf_counter() - started) * 1000
        timed = {}
        for name, pid_ in (("typical", typical.id), ("long (30 items, 5 pages)", long.id)):
            timed[name] = []
            for _ in range(args.requests):
                db.session.expire_all()
                started = time.perf_counter()
                proposal_pdf(db.session, db.session.get(Proposal, pid_))
                timed[name].append((time.perf_counter() - started) * 1000)

    client = app.test_client()
    with client.session_transaction() as sess:
        sess["_user_id"], sess["_fresh"] = login_id, True
    routed = []
    for _ in range(args.requests):
        started = time.perf_counter()
        resp = client.get(f"/portal/proposals/{pid}/pdf")
        routed.append((time.perf_counter() - started) * 1000)
        assert resp.status_code == 200 and resp.data.startswith(b"%PDF-"), resp.status_code
    results = [{"what": f"proposal_pdf, {name}", **_stats(samples)} for name, samples in timed.items()]
    results.append({"what": "GET /portal/proposals/<id>/pdf, typical", **_stats(routed)})
    load = os.getloadavg()[0]
    print(f"proposal #{pid}: {size:,} bytes; cold first print {cold:.0f} ms; load average {load:.1f}")
    for r in results:
        print(f"  {r['what']:44} p50 {r['p50_ms']:6.1f}  p95 {r['p95_ms']:6.1f}  max {r['max_ms']:6.1f} ms")
    worst = max(r["p95_ms"] for r in results if "typical" in r["what"])
    print(
        f"worst p95 of a typical proposal {worst} ms (target {TARGET_MS} ms): {'met' if worst <= TARGET_MS else 'NOT met'}"
    )

    out_dir = os.path.join(ROOT, "bench", "results")
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, f"{datetime.now(UTC).date().isoformat()}.json")
    runs = []
    if os.path.exists(path):
        with open(path) as f:
            runs = json.load(f).get("runs", [])
    runs.append(
        {
            "name": "pdf",
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "bytes": size,
            "cold_ms": round(cold, 1),
            "load_average": round(load, 2),
            "note": args.note,
            "results": results,
            "worst_p95_ms": worst,
        }
    )
    with open(path, "w") as f:
        json.dump({"runs": runs}, f, indent=2)
    print(f"appended to {os.path.relpath(path, ROOT)}")
    return 0 if worst <= TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
