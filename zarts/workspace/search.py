"""Global search: leads, clients, projects, tasks and messages in one ranked list, typos forgiven.

The search box of every staff page asks `/workspace/search` as the user types (htmx, the dropdown
fragment); the same URL without htmx is the full results page, which works without JavaScript.

How it finds (a fixed number of statements, whatever the size of the tables):
1. *contains*: every word of the query is in the record (`ILIKE '%word%'`), newest first, at most
   `cap` candidates per kind, all kinds in one UNION ALL. On PostgreSQL each kind's text has a GIN
   trigram index (a lead's is its search document, `Lead.search_document()`, the very expression of
   ix_leads_search_trgm): a rare word is found through the index, a common one walking the newest
   rows until the cap is full. Each statement is planned for its own words (PLAN_EACH_TIME).
2. *typos*, when fewer than FEW records contain the words and a word may be misspelt (letters
   only, 4+ of them): the word is looked up in the lexicon (zarts.models.search_words: the distinct
   words of names and titles, a few thousand rows where the records are millions), on PostgreSQL by
   pg_trgm similarity through its trigram index, on SQLite by LIKE patterns one edit away (a letter
   missing, extra, wrong or two swapped); then the kinds not full yet are searched again as in 1,
   with each word the lexicon lacks replaced by its closest corrections ("nortwind" by "northwind").
   On PostgreSQL step 2 runs under a statement timeout (SET LOCAL, with the similarity threshold):
   cut short, the search shows the exact matches with a note instead of failing.
Then the candidates are ranked here, in Python (exact word, prefix, substring, then how close a
typo is; the record's title counts more than its context line).

Who sees what: staff only (`staff_required`; client contacts get 403 like every workspace page).
Leads, tasks, projects and messages (internal notes included) are what every staff role reads on
the workspace's lead and task pages; clients are listed only to the roles whose admin has the
clients table (zarts.auth.access.ADMIN_TABLES), where a client's page is. Merged leads and clients
(`merged_into_id` set) are left out: their history lives on under the record that absorbed them.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import datetime
from difflib import SequenceMatcher

import sqlalchemy as sa
from flask import current_app, request, url_for
from sqlalchemy.orm import Session

from ..auth.access import ADMIN_TABLES, staff_required
from ..extensions import db
from ..models import Client, Lead, Message, Project, SearchWord, Task
from ..models.vocab import STAGE_LABELS
from ..statements import PLAN_EACH_TIME, only_read
from . import bp, lead_url, task_url
from .common import actor, render, wants_fragment

MIN_CHARS = 3  # fewer letters match too much to rank (and no trigram index helps)
MAX_CHARS = 100
MAX_WORDS = 6
TYPO_MIN = 4  # a word this long may carry one typo
FEW = 3  # fewer exact matches than this: a word may be misspelt, the lexicon is asked
NEAR = 0.1  # corrections kept: the closest and those this much less similar at most
CORRECTIONS = 3  # the lexicon's closest words tried for a misspelt one
SIMILARITY = 0.3  # pg_trgm similarity of a correction to the typed word ("nortwind"/"northwind": 0.58)
TIMEOUT_MS = 250  # the typo search's statement timeout (PostgreSQL; config SEARCH_TIMEOUT_MS)
# What PostgreSQL's planner counts for evaluating one operator, while the search plans (its default
# 0.0025 is an eighth): a text test on a record (ILIKE on the joined name, company, contact and email)
# costs far more than the default says, so walking the newest records until `cap` match looked cheap
# for words that few of them hold ("Cedar Dental": 18,000 leads tested for 8 matches, 22 ms, where
# the trigram index reads the 400 matches in 6 ms). Measured in bench/search_bench.py (docs/performance.md).
OPERATOR_COST = 0.02
_DEFAULT_OPERATOR_COST = "0.0025"
_OPERATOR_COST = "SELECT set_config('cpu_operator_cost', :cost, true)"
SLOW_NOTE = "Showing exact matches only: the search for similar spellings took too long."
DROPDOWN_CAP, PAGE_CAP = 8, 25  # candidates per kind
DROPDOWN_SHOWN, PAGE_SHOWN = 8, 60
KINDS = ("lead", "client", "project", "task", "message")
KIND_LABELS = {"lead": "Lead", "client": "Client", "project": "Project", "task": "Task", "message": "Message"}
# A small preference when two records match as well: the record a user most often looks for first.
KIND_WEIGHT = {"lead": 0.04, "client": 0.05, "project": 0.03, "task": 0.0, "message": -0.02}


@dataclass(frozen=True, slots=True)
class Hit:
    kind: str
    id: int
    title: str
    context: str
    url: str
    score: float
    stamp: datetime | None

    @property
    def label(self) -> str:
        return KIND_LABELS[self.kind]


@dataclass(frozen=True, slots=True)
class Results:
    query: str
    hits: list[Hit]
    message: str | None = None  # instead of results: what to type
    more: bool = False  # more candidates than shown
    note: str | None = None  # with the results: the typo search was cut short


# ---------------------------------------------------------------- query text


def words_of(query: str) -> list[str]:
    return [w for w in query.lower().split() if w][:MAX_WORDS]


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def typo_patterns(word: str) -> list[str]:
    """LIKE patterns (escaped, `_` a wildcard) matching text one edit away from `word`: a letter
    missing, one too many, one wrong, or two neighbours swapped. Only for SQLite: PostgreSQL has
    pg_trgm's similarity."""
    word = word[:24]
    chars = [_like_escape(c) for c in word]
    n = len(chars)
    found = set()
    for i in range(n):
        found.add("".join(chars[:i] + chars[i + 1 :]))  # typed one letter too many
        found.add("".join(chars[:i] + ["_"] + chars[i + 1 :]))  # one wrong letter
        if i < n - 1:
            found.add("".join(chars[:i] + [chars[i + 1], chars[i]] + chars[i + 2 :]))  # two swapped
    for i in range(1, n):
        found.add("".join(chars[:i] + ["_"] + chars[i:]))  # one letter missing
    return sorted(f"%{p}%" for p in found if len(p.replace("\\", "")) >= 3)


