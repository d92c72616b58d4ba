"""The one secured base view every admin table is configured on, and the secured admin home.

Views built on `SecureModelView` are configuration: columns, filters, `form_ajax_refs`,
`column_select_related_list` and `rights_limit`. Access, paging, export escaping, optimistic locking
and error messages live here, once; labels, money, times and workspace links in `display`.
"""

from __future__ import annotations

import logging
from typing import ClassVar

import sqlalchemy as sa
from flask import abort, current_app, flash, has_request_context, request
from flask_admin import AdminIndexView, expose
from flask_admin.contrib.sqla import ModelView
from flask_admin.contrib.sqla._compat import _get_deprecated_session
from flask_admin.contrib.sqla.ajax import QueryAjaxModelLoader
from flask_admin.contrib.sqla.tools import parse_like_term
from flask_login import current_user
from sqlalchemy.exc import DataError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.exc import StaleDataError
from wtforms.validators import ValidationError

from ..models import AppendOnlyError
from ..statements import PLAN_EACH_TIME, only_read
from .display import PeoplesWordsMixin
from .errors import STALE, describe_integrity_error
from .export import safe_cell
from .locking import OptimisticLockMixin
from .search_window import rarest_part
from .permissions import (
    ALL_RIGHTS,
    CREATE,
    DELETE,
    EDIT,
    EXPORT,
    VIEW,
    login_redirect,
    may_open_admin,
    rights_for,
    signed_in,
)

log = logging.getLogger(__name__)

AJAX_LIMIT = 20  # rows per relationship look-up, whatever the request asks for
ALWAYS_READ_ONLY = ("version", "created_at", "updated_at")  # set by the database layer only


class CappedAjaxLoader(QueryAjaxModelLoader):
    """Relationship look-up for `form_ajax_refs`: a few matching rows, never the whole table."""

    def get_list(self, term, offset=0, limit=AJAX_LIMIT):
        limit = min(max(limit or AJAX_LIMIT, 1), AJAX_LIMIT)
        return super().get_list(term or "", max(offset or 0, 0), limit)

    def get_query(self):
        # What is typed decides the best plan: planned for it each time (zarts.statements).
        return super().get_query().execution_options(**PLAN_EACH_TIME)


