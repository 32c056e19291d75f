"""Querysets compiled to SQL once per database connection, then run with new values.

Building and compiling a queryset costs far more than running it when the query is small and
the rows are few: on a page served from rendered bodies, the ORM's compiler was most of the
work. A ``PreparedQuery`` builds its queryset once with placeholder values, remembers the SQL,
where each placeholder went among the parameters, and the converters of the selected columns,
and then runs that SQL with real values. The queryset stays the one definition (so
``Explainer.objects.published()`` is still what decides what readers see); only the compiling
is saved. Queries run through Django's cursor, so they are logged and counted as usual.
"""

import functools
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.db import connections, router
from django.db.models import QuerySet
from django.db.models.query import ModelIterable, get_related_populators

# psycopg keeps each statement's conversion (its %s placeholders to PostgreSQL's $1, $2…) for
# statements up to this many bytes and parses longer ones again on every run.
LONGEST_KEPT_STATEMENT = 16 * 1024


def keep_long_statements() -> None:
    """Let psycopg keep the conversion of statements as long as the site's prepared queries.

    Its limit is 4,096 bytes; the explainer page's one query is longer, and was parsed again on
    every render, for a seventh of what the query cost the worker. psycopg keeps at most 128
    conversions, so the memory this costs stays small. A psycopg without the setting (psycopg 2,
    a later rename) is left as it is.
    """
    try:
        from psycopg import _queries
    except ImportError:
        return
    if hasattr(_queries, "MAX_CACHED_STATEMENT_LENGTH"):
        limit = max(_queries.MAX_CACHED_STATEMENT_LENGTH, LONGEST_KEPT_STATEMENT)
        _queries.MAX_CACHED_STATEMENT_LENGTH = limit


# Values no real query passes: each marks where one placeholder's value goes.
PLACEHOLDER_TIME = datetime(2001, 2, 3, 4, 5, 6, 789012, tzinfo=UTC)
PLACEHOLDER_TEXT = "\x00placeholder\x00"
# Integers: distinct, and far from any id, limit or constant a queryset holds.
PLACEHOLDER_INTS = tuple(range(-2_000_000_101, -2_000_000_001))
PLACEHOLDER_INT = PLACEHOLDER_INTS[0]


class Compiled:
    def __init__(self, queryset: QuerySet, placeholders: dict[str, Any]):
        compiler = queryset.query.get_compiler(using=queryset.db)
        self.sql, params = compiler.as_sql()
        self.connection = compiler.connection
        self.compiler = compiler
        self.converters = compiler.get_converters([s[0] for s in compiler.select])
        self.instances = queryset._iterable_class is ModelIterable
        if self.instances:
            # What ModelIterable works out on each run, worked out once.
            self.klass_info = compiler.klass_info
            fields = self.klass_info["select_fields"]
            self.model_slice = slice(fields[0], fields[-1] + 1)
            self.init_list = [f[0].target.attname for f in compiler.select[self.model_slice]]
            self.populators = get_related_populators(
                self.klass_info, compiler.select, self.connection.alias
            )
            self.annotations = compiler.annotation_col_map
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

    def objects(self, values: dict[str, Any]) -> Iterator:
        """Model instances, built from each row as ``ModelIterable`` builds them."""
        for row in self.rows(values):
            yield self.instance(row)

    def instance(self, row: tuple):
        """The model instance ``objects()`` builds from ``row``, one of this query's rows."""
        obj = self.klass_info["model"].from_db(
            self.connection.alias, self.init_list, row[self.model_slice]
        )
        for populator in self.populators:
            populator.populate(row, obj)
        for name, position in self.annotations.items():
            setattr(obj, name, row[position])
        return obj

    @functools.cached_property
    def positions(self) -> dict[str, int]:
        """Where each loaded value is in a row of instances: by attribute name (``"topic_id"``),
        through the relations followed (``"live_revision__topic__name"``), and annotations by
        theirs; for reading a few values without building the instances."""
        found = dict(self.annotations)

        def walk(info, prefix):
            for position in info["select_fields"]:
                found[prefix + self.compiler.select[position][0].target.attname] = position
            for related in info.get("related_klass_infos", ()):
                walk(related, f"{prefix}{related['field'].name}__")

        walk(self.klass_info, "")
        return found


class PreparedQuery:
    """``build(**values)`` returns a queryset of ``model``: ``rows(**values)`` runs a
    ``values_list()`` one, ``objects(**values)`` one of model instances (``select_related``
    and ``only()`` included, ``prefetch_related`` not). ``model`` may be named
    ("app_label.Model") where the module is imported before the models are.

    Each value must reach the SQL unchanged as a parameter (a datetime, a string or an integer
    compared with ``exact``, ``lte`` and the like), since it is found there by a placeholder
    (``PLACEHOLDER_TIME``, ``PLACEHOLDER_TEXT``, ``PLACEHOLDER_INTS``). Compiled
    again for each database alias a router chooses and each connection object (one a thread).
    """

    # Where each connection keeps its compiled queries. On the connection, not in a table here:
    # a compiled query holds its connection (its compiler and converters do), so a table here
    # would keep every connection alive, and with it the database session, after its thread
    # or request context is gone.
    ATTRIBUTE = "newsroom_prepared"

    def __init__(self, model, build: Callable[..., QuerySet], **placeholders: Any):
        self.model = model
        self.build = build
        self.placeholders = placeholders

    def compiled_for_read(self) -> Compiled:
        if isinstance(self.model, str):
            self.model = apps.get_model(self.model)
        connection = connections[router.db_for_read(self.model)]
        kept = connection.__dict__.setdefault(self.ATTRIBUTE, {})
        compiled = kept.get(self)
        if compiled is None:
            queryset = self.build(**self.placeholders).using(connection.alias)
            compiled = kept[self] = Compiled(queryset, self.placeholders)
        return compiled

    def rows(self, **values: Any) -> list[tuple]:
        return self.compiled_for_read().rows(values)

    def objects(self, **values: Any) -> list:
        return list(self.compiled_instances().objects(values))

    def compiled_instances(self) -> Compiled:
        """The compiled query, for its ``rows()``, ``positions`` and ``instance(row)``."""
        compiled = self.compiled_for_read()
        if not compiled.instances:
            raise ImproperlyConfigured("PreparedQuery.objects() needs a queryset of instances.")
        return compiled