# ---------------------------------------------------------------- candidates (SQL)


def _kinds_for(user) -> tuple[str, ...]:
    tables = ADMIN_TABLES.get(user.role)
    sees_clients = tables == "*" or (tables is not None and "clients" in tables)
    return tuple(k for k in KINDS if k != "client" or sees_clients)


@functools.cache
def _text(kind: str):
    """The text a kind is matched on (each has its trigram index on PostgreSQL)."""
    return {
        "lead": Lead.search_document(),
        "client": Client.name,
        "project": Project.name,
        "task": Task.title,
        "message": Message.subject,
    }[kind]


@functools.cache
def _select(kind: str):
    """One kind's candidates as the common row shape: kind, id, title, context, link id, stamp, flag."""
    null_int = sa.cast(sa.null(), sa.Integer)
    if kind == "lead":
        return (
            sa.select(
                sa.literal("lead").label("kind"),
                Lead.id,
                Lead.title.label("title"),
                (
                    Lead.company
                    + sa.literal(" · ")
                    + sa.func.coalesce(Lead.contact_name, "")
                    + sa.literal(" · ")
                    + sa.func.coalesce(Lead.contact_email, "")
                    + sa.literal(" · ")
                    + Lead.stage
                ).label("context"),
                null_int.label("ref"),
                Lead.updated_at.label("stamp"),
                sa.literal(False).label("flag"),
            ).where(Lead.merged_into_id.is_(None)),
            Lead.id,
        )
    if kind == "client":
        return (
            sa.select(
                sa.literal("client").label("kind"),
                Client.id,
                Client.name.label("title"),
                (Client.status + sa.literal(" · ") + sa.func.coalesce(Client.domain, "")).label("context"),
                null_int.label("ref"),
                Client.updated_at.label("stamp"),
                sa.literal(False).label("flag"),
            ).where(Client.merged_into_id.is_(None)),
            Client.id,
        )
    if kind == "project":
        return (
            sa.select(
                sa.literal("project").label("kind"),
                Project.id,
                Project.name.label("title"),
                (Client.name + sa.literal(" · ") + Project.status).label("context"),
                Project.lead_id.label("ref"),
                Project.updated_at.label("stamp"),
                sa.literal(False).label("flag"),
            ).join(Client, Client.id == Project.client_id),
            Project.id,
        )
    if kind == "task":
        return (
            sa.select(
                sa.literal("task").label("kind"),
                Task.id,
                Task.title.label("title"),
                sa.cast(Task.due, sa.String).label("context"),
                Task.lead_id.label("ref"),
                Task.updated_at.label("stamp"),
                Task.done_at.is_not(None).label("flag"),
            ),
            Task.id,
        )
    return (
        sa.select(
            sa.literal("message").label("kind"),
            Message.id,
            Message.subject.label("title"),
            sa.func.substr(Message.body, 1, 140).label("context"),
            Message.lead_id.label("ref"),
            Message.created_at.label("stamp"),
            Message.client_visible.label("flag"),
        ).where(sa.or_(Message.lead_id.is_not(None), Message.client_id.is_not(None))),
        Message.id,
    )