class SecureModelView(PeoplesWordsMixin, OptimisticLockMixin, ModelView):
    # What this table allows at most, for anyone (ROLE_RIGHTS and ADMIN_TABLES narrow it per user).
    rights_limit: frozenset[str] = ALL_RIGHTS
    # The right each Flask-Admin endpoint needs (any one of the tuple). An endpoint missing here is
    # refused: a view that exposes a new endpoint (e.g. a domain action) must say who may use it.
    endpoint_rights: ClassVar[dict[str, tuple[str, ...]]] = {
        "index_view": (VIEW,),
        "details_view": (VIEW,),
        "action_view": (VIEW,),  # each action checks its own right in is_action_allowed
        "create_view": (CREATE,),
        "edit_view": (EDIT,),
        "ajax_update": (EDIT,),
        "delete_view": (DELETE,),
        "export": (EXPORT,),
        "ajax_lookup": (CREATE, EDIT),  # the look-ups serve the forms
    }
    # The right each list action needs; unknown actions need EDIT.
    action_rights: ClassVar[dict[str, str]] = {"delete": DELETE}

    list_template = "admin/list.html"  # Flask-Admin's list, its rows built in Python (rows.py)

    # Lists: no count(*) of the table, a stable newest-first order and a cap on how deep OFFSET goes.
    simple_list_pager = True
    page_size = 20
    can_set_page_size = True
    page_size_options = (20, 50, 100)
    max_list_page = 250
    column_default_sort = ("id", True)
    column_display_pk = True
    column_auto_select_related = False  # joins are listed explicitly in column_select_related_list
    # Views list as sortable only columns an index can order (a sort without one reads the whole table).

    export_types: ClassVar[list[str]] = ["csv"]
    export_max_rows = 10_000

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for name in ("can_create", "can_edit", "can_delete", "can_export"):
            if name in cls.__dict__:
                raise TypeError(
                    f"{cls.__name__}.{name}: set rights_limit instead; rights come "
                    "from zarts.admin.permissions"
                )

    def __init__(self, model, session, **kwargs):
        excluded = tuple(self.form_excluded_columns or ())
        self.form_excluded_columns = excluded + tuple(c for c in ALWAYS_READ_ONLY if c not in excluded)
        super().__init__(model, session, **kwargs)

    # -- access -------------------------------------------------------------------------------

    @property
    def table(self) -> str:
        return self.model.__tablename__

    def rights(self) -> frozenset[str]:
        if not has_request_context():  # start-up scaffolding sees everything the table allows
            return self.rights_limit
        # Asked a few dozen times per page (can_edit, can_delete, actions, row actions): once per
        # request and view is enough, the signed-in user does not change within a request.
        cache = request.environ.setdefault("zarts.admin_rights", {})
        rights = cache.get(self.endpoint)
        if rights is None:
            rights = cache[self.endpoint] = rights_for(current_user, self.table, self.rights_limit)
        return rights

    can_create = property(lambda self: CREATE in self.rights())
    can_edit = property(lambda self: EDIT in self.rights())
    can_delete = property(lambda self: DELETE in self.rights())
    can_export = property(lambda self: EXPORT in self.rights())

    def is_accessible(self) -> bool:
        return VIEW in self.rights()

    def _handle_view(self, name, **kwargs):
        if not signed_in():
            return login_redirect()
        rights = self.rights()
        needed = self.endpoint_rights.get(name)
        if needed is None:
            log.warning("admin endpoint %s.%s has no entry in endpoint_rights: refused", self.endpoint, name)
            abort(403)
        if VIEW not in rights or not rights.intersection(needed):
            abort(403)
        return None

    def is_action_allowed(self, name: str) -> bool:
        return self.action_rights.get(name, EDIT) in self.rights() and name not in self.action_disallowed_list

    # -- reads ----------------------------------------------------------------------------------

    def get_one(self, id):
        try:
            pk = int(id)
        except (TypeError, ValueError):
            return None
        if not 0 < pk < 2**63:
            return None
        return _get_deprecated_session(self.session).get(self.model, pk)

    def _get_list_extra_args(self):
        args = super()._get_list_extra_args()
        page = args.page or 0
        if page < 0 or page > self.max_list_page:
            if page > self.max_list_page and request.endpoint == f"{self.endpoint}.index_view":
                flash(
                    f"Only the first {self.max_list_page + 1} pages can be opened: "
                    "search or filter to narrow the list.",
                    "info",
                )
            args.page = min(max(page, 0), self.max_list_page)
        return args

    def _apply_search(self, query, count_query, joins, count_joins, search):
        """A model with a `search_document()` (one text expression, trigram-indexed on PostgreSQL:
        Lead) is searched on it, each word ILIKE '%word%'; others as Flask-Admin does (an OR of a
        cast per column, which no index serves)."""
        document = getattr(self.model, "search_document", None)
        if document is None:
            return super()._apply_search(query, count_query, joins, count_joins, search)
        document = document()
        session = _get_deprecated_session(self.session)
        postgresql = session.get_bind().dialect.name == "postgresql"
        for term in search.split(" "):
            if term:
                condition = document.ilike(parse_like_term(term))
                part = rarest_part(session, self.model.__table__, document, term) if postgresql else None
                if part is not None:
                    # The index looks up the rarest part; each row it finds is tested against the
                    # whole term through an expression it does not serve (zarts.admin.search_window).
                    whole = (document + sa.literal_column("''")).ilike(parse_like_term(term))
                    condition = sa.and_(document.ilike(f"%{part}%"), whole)
                query = query.filter(condition)
                if count_query is not None:
                    count_query = count_query.filter(condition)
        return query, count_query, joins, count_joins

    def get_list(self, page, sort_column, sort_desc, search, filters, execute=True, page_size=None):
        """Flask-Admin's list query, run as a deferred join: first the page's ids alone (the filters,
        search, order and OFFSET on the indexes, without the joined relations), then those rows
        with their relations. Two statements at any depth or table size; and the id query is narrow,
        so PostgreSQL plans a rare search through the trigram indexes instead of walking the whole
        table in id order hoping to meet 20 matches (the wide query's plan: seconds at 1M rows)."""
        count, query = super().get_list(
            page, sort_column, sort_desc, search, filters, execute=False, page_size=page_size
        )
        if search or filters:
            # A rare word wants the trigram index, a common one the list's order: planned for what
            # was typed each time, never prepared with a plan kept for other values (zarts.statements).
            query = query.execution_options(**PLAN_EACH_TIME)
        if not execute:
            return count, query
        pk = self._primary_key_column()
        id_query = query.with_entities(pk)
        if search and _get_deprecated_session(self.session).get_bind().dialect.name == "postgresql":
            ids = self._search_ids(id_query)
        else:
            ids = list(dict.fromkeys(row[0] for row in id_query))
        loader = self.get_query()
        for relation in self._auto_joins:
            loader = loader.options(joinedload(relation))
        rows = {getattr(row, pk.key): row for row in loader.filter(pk.in_(ids))}
        return count, [rows[i] for i in ids if i in rows]

    # How long a search may walk the list's order before it is run through the search indexes.
    SEARCH_WALK_MS = 100

    def _search_ids(self, id_query) -> list:
        """The page's ids for a search (PostgreSQL), never a walk through the whole table.

        PostgreSQL finds a common word by walking the list in its order until the page is full, and a
        rare one through the trigram index, choosing by how many rows it expects to match. When
        the matches are fewer than it expects and all old (a company that was a lead two years
        ago), the walk reads most of the table: seconds at a million leads. So the search runs
        under a statement timeout; cut short (a walk, or rarely a cold index scan), it runs again
        with plain index scans off, through the trigram index (a bitmap scan, whatever the word: a
        few to a few dozen milliseconds)."""
        session = _get_deprecated_session(self.session)
        setting = sa.text("SELECT current_setting(:name), set_config(:name, :value, true)")
        previous = session.execute(
            setting, {"name": "statement_timeout", "value": str(self.SEARCH_WALK_MS)}
        ).first()[0]
        try:
            ids = list(dict.fromkeys(row[0] for row in id_query))
        except OperationalError as exc:
            if getattr(exc.orig, "sqlstate", None) != "57014" or not only_read(session):
                raise  # not a cancelled walk, or the transaction holds a write a rollback would lose
            # The transaction only read (nothing is lost), and its rollback ends the time limit.
            session.rollback()
            log.info("admin search ran past %s ms: run again through the search index", self.SEARCH_WALK_MS)
            before = session.execute(setting, {"name": "enable_indexscan", "value": "off"}).first()[0]
            ids = list(dict.fromkeys(row[0] for row in id_query))
            session.execute(setting, {"name": "enable_indexscan", "value": before})
            return ids
        session.execute(setting, {"name": "statement_timeout", "value": previous})
        return ids

    def _primary_key_column(self):
        return getattr(self.model, self._primary_key)

    def _apply_sorting(self, query, joins, sort_column, sort_desc):
        query, joins = super()._apply_sorting(query, joins, sort_column, sort_desc)
        if sort_column is not None:  # ties broken by id, so pages neither repeat nor skip rows
            pk = self.model.id
            query = query.order_by(pk.desc() if sort_desc else pk)
        return query, joins

    def _create_ajax_loader(self, name, options):
        remote = getattr(self.model, name).property.mapper.class_
        return CappedAjaxLoader(name, self.session, remote, **options)

    def get_export_value(self, model, name):
        return safe_cell(super().get_export_value(model, name))

    # -- writes ---------------------------------------------------------------------------------

    # Rows a client may already rely on (approved text, a sent proposal): while frozen_reason()
    # gives a reason, a save that changes one of frozen_fields (None: any field) is refused and so
    # is a delete. The domain layer makes the new version and asks for approval again.
    frozen_fields: tuple[str, ...] | None = None

    def frozen_reason(self, model) -> str | None:
        return None

    def on_model_change(self, form, model, is_created):
        reason = self.frozen_reason(model)
        if reason and (is_created or changed(model, self.frozen_fields)):
            raise ValidationError(reason)

    def on_model_delete(self, model):
        reason = self.frozen_reason(model)
        if reason:
            raise ValidationError(reason)

    # -- writes through the domain -------------------------------------------------------------

    # Flask-Admin's own writes set the form's fields on the row. Denied by default: a table the domain
    # owns overrides create_model / update_model / delete_model to call its domain function; only a
    # view that says so here (users: the admin's own records, no workflow) writes rows the stock way.
    raw_writes: bool = False

    def create_model(self, form):
        return super().create_model(form) if self.raw_writes else self._no_raw_write()

    def update_model(self, form, model):
        return super().update_model(form, model) if self.raw_writes else self._no_raw_write()

    def delete_model(self, model):
        return super().delete_model(model) if self.raw_writes else self._no_raw_write()

    def _no_raw_write(self) -> bool:
        log.warning("admin %s: a write without a domain function was refused", self.endpoint)
        flash("Not saved: this table changes only through its workflow actions.", "error")
        return False

    #
    # A table the domain owns routes every create, edit and delete of its admin to a domain function
    # (with that function's role and ownership checks, gates, optimistic lock and event) through
    # these three; Flask-Admin's own ones (which set the form's fields on the row) never run there.

    def domain_write(self, form, change, *, model=None, is_created=False):
        """Run `change()` (a domain call that returns the row it made or changed) as one unit: commit
        on success; on a refusal roll back everything, put the domain's words on the field they
        concern (or flash them) and return False so Flask-Admin shows the form again as typed."""
        from ..domain import DomainError, unit
        from ..extensions import db

        try:
            with unit(db.session):
                row = change()
        except DomainError as exc:
            field = getattr(exc, "field", None)
            if form is not None and field and field in form and hasattr(form[field], "errors"):
                errors = form[field].errors
                if isinstance(errors, tuple):  # WTForms keeps a tuple until validation appends
                    form[field].errors = errors = list(errors)
                errors.append(exc.message)
            flash(f"Not saved: {exc.message}", "error")
            return False
        except Exception as exc:  # noqa: BLE001  refused by the database: flashed as on any save
            db.session.rollback()
            self.handle_view_exception(exc)
            return False
        row = row if row is not None else model
        self.after_model_change(form, row, is_created)
        return row

    def handle_view_exception(self, exc: Exception) -> bool:
        """Flash what went wrong in words; Flask-Admin then rolls the session back."""
        if isinstance(exc, (OperationalError, InterfaceError)):
            raise exc  # the database is away: the app's 503 page says so
        if isinstance(exc, StaleDataError):
            message = STALE
        elif isinstance(exc, IntegrityError):
            message = "Not saved: " + describe_integrity_error(exc)
        elif isinstance(exc, DataError):
            message = "Not saved: a value is too long or not of the expected kind."
        elif isinstance(exc, (AppendOnlyError, ValidationError)):
            message = f"Not saved: {exc}"
        else:
            if current_app.debug:
                raise exc
            log.exception("admin save failed in %s", self.endpoint)
            message = "Not saved: something went wrong. Nothing was changed; the error is logged."
        flash(message, "error")
        return True


