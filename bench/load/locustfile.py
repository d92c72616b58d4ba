"""Mixed staff and portal traffic for a bounded load run (see bench/load/README.md).

Staff read the board, lead pages and their HTMX fragments, tasks, approvals, the dashboard, outputs
and the admin, and now and then save a lead's next action. Client contacts read their portal pages
and now and then write a message. Every simulated user signs in through the real form, from its own
address (X-Forwarded-For, with the app's TRUSTED_PROXIES=1), so the sign-in limits are in play too.
Any answer other than 2xx/3xx counts as an error.
"""

from __future__ import annotations

import itertools
import os
import random
import re
from datetime import date, timedelta

from locust import HttpUser, between, task

PASSWORD = os.environ.get("LOAD_PASSWORD", "demo-password-2026")
STAFF = (
    "admin@zarts.test",
    "ops@zarts.test",
    "ops2@zarts.test",
    "approver@zarts.test",
    "delivery@zarts.test",
)
CLIENTS = os.environ.get("LOAD_CLIENTS", "kira@atlas.example,paul@meridian.example,olivia@greenleaf.example")
OUTPUTS = [
    "qualified-opportunity",
    "discovery-notes",
    "audit-proof",
    "proposal-draft",
    "approval-state",
    "contract-handoff",
    "onboarding-checklist",
    "won-lost-reason",
]
_addresses = itertools.count(10)

CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|"X-CSRFToken": "([^"]+)"')


class SignedIn(HttpUser):
    abstract = True
    wait_time = between(0.2, 1.0)
    accounts: tuple[str, ...] = ()
    turn: itertools.count  # per class: users spread evenly over its accounts

    def on_start(self):
        n = next(_addresses)
        self.client.headers["X-Forwarded-For"] = f"10.20.{n // 250}.{n % 250 + 1}"
        # At most 5 users per account sign in per minute: the per-account sign-in limit.
        self.email = self.accounts[next(self.turn) % len(self.accounts)]
        page = self.client.get("/login", name="/login").text
        with self.client.post(
            "/login",
            data={"email": self.email, "password": PASSWORD, "csrf_token": self.token(page)},
            name="POST /login",
            catch_response=True,
        ) as resp:
            if "/login" in resp.url:
                resp.failure(f"sign-in failed for {self.email}")

    @staticmethod
    def token(html: str) -> str:
        m = CSRF.search(html)
        return next(g for g in m.groups() if g) if m else ""


class Staff(SignedIn):
    weight = 3
    accounts = STAFF
    turn = itertools.count()

    def on_start(self):
        super().on_start()
        board = self.client.get("/workspace/", name="/workspace/").text
        self.leads = sorted({int(i) for i in re.findall(r"/workspace/leads/(\d+)", board)}) or [1]
        self.csrf = self.token(board)

    @task(5)
    def board(self):
        self.client.get("/workspace/", name="/workspace/")

    @task(6)
    def lead(self):
        self.client.get(f"/workspace/leads/{random.choice(self.leads)}", name="/workspace/leads/[id]")

    @task(3)
    def card(self):
        self.client.get(
            f"/workspace/leads/{random.choice(self.leads)}/card",
            name="/workspace/leads/[id]/card",
            headers={"HX-Request": "true"},
        )

    @task(2)
    def my_tasks(self):
        self.client.get("/workspace/tasks", name="/workspace/tasks")

    @task(1)
    def approvals(self):
        if self.email in ("admin@zarts.test", "approver@zarts.test"):  # the approvals queue is theirs
            self.client.get("/workspace/approvals", name="/workspace/approvals")

    @task(1)
    def dashboard(self):
        self.client.get("/workspace/dashboard", name="/workspace/dashboard")

    @task(1)
    def outputs(self):
        self.client.get(f"/outputs/{random.choice(OUTPUTS)}", name="/outputs/[slug]")

    @task(1)
    def admin_list(self):
        table = "projects" if self.email == "delivery@zarts.test" else "leads"  # a table of the role
        self.client.get(f"/admin/{table}/", name="/admin/[table]/")

    @task(1)
    def save_next_action(self):
        if self.email in ("approver@zarts.test", "delivery@zarts.test"):
            return  # only growth ops (and admins) set next actions
        lead = random.choice(self.leads)
        due = (date.today() + timedelta(days=random.randint(1, 20))).isoformat()
        with self.client.post(
            f"/workspace/leads/{lead}/next-action",
            name="POST /workspace/leads/[id]/next-action",
            data={
                "next_action": f"Follow up {random.randint(1, 999)}",
                "next_action_due": due,
                "csrf_token": self.csrf,
            },
            catch_response=True,
        ) as resp:
            # Refusals in words are not errors: 403 (a role that may not), 409 (two users saved the same
            # lead at the same moment: optimistic locking refuses the second).
            if resp.status_code in (200, 403, 409):
                resp.success()


class Client(SignedIn):
    weight = 1
    accounts = tuple(CLIENTS.split(","))
    turn = itertools.count()

    def on_start(self):
        super().on_start()
        home = self.client.get("/portal/", name="/portal/").text
        self.csrf = self.token(home)
        page = self.client.get("/portal/proposals", name="/portal/proposals").text
        self.proposals = sorted({int(i) for i in re.findall(r"/portal/proposals/(\d+)", page)})

    @task(4)
    def home(self):
        self.client.get("/portal/", name="/portal/")

    @task(3)
    def proposal(self):
        if self.proposals:
            self.client.get(
                f"/portal/proposals/{random.choice(self.proposals)}", name="/portal/proposals/[id]"
            )

    @task(2)
    def checklist(self):
        self.client.get("/portal/checklist", name="/portal/checklist")

    @task(2)
    def messages(self):
        self.client.get("/portal/messages", name="/portal/messages")

    @task(1)
    def reports(self):
        self.client.get("/portal/reports", name="/portal/reports")

    @task(1)
    def write(self):
        self.client.post(
            "/portal/messages",
            name="POST /portal/messages",
            headers={"HX-Request": "true"},
            data={"body": f"Quick question #{random.randint(1, 999)}", "csrf_token": self.csrf},
        )
