"""How a mail's templates run, cheaper than Jinja does by default and to the same bytes.

- The text and the HTML template of a mail read ONE dict of their globals and the mail's
  variables (Jinja would copy both into a new dict for each template it renders).
- Jinja's compiled code escapes every value an HTML template shows through ``markupsafe.escape``
  (the ``escape`` of the template's module), which checks in Python for ``__html__`` and then
  makes the ``Markup`` through ``Markup.__new__``'s checks again. For a plain ``str`` (nearly
  every value a mail shows) ``escape`` here makes the same ``Markup`` straight from
  markupsafe's C escaping; any other value goes to ``markupsafe.escape`` itself. If
  markupsafe has no C escaping, nothing is changed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import markupsafe
from jinja2 import Environment, Template
from jinja2.runtime import Context, new_context
from markupsafe import Markup

#: ``markupsafe``'s escaping of a plain string (its C speedup), if it has one.
_ESCAPE_TEXT: Callable[[str], str] | None = getattr(markupsafe, "_escape_inner", None)
_MAKE_STR = str.__new__
#: Per environment, how many compiled templates escape through ``escape`` here.
_ESCAPING: dict[int, int] = {}


def escape(value: Any) -> Markup:
    """``markupsafe.escape(value)``: the same ``Markup``, for a plain ``str`` without the
    Python-level checks."""
    if type(value) is str and _ESCAPE_TEXT is not None:
        return _MAKE_STR(Markup, _ESCAPE_TEXT(value))  # what Markup(str) makes
    return markupsafe.escape(value)


def fast_escape(env: Environment) -> None:
    """Let every template ``env`` has compiled so far escape through ``escape`` (cheap when
    no template is new: one length compared)."""
    cache = env.cache
    if cache is None or len(cache) == _ESCAPING.get(id(env)):
        return
    if _ESCAPE_TEXT is not None:
        for template in list(cache.values()):
            namespace = template.root_render_func.__globals__
            if namespace.get("escape") is markupsafe.escape:
                namespace["escape"] = escape
    _ESCAPING[id(env)] = len(cache)


#: The globals of a text and an HTML template as one dict (Jinja keeps each template's as a
#: ChainMap over the environment's, copied key by key into every context).
_SHARED: dict[tuple[Template, Template], dict[str, Any]] = {}
#: Each template's globals (the names a context knows as globals).
_GLOBALS_OF: dict[Template, dict[str, Any]] = {}


def shared_globals(text_t: Template, html_t: Template) -> dict[str, Any]:
    """The globals both templates see, as one dict (they must see the same)."""
    got = _SHARED.get((text_t, html_t))
    if got is None:
        flat = dict(text_t.globals)
        if flat != dict(html_t.globals):
            raise ValueError(f"{text_t.name} and {html_t.name} see different globals")
        got = _SHARED[(text_t, html_t)] = flat
    return got


def context_of(template: Template, parent: dict[str, Any]) -> Context:
    """``template.new_context(…)`` reading ``parent`` (globals and variables) as it is:
    Jinja never writes to a context's parent."""
    flat = _GLOBALS_OF.get(template)
    if flat is None:
        flat = _GLOBALS_OF[template] = dict(template.globals)
    return new_context(template.environment, template.name, template.blocks, parent, True, flat)