def changed(model, fields: tuple[str, ...] | None) -> bool:
    """Whether the pending (unflushed) changes of `model` touch any of `fields` (None: any field).

    Browsers send text areas with CRLF line ends: a text that differs only in those is put back as
    it was and not counted as a change.
    """
    state = sa.inspect(model)
    attrs = state.attrs if fields is None else [state.attrs[name] for name in fields]
    touched = False
    for attr in attrs:
        history = attr.history
        if not history.has_changes():
            continue
        old = history.deleted[0] if history.deleted else None
        new = history.added[0] if history.added else None
        if isinstance(old, str) and isinstance(new, str) and _lf(old) == _lf(new):
            setattr(model, attr.key, old)
            continue
        touched = True
    return touched


def _lf(text: str) -> str:
    return text.replace("\r\n", "\n")


class AdminHome(AdminIndexView):
    """The admin's front page: staff only, and it lists the tables this user may open."""

    def is_accessible(self) -> bool:
        return may_open_admin(current_user)

    def _handle_view(self, name, **kwargs):
        if not signed_in():
            return login_redirect()
        if not self.is_accessible():
            abort(403)
        return None

    @expose()
    def index(self):
        views = [v for v in self.admin._views if isinstance(v, SecureModelView) and v.is_accessible()]
        return self.render(self._template, tables=views)
