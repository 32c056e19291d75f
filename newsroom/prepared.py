"""Querysets compiled to SQL once per database connection, then run with new values.

Building and compiling a queryset costs far more than running it when the query is small and
the rows are few: on a page served from rendered bodies, the ORM's compiler was most of the
work. A ``PreparedQuery`` builds its queryset once with placeholder values, remembers the SQL,
where each placeholder went among the parameters, and the converters of the selected columns,
and then runs that SQL with real values. The queryset stays the one definition (so
``Explainer.objects.published()`` is still what decides what readers see); only the compiling
is saved. Queries run through Django's cursor, so they are logged and counted as usual.
"""

import weakref
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import connections, router
from django.db.models import QuerySet

# Values no real query passes: each marks where one placeholder's value goes.
PLACEHOLDER_TIME = datetime(2001, 2, 3, 4, 5, 6, 789012, tzinfo=UTC)
PLACEHOLDER_TEXT = "\x00placeholder\x00"


class Compiled:
    def __init__(self, queryset: QuerySet, placeholders: dict[str, Any]):
        compiler = queryset.query.get_compiler(using=queryset.db)
        self.sql, params = compiler.as_sql()
        self.connection = compiler.connection
        self.compiler = compiler
        self.converters = compiler.get_converters([s[0] for s in compiler.select])
        adapted = {name: self.adapt(value) for name, value in placeholders.items()}
        # Each parameter is either a constant of the queryset or one of the placeholders.
        self.params: list[tuple[bool, Any]] = []
        for param in params:
            name = next((n for n, value in adapted.items() if value == param), None)
            self.params.append((name is not None, name if name is not None else param))
        found = {name for is_placeholder, name in self.params if is_placeholder}
        if found != set(placeholders):
            raise ImproperlyConfigured(
                f"PreparedQuery: placeholders {sorted(set(placeholders) - found)} do not reach "
                "the SQL as parameters; pass each one to a filter as it is."
            )

    def adapt(self, value):
        if isinstance(value, datetime):
            return self.connection.ops.adapt_datetimefield_value(value)
        return value

    def rows(self, values: dict[str, Any]) -> list[tuple]:
        params = [
            self.adapt(values[value]) if is_placeholder else value
            for is_placeholder, value in self.params
        ]
        with self.connection.cursor() as cursor:
            cursor.execute(self.sql, params)
            rows = cursor.fetchall()
        if self.converters:
            rows = [tuple(row) for row in self.compiler.apply_converters(rows, self.converters)]
        return rows


class PreparedQuery:
    """``build(**values)`` returns a ``values_list()`` of ``model``; ``rows(**values)`` runs it.

    Each value must reach the SQL unchanged as a parameter (a datetime or a string compared
    with ``exact``, ``lte`` and the like), since it is found there by a placeholder. Compiled
    again for each database alias a router chooses and each connection object (one a thread).
    """

    def __init__(self, model, build: Callable[..., QuerySet], **placeholders: Any):
        self.model = model
        self.build = build
        self.placeholders = placeholders
        self.compiled: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def rows(self, **values: Any) -> list[tuple]:
        connection = connections[router.db_for_read(self.model)]
        compiled = self.compiled.get(connection)
        if compiled is None:
            queryset = self.build(**self.placeholders).using(connection.alias)
            compiled = self.compiled[connection] = Compiled(queryset, self.placeholders)
        return compiled.rows(values)
