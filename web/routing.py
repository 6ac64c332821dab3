"""URL converters: ``<int:…>`` in every route is bounded to what the database can hold.

Werkzeug's ``int`` converter accepts any number of digits, and a number past the database's
INTEGER range (``/dokument/99999999999999999999``) makes SQLite and PostgreSQL raise an
overflow instead of finding nothing: a 500 where the page should say "not found". Replacing
the converter on the app's URL map bounds every int route in one place, so a route added
later is covered too.
"""

from __future__ import annotations

from flask import Flask
from werkzeug.routing import IntegerConverter, ValidationError

#: The largest id or version a route accepts: the top of a 32-bit signed INTEGER, the column
#: type of every id in ``workflow.storage.models`` (SQLite's own limit is 64-bit).
MAX_ROUTE_INT = 2**31 - 1


class BoundedIntConverter(IntegerConverter):
    """``<int:…>`` from 0 to ``MAX_ROUTE_INT``; anything larger does not match (404)."""

    def to_python(self, value: str) -> int:
        number = int(super().to_python(value))
        if number > MAX_ROUTE_INT:
            raise ValidationError()
        return number


def install(app: Flask) -> None:
    """Use the bounded converter for ``int`` (call before any blueprint is registered)."""
    app.url_map.converters["int"] = BoundedIntConverter
