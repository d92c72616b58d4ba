"""Strict templates for our own pages, lenient ones for Flask-Admin's (config TEMPLATES_STRICT).

Jinja's StrictUndefined turns a template reading a variable nobody passed into an error instead of an
empty string on the user's screen. Flask-Admin's packaged templates rely on the lenient default
(they test optional attributes by reading them), so strictness cannot be switched on for the whole
environment. `OursStrict` decides when an undefined value is used: printed, tested, iterated,
compared. It walks up from that use to the nearest template frame (compiled template code carries
its file name) and fails the way StrictUndefined does when that template is one of ours (a file in
this package: zarts/templates, a blueprint's templates folder, our overrides of Flask-Admin's pages);
elsewhere it answers as the default Undefined does. A key missing from a dict stays lenient
everywhere (an event's payload or a report's figures written before the key existed, a filter not
in the request). The walk happens only on that path, so rendering defined values costs nothing more.

TEMPLATES_STRICT defaults to on under `flask run --debug` and in tests (DEBUG or TESTING), off in
production, where a page with a blank is better than a page with an error.
"""

from __future__ import annotations

import os
import sys

import jinja2

OURS = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _in_our_template() -> bool:
    frame = sys._getframe(2)  # the caller of the Undefined method
    while frame is not None:
        filename = frame.f_code.co_filename
        # Python modules end in .py; "<string>", "<template>" (from_string) and the like are skipped:
        # a template made from a string belongs to the page that rendered it.
        if not filename.endswith(".py") and not filename.startswith("<"):
            return filename.startswith(OURS)  # the nearest template file decides
        frame = frame.f_back
    return False


def _strict(name: str):
    # The default Undefined has no __contains__: `x in undefined` iterates it (nothing there).
    lenient = getattr(jinja2.Undefined, name, None) or (lambda self, item: False)

    def method(self, *args, **kwargs):
        # A key a dict lacks (a JSON payload or figures written before the key existed, a filter
        # not in the request) is optional by nature and reads as blank; a name nobody passed, or
        # an attribute an object lacks, is a mistake.
        if not isinstance(self._undefined_obj, dict) and _in_our_template():
            self._fail_with_undefined_error()
        return lenient(self, *args, **kwargs)

    method.__name__ = name
    return method


class OursStrict(jinja2.Undefined):
    """StrictUndefined in our templates, Undefined in everyone else's. Attribute and item access,
    calls and arithmetic already fail in the default Undefined; these are the uses it lets pass."""

    __slots__ = ()

    __str__ = _strict("__str__")
    __iter__ = _strict("__iter__")
    __len__ = _strict("__len__")
    __bool__ = _strict("__bool__")
    __eq__ = _strict("__eq__")
    __ne__ = _strict("__ne__")
    __contains__ = _strict("__contains__")
    __hash__ = _strict("__hash__")


def install(app) -> None:
    strict = app.config.get("TEMPLATES_STRICT")
    if strict is None:
        strict = app.debug or app.testing
    if strict:
        app.jinja_env.undefined = OursStrict