def _statement(kinds, condition, cap: int):
    parts = []
    for kind in kinds:
        q, order = _select(kind)
        parts.append(
            q.where(condition(kind, _text(kind))).order_by(order.desc()).limit(cap).subquery().select()
        )
    return sa.union_all(*parts) if len(parts) > 1 else parts[0]


def _contains(words):
    def condition(kind, text):
        return sa.and_(*[text.ilike(f"%{_like_escape(w)}%", escape="\\") for w in words])

    return condition


def _alternatives(words, corrections: dict[str, list[str]]):
    """Each word, or one of its corrections instead of a word the lexicon does not hold, in the record
    (`ILIKE`, the same trigram indexes)."""

    def condition(kind, text):
        return sa.and_(
            *[
                sa.or_(*[text.ilike(f"%{_like_escape(v)}%", escape="\\") for v in corrections.get(w) or (w,)])
                for w in words
            ]
        )

    return condition


def correctable(word: str) -> bool:
    """A word the lexicon may correct: letters only (an email, a number or a code is searched as
    typed), long enough to carry a typo."""
    return len(word) >= TYPO_MIN and word.isalpha()


def corrections(session: Session, words) -> dict[str, list[str]]:
    """The lexicon's closest words (at most CORRECTIONS) to each word it does not hold: one statement.
    PostgreSQL: trigram similarity ≥ SIMILARITY (`%`, ordered by distance `<->`, through the trigram
    index of search_words); SQLite: the words one edit away (typo_patterns), closest first."""
    asked = sorted({w for w in words if correctable(w)})
    if not asked:
        return {}
    table = SearchWord.__table__
    found: dict[str, list[str]] = {}
    if session.get_bind().dialect.name == "postgresql":
        parts = []
        for w in asked:
            typed = sa.literal(w, sa.String)
            parts.append(
                sa.select(
                    typed.label("typed"),
                    table.c.word,
                    sa.func.similarity(table.c.word, typed).label("closeness"),
                )
                .where(table.c.word.op("%", is_comparison=True)(typed))
                .order_by(table.c.word.op("<->", return_type=sa.Float)(typed))
                .limit(CORRECTIONS)
                .subquery()
                .select()
            )
        rows = session.execute(sa.union_all(*parts) if len(parts) > 1 else parts[0]).all()
        for typed, word, closeness in rows:
            found.setdefault(typed, []).append((closeness, word))
    else:
        patterns = {w: typo_patterns(w) for w in asked}
        condition = sa.or_(*[table.c.word.like(p, escape="\\") for ps in patterns.values() for p in ps])
        lexicon = session.execute(sa.select(table.c.word).where(condition)).scalars().all()
        for w in asked:
            close = [
                (SequenceMatcher(None, w, x).ratio(), x)
                for x in lexicon
                if any(_like(p, x) for p in patterns[w])
            ]
            if close:
                found[w] = sorted(close, key=lambda c: (-c[0], c[1]))[:CORRECTIONS]
    fixes = {}
    for w, close in found.items():
        if any(x == w for _, x in close):
            continue  # the lexicon holds the word as typed: spelt right, nothing to correct
        best = max(c for c, _ in close)
        fixes[w] = [x for c, x in close if c >= best - NEAR]  # the closest, and those nearly as close
    return fixes


