"""Staff users, client contacts and clients."""

from __future__ import annotations

import random

from zarts.models import keys

from .common import DELIVERY_ID, N_STAFF, STAFF, company_of, contact_of
from .plan import Plan


def gen_users(plan: Plan, pw_hash: str):
    cols = (
        "id",
        "email",
        "name",
        "role",
        "client_id",
        "password_hash",
        "active",
        "session_token",
        "last_login_at",
        "created_at",
        "updated_at",
    )
    rng = random.Random(f"{plan.seed}:users")
    c = plan.clock

    def rows():
        start = c.ts(c.now - 1200 * 86400)
        for uid, email, name, role in STAFF:
            yield (
                uid,
                email,
                name,
                role,
                None,
                pw_hash,
                1,
                f"{rng.getrandbits(128):032x}",
                c.ts(c.now - rng.randint(0, 30 * 86400)),
                start,
                start,
            )
        for k in range(1, plan.n_clients + 1):
            lead = plan.client_lead[k]
            name, _ = contact_of(lead)
            t = c.ts(min(c.now, plan.t1[lead] + 86400))
            yield (
                N_STAFF + k,
                f"client{k}@bench.test",
                name,
                "client",
                k,
                pw_hash,
                1,
                f"{rng.getrandbits(128):032x}",
                None,
                t,
                t,
            )

    return cols, rows()


def gen_clients(plan: Plan):
    cols = (
        "id",
        "name",
        "status",
        "owner_id",
        "report_cadence",
        "notes",
        "version",
        "created_at",
        "updated_at",
        "name_key",
        "domain",
    )
    rng = random.Random(f"{plan.seed}:clients")
    c = plan.clock

    def rows():
        for k in range(1, plan.n_clients + 1):
            lead = plan.client_lead[k]
            age = c.now - plan.t1[lead]
            status = (
                "onboarding"
                if age < 45 * 86400
                else rng.choice(("active", "active", "active", "paused", "churned"))
            )
            t = plan.t1[lead]
            yield (
                k,
                company_of(lead),
                status,
                DELIVERY_ID if rng.random() < 0.5 else plan.owner[lead],
                "weekly" if rng.random() < 0.2 else "monthly",
                None,
                1,
                c.ts(t),
                c.ts(min(c.now, t + rng.randint(0, 60) * 86400)),
                # as the zarts.models.keys listener sets them: the web domain from the contact's email
                keys.company_key(company_of(lead)),
                keys.domain_of(contact_of(lead)[1]),
            )

    return cols, rows()