def _like(pattern: str, text: str) -> bool:
    """SQL LIKE (`%`, `_`, backslash escapes) in Python, for the few lexicon words SQLite found."""
    regex, i = [], 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            regex.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        regex.append(".*" if c == "%" else "." if c == "_" else re.escape(c))
        i += 1
    return re.fullmatch("".join(regex), text, re.S) is not None


def _timed_out(exc: sa.exc.OperationalError) -> bool:
    return getattr(exc.orig, "sqlstate", None) == "57014"  # query_canceled: the statement timeout


def candidates(session: Session, query: str, kinds, cap: int) -> tuple[list, str | None]:
    """The records matching `query` (at most `cap` per kind) and a note if the typo search was cut short.

    Exact first. When that finds fewer than FEW records and a word may be misspelt: the lexicon's
    corrections of the words it does not hold (one statement), then, for the kinds not full yet, the
    records holding each word or one of its corrections (one statement). On PostgreSQL these run under
    a statement timeout: a typo search that takes too long leaves the exact matches, with a note."""
    words = words_of(query)
    postgresql = session.get_bind().dialect.name == "postgresql"
    if postgresql:
        session.execute(sa.text(_OPERATOR_COST), {"cost": str(OPERATOR_COST)})
    rows = session.execute(_statement(kinds, _contains(words), cap).execution_options(**PLAN_EACH_TIME)).all()
    if len(rows) >= min(cap, FEW) or not any(correctable(w) for w in words):
        if postgresql:
            session.execute(sa.text(_OPERATOR_COST), {"cost": _DEFAULT_OPERATOR_COST})
        return rows, None
    found = {k: 0 for k in kinds}
    for r in rows:
        found[r.kind] += 1
    short = [k for k in kinds if found[k] < cap]
    try:
        if postgresql:
            previous = session.execute(
                sa.text(
                    "SELECT current_setting('statement_timeout'), set_config('statement_timeout', :timeout, true),"
                    " set_config('pg_trgm.similarity_threshold', :similarity, true)"
                ),
                {
                    "timeout": f"{int(current_app.config.get('SEARCH_TIMEOUT_MS', TIMEOUT_MS))}ms",
                    "similarity": str(SIMILARITY),
                },
            ).first()[0]
        fixes = corrections(session, words)
        if fixes:
            seen = {(r.kind, r.id) for r in rows}
            more = session.execute(
                _statement(short, _alternatives(words, fixes), cap).execution_options(**PLAN_EACH_TIME)
            ).all()
            rows = rows + [r for r in more if (r.kind, r.id) not in seen]
        if postgresql:  # the rest of the request runs without the search's timeout and costs
            session.execute(
                sa.text(
                    "SELECT set_config('statement_timeout', :timeout, true),"
                    " set_config('cpu_operator_cost', :cost, true)"
                ),
                {"timeout": previous, "cost": _DEFAULT_OPERATOR_COST},
            )
    except sa.exc.OperationalError as exc:
        if not (postgresql and _timed_out(exc) and only_read(session)):
            raise
        session.rollback()  # the timeout aborted the transaction; the search only read
        return rows, SLOW_NOTE
    return rows, None


# ---------------------------------------------------------------- ranking (Python)

_TOKEN = re.compile(r"[\w']+")


def _word_score(word: str, tokens: list[str], text: str) -> float:
    if word in tokens:
        return 1.0
    if any(t.startswith(word) for t in tokens):
        return 0.9
    if word in text:
        return 0.75
    best = max((_similar(word, t) for t in tokens if abs(len(t) - len(word)) <= 3), default=0.0)
    return best * 0.7 if best >= 0.6 else 0.0


@functools.lru_cache(maxsize=1 << 16)
def _similar(word: str, token: str) -> float:
    """SequenceMatcher's ratio when at least 0.6 (all `_word_score` keeps), else 0: the cheap upper
    bounds first. The same few company and contact words recur across records: remembered."""
    matcher = SequenceMatcher(None, word, token)
    if matcher.real_quick_ratio() < 0.6 or matcher.quick_ratio() < 0.6:
        return 0.0
    return matcher.ratio()


def score(words: list[str], title: str, context: str) -> float:
    """How well a record matches: each word scored on the title (full weight) or the context line
    (four fifths), averaged; a title holding the whole query scores a little more."""
    title_l, context_l = title.lower(), context.lower()
    title_t, context_t = _TOKEN.findall(title_l), _TOKEN.findall(context_l)
    total = 0.0
    for w in words:
        best = _word_score(w, title_t, title_l)
        if best < 0.8:  # the context line may still do better (it counts four fifths)
            best = max(best, 0.8 * _word_score(w, context_t, context_l))
        total += best
    result = total / max(len(words), 1)
    if " ".join(words) in title_l:
        result += 0.15
    return result


def _admin_url(user, table: str, row_id: int) -> str | None:
    tables = ADMIN_TABLES.get(user.role)
    if not (tables == "*" or (tables is not None and table in tables)):
        return None
    return url_for(f"{table}.details_view", id=row_id)


def _hit(row, words, user) -> Hit | None:
    kind, context = row.kind, row.context or ""
    if kind == "lead":
        url = lead_url("workspace.lead", row.id)
        company, *rest = context.split(" · ")
        stage = rest[-1] if rest else ""
        context = " · ".join(x for x in (company, *rest[:-1], STAGE_LABELS.get(stage, stage)) if x)
    elif kind == "client":
        url = _admin_url(user, "clients", row.id)
        context = " · ".join(x for x in context.split(" · ") if x).capitalize()
    elif kind == "project":
        url = lead_url("workspace.lead", row.ref) + "#handoff"
    elif kind == "task":
        url = task_url("workspace.task_row", row.id)
        context = f"{'Done' if row.flag else 'Due'} · due {context}"
    else:
        if row.ref is not None:
            url = lead_url("workspace.lead", row.ref) + "#thread"
        else:
            url = _admin_url(user, "messages", row.id)
        note = "client-visible" if row.flag else "internal"
        context = f"{note} · {' '.join(context.split())}"
    if url is None:
        return None
    value = score(words, row.title or "", row.context or "") + KIND_WEIGHT[kind]
    if kind == "task" and row.flag:
        value -= 0.05  # an open task before a done one
    return Hit(
        kind=kind,
        id=row.id,
        title=row.title or "(no subject)",
        context=context,
        url=url,
        score=value,
        stamp=row.stamp,
    )


def search(session: Session, user, query: str, *, dropdown: bool) -> Results:
    """The ranked results of `query` for `user` (staff): at most DROPDOWN_SHOWN or PAGE_SHOWN."""
    query = " ".join((query or "").split())[:MAX_CHARS]
    if len(query.replace(" ", "")) < MIN_CHARS:
        return Results(query=query, hits=[], message=f"Type at least {MIN_CHARS} characters to search.")
    words = words_of(query)
    cap, shown = (DROPDOWN_CAP, DROPDOWN_SHOWN) if dropdown else (PAGE_CAP, PAGE_SHOWN)
    kinds = _kinds_for(user)
    rows, note = candidates(session, query, kinds, cap)
    hits = [h for h in (_hit(r, words, user) for r in rows) if h]
    hits.sort(key=lambda h: (-round(h.score, 3), -(h.stamp.timestamp() if h.stamp else 0), h.kind, h.id))
    return Results(query=query, hits=hits[:shown], more=len(hits) > shown, note=note)


@bp.route("/search")
@staff_required
def search_page():
    """The results of ?q=: the dropdown fragment for the search box (htmx), else the full page."""
    results = search(db.session, actor(), request.args.get("q", ""), dropdown=wants_fragment())
    return render("workspace/partials/search_results.html", "workspace/search.html", results=results)
