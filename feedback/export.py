"""CSV exports of reader ratings, shared by the admin and ``manage.py export_feedback``.

Three kinds: ``ratings`` (one row per vote), ``daily`` (per explainer per UTC day) and
``summary`` (per explainer). Every export is a generator of byte chunks, so neither the admin
nor the command ever holds a whole file in memory.

Ratings of every explainer are exported, published or not: analysts need the votes of
explainers that were later unpublished, and a rating only exists on an explainer that was
public when the reader voted. This is why the export does not go through
``Explainer.objects.published()``.

On PostgreSQL the ``ratings`` kind is produced by the server itself with
``COPY (SELECT ...) TO STDOUT WITH (FORMAT csv, FORCE_QUOTE ...)``, the formatting
(timestamps, yes/no, spreadsheet-formula neutralisation) done in SQL; elsewhere a chunked
Python path writes the same bytes. ``daily`` and ``summary`` are small aggregates, written by
Python on every database.

The format, identical on both paths:

- a header row, then ``\\n`` after every row: COPY always ends rows with ``\\n``;
- every text cell (slugs, headlines, reasons, comments, yes/no, dates and times) is in double
  quotes, with quotes doubled (RFC 4180); numbers are bare, so that a spreadsheet keeps them
  numbers; an empty or missing value is a bare empty field, and the header row is bare;
- times in UTC to the second, ``2026-11-26 03:36:59``, dates as ``YYYY-MM-DD``: the form
  spreadsheets read as a date and time (LibreOffice and Excel leave ``...T...Z`` as text), and
  of fixed width, so that they sort as text too;
- text is neutralised against CSV injection (``neutralise``): a ``'`` goes before anything a
  spreadsheet could take for the start of a formula, the OWASP way.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from itertools import chain, islice

from django.core.exceptions import EmptyResultSet
from django.db import connection, transaction
from django.db.models import Count, Max, Min, Q, QuerySet
from django.db.models.functions import TruncDate

from explainers.models import Explainer

from . import parallel_copy
from .models import Rating
from .stats import wilson_lower_bound

logger = logging.getLogger(__name__)

KINDS = ("ratings", "daily", "summary")
HEADERS = {
    "ratings": (
        "id",
        "created_at",
        "updated_at",
        "explainer_id",
        "explainer_slug",
        "explainer_headline",
        "explainer_version",
        "useful",
        "reason",
        "comment",
    ),
    "daily": (
        "date",
        "explainer_id",
        "explainer_slug",
        "votes",
        "useful",
        "not_useful",
        "useful_share",
    ),
    "summary": (
        "explainer_id",
        "explainer_slug",
        "explainer_headline",
        "published_at",
        "votes",
        "useful",
        "not_useful",
        "useful_share",
        "wilson_lower_95",
    ),
}

BOM = "\ufeff".encode()
# Chunks handed to the response or file are at least this big (the last one excepted).
CHUNK_BYTES = 64 * 1024
# Rows taken from a COPY stream at a time: a few kilobytes, so chunks stay near CHUNK_BYTES.
COPY_BATCH_ROWS = 32
# Below this many ids between the first and last rating, an export is not split into parts:
# opening the connections would cost more than it saves.
PARALLEL_MIN_IDS = 50_000
# Rows fetched per round trip on the Python path.
CHUNK_ROWS = 2000
DATE_FORMAT = "%Y-%m-%d"
_FOUR_PLACES = Decimal("0.0001")

# CSV injection. A spreadsheet starts a formula at a cell beginning with = + - or @ (Excel
# also runs "+1+cmd|..." and "@SUM(...)"); the full-width forms are folded to them by some
# spreadsheets and input methods.
FORMULA_CHARS = "=+-@\uff1d\uff0b\uff0d\uff20"
# OWASP also counts a cell beginning with a tab or a line break: some readers trim it away.
LINE_CHARS = "\t\r\n"
# What may come before the formula character unseen: spaces, no-break and zero-width
# characters (and a stray BOM), which a reader does not see and some spreadsheets skip.
BLANK_CHARS = (
    " \u00a0\u1680\u180e\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
    "\u200a\u200b\u200c\u200d\u2028\u2029\u202f\u205f\u2060\u3000\ufeff"
)
# Where a spreadsheet can start a new cell inside one of ours: read with ";" or tab as the
# separator (much of Europe uses ";"), quotes that open in the middle of a field are plain
# characters to it, so ";", tab and line breaks inside a quoted comment split it into cells.
CELL_BREAK_CHARS = ";\t\r\n"


def _regex_class(chars: str) -> str:
    """A bracket expression of ``chars`` as \\uXXXX escapes, which Python's re and
    PostgreSQL's regular expressions both read the same way (no ranges, no special "-")."""
    return "[" + "".join(f"\\u{ord(char):04x}" for char in chars) + "]"


_BLANKS = _regex_class(BLANK_CHARS)
# A cell that begins, after blanks, with a formula character, tab or line break: a ' goes first.
LEADING_FORMULA = f"^(?={_BLANKS}*{_regex_class(FORMULA_CHARS + LINE_CHARS)})"
# A cell break followed, after blanks, by a formula character: a ' goes after the break.
INNER_FORMULA = f"({_regex_class(CELL_BREAK_CHARS)})(?={_BLANKS}*{_regex_class(FORMULA_CHARS)})"
_LEADING_FORMULA = re.compile(LEADING_FORMULA)
_INNER_FORMULA = re.compile(INNER_FORMULA)

ProgressCallback = Callable[[int], None]


@dataclass(frozen=True)
class ExportOptions:
    """Validated filters of an export; ``feedback.forms.ExportForm`` checks and builds them.

    ``since`` and ``until`` are inclusive UTC dates compared with each rating's ``created_at``.
    """

    since: date | None = None
    until: date | None = None
    explainer_ids: tuple[int, ...] = ()
    topic_id: int | None = None

    def filter(self, ratings: QuerySet[Rating]) -> QuerySet[Rating]:
        """``ratings`` narrowed to these options."""
        condition = Q()
        if self.since is not None:
            condition &= Q(created_at__gte=datetime.combine(self.since, time.min, tzinfo=UTC))
        # The last representable day has no "next midnight": it simply has no upper bound.
        if self.until is not None and self.until < date.max:
            next_day = datetime.combine(self.until + timedelta(days=1), time.min, tzinfo=UTC)
            condition &= Q(created_at__lt=next_day)
        if self.explainer_ids:
            condition &= Q(explainer_id__in=self.explainer_ids)
        if self.topic_id is not None:
            condition &= Q(explainer__topic_id=self.topic_id)
        return ratings.filter(condition)


def export_filename(kind: str, *, today: date | None = None) -> str:
    """The download's name, dated with today's UTC date: ``feedback-ratings-2026-11-26.csv``."""
    today = today or datetime.now(UTC).date()
    return f"feedback-{kind}-{today.isoformat()}.csv"


def export_csv(
    *,
    kind: str,
    options: ExportOptions | None = None,
    bom: bool = False,
    rating_ids: Sequence[int] | QuerySet[Rating] | None = None,
    progress: ProgressCallback | None = None,
    jobs: int = 1,
) -> Iterator[bytes]:
    """The export as UTF-8 byte chunks of at least ``CHUNK_BYTES`` (the last one excepted).

    ``rating_ids`` narrows the export to those ratings: a list of ids, or a queryset of ratings
    (used as a subquery, so selecting a million rows in the admin costs no memory).
    ``progress`` is called with the number of data rows written so far, once per chunk.
    ``bom`` starts the file with a UTF-8 byte-order mark, which Excel needs to read UTF-8.
    ``jobs`` above 1 lets a large ``ratings`` export on PostgreSQL run in that many parts at
    once, each on a connection of its own (``_ratings_copy``).

    Nothing touches the database until the first chunk is asked for, and a consumer that stops
    early (a client that disconnects) closes the generator, which closes the database cursor.
    """
    _check_kind(kind)
    ratings = _ratings(options, rating_ids)
    if kind == "ratings":
        if _use_copy():
            chunks = _ratings_copy(ratings, jobs=jobs)
        else:
            chunks = _python_chunks(_rating_rows(ratings), HEADERS["ratings"])
    elif kind == "daily":
        chunks = _python_chunks(_daily_rows(ratings), HEADERS["daily"])
    else:
        chunks = _python_chunks(_summary_rows(ratings), HEADERS["summary"])
    return _finish(chunks, bom=bom, progress=progress)


def count_rows(
    *,
    kind: str,
    options: ExportOptions | None = None,
    rating_ids: Sequence[int] | QuerySet[Rating] | None = None,
) -> int:
    """How many data rows (header excluded) ``export_csv`` would write now."""
    _check_kind(kind)
    ratings = _ratings(options, rating_ids)
    if kind == "ratings":
        return ratings.count()
    if kind == "daily":
        return _daily_queryset(ratings).count()
    return ratings.order_by().values("explainer_id").distinct().count()


# Cell formatting, shared by every kind on the Python side.


def format_timestamp(value: datetime | None) -> str:
    """``2026-11-26 03:36:59``: UTC, fractions of a second dropped (not rounded), as in SQL."""
    if value is None:
        return ""
    # Not strftime("%Y"), which writes the year 999 as "999" where PostgreSQL writes "0999".
    utc = value.astimezone(UTC)
    return f"{utc.date().isoformat()} {utc.hour:02}:{utc.minute:02}:{utc.second:02}"


def neutralise(value: str) -> str:
    """``value`` with a ``'`` wherever a spreadsheet could see the start of a formula.

    That is before the text when it begins, after any blanks (``BLANK_CHARS``), with a formula
    character, a tab or a line break; and after every ``;``, tab or line break inside it that
    is followed, after blanks, by a formula character: ``x;=cmd`` becomes ``x;'=cmd``, which no
    spreadsheet runs whichever separator it splits the file at. Text that needs none of this
    is returned unchanged.
    """
    return _LEADING_FORMULA.sub("'", _INNER_FORMULA.sub(r"\g<1>'", value), count=1)


def format_fraction(value: Decimal | float | None) -> str:
    """A fraction (a share, a lower bound) as a CSV cell: four decimals rounded half up, or
    empty for None. The admin shows the same figures as percentages: ``stats.format_percent``.

    A float is converted exactly (``Decimal(float)``), so the rounding is of its own value.
    """
    fraction = _fraction(value)
    return "" if fraction is None else str(fraction)


def _fraction(value: Decimal | float | None) -> Decimal | None:
    """``format_fraction`` as a number, which a row writes bare."""
    if value is None:
        return None
    return Decimal(value).quantize(_FOUR_PLACES, rounding=ROUND_HALF_UP)


def _cell(value: object) -> str:
    """One field as COPY writes it: None bare and empty, a text (``str``) always in quotes with
    quotes doubled, a number (int, Decimal) bare.

    Not Python's csv module: its QUOTE_NONNUMERIC quotes None as ``""`` too, and it writes a
    lone CR differently from one version to the next; this is exactly COPY's output.
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return '"' + value.replace('"', '""') + '"'
    return str(value)


def _line(values: Iterable[object]) -> str:
    return ",".join(_cell(value) for value in values) + "\n"


def _header(names: Iterable[str]) -> str:
    """The header row: bare column names (letters and underscores; nothing to quote)."""
    return ",".join(names) + "\n"


def _text(value: str) -> str | None:
    """A text column as both paths write it: neutralised, and empty as NULL (a bare field)."""
    return neutralise(value) if value else None


def _timestamp(value: datetime | None) -> str | None:
    """A time column: ``format_timestamp``, and a missing time as NULL (a bare field)."""
    return None if value is None else format_timestamp(value)


# Shared plumbing.


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}.")


def _use_copy() -> bool:
    return connection.vendor == "postgresql"


def _ratings(
    options: ExportOptions | None, rating_ids: Sequence[int] | QuerySet[Rating] | None
) -> QuerySet[Rating]:
    ratings = (options or ExportOptions()).filter(Rating.objects.all())
    if isinstance(rating_ids, QuerySet):
        ratings = ratings.filter(pk__in=rating_ids.order_by().values("pk"))
    elif rating_ids is not None:
        ratings = ratings.filter(pk__in=list(rating_ids))
    return ratings


def _finish(
    chunks: Iterator[tuple[bytes, int]], *, bom: bool, progress: ProgressCallback | None
) -> Iterator[bytes]:
    """Prefix the BOM, report progress, and close the source when the consumer stops."""
    try:
        first = True
        for data, rows in chunks:
            if first and bom:
                data = BOM + data
            first = False
            yield data
            if progress is not None:
                progress(rows)
    finally:
        chunks.close()


# The Python path: every kind on SQLite, daily and summary everywhere.

RATING_FIELDS = (
    "id",
    "created_at",
    "updated_at",
    "explainer_id",
    "explainer__slug",
    "explainer__headline",
    "explainer_version",
    "useful",
    "reason",
    "comment",
)


def _rating_rows(ratings: QuerySet[Rating]) -> Iterator[tuple[object, ...]]:
    """The cells of each rating, by id, from one SELECT read ``CHUNK_ROWS`` at a time."""
    query = ratings.order_by("id").values_list(*RATING_FIELDS)
    with closing(query.iterator(chunk_size=CHUNK_ROWS)) as rows:
        for (
            pk,
            created,
            updated,
            explainer_id,
            slug,
            headline,
            version,
            useful,
            reason,
            comment,
        ) in rows:
            yield (
                pk,
                _timestamp(created),
                _timestamp(updated),
                explainer_id,
                _text(slug),
                _text(headline),
                version,
                "yes" if useful else "no",
                _text(reason),
                _text(comment),
            )


def _daily_queryset(ratings: QuerySet[Rating]) -> QuerySet:
    return (
        ratings.annotate(day=TruncDate("created_at", tzinfo=UTC))
        .values("day", "explainer_id", "explainer__slug")
        .annotate(votes=Count("id"), useful_votes=Count("id", filter=Q(useful=True)))
        .order_by("day", "explainer_id")
    )


def _daily_rows(ratings: QuerySet[Rating]) -> Iterator[tuple[object, ...]]:
    """The cells of each (UTC day, explainer) with votes, by day then explainer."""
    with closing(_daily_queryset(ratings).iterator(chunk_size=CHUNK_ROWS)) as rows:
        for row in rows:
            votes, useful = row["votes"], row["useful_votes"]
            yield (
                row["day"].isoformat(),
                row["explainer_id"],
                _text(row["explainer__slug"]),
                votes,
                useful,
                votes - useful,
                _fraction(Decimal(useful) / votes),
            )


def _summary_rows(ratings: QuerySet[Rating]) -> Iterator[tuple[object, ...]]:
    """The cells of each explainer with votes among ``ratings``, by explainer id."""
    summary = (
        ratings.values(
            "explainer_id", "explainer__slug", "explainer__headline", "explainer__published_at"
        )
        .annotate(votes=Count("id"), useful_votes=Count("id", filter=Q(useful=True)))
        .order_by("explainer_id")
    )
    with closing(summary.iterator(chunk_size=CHUNK_ROWS)) as rows:
        for row in rows:
            votes, useful = row["votes"], row["useful_votes"]
            yield (
                row["explainer_id"],
                _text(row["explainer__slug"]),
                _text(row["explainer__headline"]),
                _timestamp(row["explainer__published_at"]),
                votes,
                useful,
                votes - useful,
                _fraction(Decimal(useful) / votes),
                _fraction(wilson_lower_bound(useful, votes)),
            )


def _python_chunks(
    rows: Iterator[tuple[object, ...]], header: tuple[str, ...]
) -> Iterator[tuple[bytes, int]]:
    """Yield (chunk, rows written so far): the header, then ``rows`` as CSV lines."""
    with closing(rows):
        lines = [_header(header)]
        size = len(lines[0])
        written = 0
        for row in rows:
            line = _line(row)
            lines.append(line)
            size += len(line)
            written += 1
            # Characters rather than bytes: near enough to decide when to hand a chunk over.
            if size >= CHUNK_BYTES:
                yield "".join(lines).encode(), written
                lines.clear()
                size = 0
        yield "".join(lines).encode(), written


# The ratings kind: PostgreSQL COPY path.


def _sql_utc_timestamp(column: str) -> str:
    """PostgreSQL: ``format_timestamp`` of ``column`` (a plain column reference) in SQL.

    A timestamp's own text output, which ``DateStyle`` ISO (set by the COPY for its
    transaction) writes in exactly that form: several times cheaper over a million rows than
    ``to_char`` or building the text from pieces.
    """
    return f"date_trunc('second', {column} AT TIME ZONE 'UTC')"


def _sql_codes(chars: str) -> str:
    return ", ".join(str(ord(char)) for char in chars)


def _sql_contains(column: str, char: str) -> str:
    return f"strpos({column}, chr({ord(char)})) > 0"


def _sql_spreadsheet_text(column: str) -> str:
    """PostgreSQL: ``_text`` of ``column`` (a plain column reference) in SQL, with the very
    regular expressions of ``neutralise``.

    COPY writes NULL as a bare empty field but '' as ``""``, so an empty text becomes NULL, as
    the Python path writes it. Most text holds no cell break and starts with no formula
    character, line break or blank: byte searches (strpos; a regular expression would first
    convert the whole text to wide characters) and ascii() settle it, and the regular
    expressions run only where they may change something: the inner one needs a cell break
    and a formula character.
    """
    has_break = " OR ".join(_sql_contains(column, char) for char in CELL_BREAK_CHARS)
    has_formula = " OR ".join(_sql_contains(column, char) for char in FORMULA_CHARS)
    needs_leading = (
        f"(ascii({column}) IN ({_sql_codes(FORMULA_CHARS + LINE_CHARS)}) "
        f"OR (ascii({column}) IN ({_sql_codes(BLANK_CHARS)}) AND {column} ~ '{LEADING_FORMULA}'))"
    )
    return (
        f"CASE WHEN {column} = '' THEN NULL "
        f"WHEN ({has_break}) AND ({has_formula}) "
        f"THEN CASE WHEN {needs_leading} THEN '''' ELSE '' END "
        f"|| regexp_replace({column}, '{INNER_FORMULA}', '\\1''', 'g') "
        f"WHEN {needs_leading} THEN '''' || {column} "
        f"ELSE {column} END"
    )


def ratings_copy_sql(
    *,
    options: ExportOptions | None = None,
    rating_ids: Sequence[int] | QuerySet[Rating] | None = None,
) -> str:
    """PostgreSQL: the COPY statement behind the ratings export (to EXPLAIN or benchmark it).

    Its output is the export without the header line, on a connection whose DateStyle is ISO
    (the default; the export itself sets it).
    """
    return _ratings_copy_sql(_ratings(options, rating_ids))


# The rating columns the COPY reads; slug and headline come from the explainer.
_COPY_RATING_COLUMNS = (
    "id",
    "created_at",
    "updated_at",
    "explainer_id",
    "explainer_version",
    "useful",
    "reason",
    "comment",
)
# The text columns of the COPY's output, quoted as the Python path quotes every str; COPY
# never quotes NULL, which is how both paths write an empty text.
_QUOTED_COLUMNS = tuple(
    name for name in HEADERS["ratings"] if name not in ("id", "explainer_id", "explainer_version")
)


# The times are the timestamps' own text, whose form DateStyle decides: SET LOCAL fixes it for
# the COPY's transaction only, whatever the server or role default.
_ISO_DATES = "SET LOCAL DateStyle TO ISO"


def _ratings_copy_sql(ratings: QuerySet[Rating]) -> str:
    """The COPY statement for ``ratings``, filters inlined as literals.

    psycopg sends COPY as a simple query, which takes no bind parameters: the ORM compiles the
    SELECT of the ratings (so the filters are the very ones of the Python path) and Django's
    ``compose_sql`` quotes the values client-side; the formatting is written around it.

    An explainer's slug and headline are neutralised once per explainer, not once per rating:
    they come from a LATERAL subquery that PostgreSQL memoizes per explainer id (OFFSET 0
    keeps the planner from merging it into the join, which would format them on every row).
    A reason is one of Reason's values (a database constraint), none of which ``neutralise``
    changes (a test checks it), so only its empty text becomes NULL.
    """
    rows = ratings.order_by().values_list(*_COPY_RATING_COLUMNS)
    select = connection.ops.compose_sql(*rows.query.sql_with_params())
    quote = connection.ops.quote_name
    explainers = quote(Explainer._meta.db_table)
    slug, headline = (
        quote(Explainer._meta.get_field(name).column) for name in ("slug", "headline")
    )
    # No HEADER: the header line comes from HEADERS, as on the Python path. COPY ends every
    # row with \n.
    return (
        "COPY (SELECT r.id, "
        f"{_sql_utc_timestamp('r.created_at')} AS created_at, "
        f"{_sql_utc_timestamp('r.updated_at')} AS updated_at, "
        "r.explainer_id, e.slug AS explainer_slug, e.headline AS explainer_headline, "
        "r.explainer_version, CASE WHEN r.useful THEN 'yes' ELSE 'no' END AS useful, "
        f"NULLIF(r.reason, '') AS reason, {_sql_spreadsheet_text('r.comment')} AS comment "
        f"FROM ({select}) AS r CROSS JOIN LATERAL ("
        f"SELECT {_sql_spreadsheet_text(slug)} AS slug, "
        f"{_sql_spreadsheet_text(headline)} AS headline "
        f"FROM {explainers} WHERE {explainers}.{quote('id')} = r.explainer_id OFFSET 0) AS e "
        "ORDER BY r.id) "
        f"TO STDOUT WITH (FORMAT csv, FORCE_QUOTE ({', '.join(_QUOTED_COLUMNS)}))"
    )


def _ratings_copy(ratings: QuerySet[Rating], *, jobs: int) -> Iterator[tuple[bytes, int]]:
    """Yield (chunk, rows written so far) straight from the server's COPY output.

    With ``jobs`` above 1, outside a transaction, and ratings enough to be worth it, the
    ratings are cut into that many ranges of ids, copied at once (``parallel_copy``).
    Inside a transaction (an atomic block, or autocommit turned off) the export must see
    that transaction's own writes, which other connections cannot: it then runs on Django's
    connection alone.
    """
    if jobs > 1 and connection.get_autocommit() and not connection.in_atomic_block:
        bounds = ratings.aggregate(low=Min("pk"), high=Max("pk"))
        low, high = bounds["low"], bounds["high"]
        if low is not None and high - low >= PARALLEL_MIN_IDS:
            yield from _ratings_copy_parallel(ratings, jobs, low, high)
            return
    yield from _ratings_copy_single(ratings)


def _ratings_copy_single(ratings: QuerySet[Rating]) -> Iterator[tuple[bytes, int]]:
    """``_ratings_copy`` on Django's connection, in one COPY."""
    try:
        statement = _ratings_copy_sql(ratings)
    except EmptyResultSet:
        # Nothing can match (no ratings chosen): the header alone, as on the Python path.
        yield _header(HEADERS["ratings"]).encode(), 0
        return
    cursor = connection.cursor()
    try:
        with transaction.atomic():
            cursor.execute(_ISO_DATES)
            # Django's cursor logs the COPY like any query when queries are logged, but
            # leaves psycopg's errors from its Copy object unwrapped.
            with connection.wrap_database_errors, cursor.copy(statement) as copy:
                buffer = bytearray(_header(HEADERS["ratings"]).encode())
                written = 0
                # libpq hands over COPY data one row at a time; taking the rows in batches
                # leaves the per-row work to C (islice, join), not to this loop.
                rows = iter(copy)
                while batch := list(islice(rows, COPY_BATCH_ROWS)):
                    buffer += b"".join(batch)
                    written += len(batch)
                    if len(buffer) >= CHUNK_BYTES:
                        yield bytes(buffer), written
                        buffer.clear()
        # Outside the transaction: the connection is not left idle in one while the consumer
        # takes the last chunk.
        yield bytes(buffer), written
    finally:
        # Leaving the COPY block early cancels the query on the server (psycopg's Copy exit).
        cursor.close()


def _ratings_copy_parallel(
    ratings: QuerySet[Rating], jobs: int, low: int, high: int
) -> Iterator[tuple[bytes, int]]:
    """``_ratings_copy`` in ``jobs`` parts of about equal id ranges, run at once.

    The first and last parts are open-ended, so a rating is in exactly one part whatever
    its id; the parts share one snapshot, so they are one consistent export. When the parts'
    connections cannot be had (the server's connection slots are taken, say), the export
    runs on one connection instead.
    """
    cuts = [low + (high - low + 1) * part // jobs for part in range(1, jobs)]
    ranges = zip([None, *cuts], [*cuts, None], strict=True)
    statements = [
        _ratings_copy_sql(
            ratings.filter(
                Q(pk__gte=start) if start is not None else Q(),
                Q(pk__lt=end) if end is not None else Q(),
            )
        )
        for start, end in ranges
    ]
    setup = [
        _ISO_DATES,
        # The parts are the parallelism: workers of their own would only crowd the cores.
        "SET LOCAL max_parallel_workers_per_gather = 0",
    ]
    chunks = parallel_copy.copy_in_parts(statements, setup=setup)
    with closing(chunks):
        try:
            first = next(chunks, None)
        except parallel_copy.PartsUnavailable as error:
            logger.warning("Exporting on one connection: %s", error)
            yield from _ratings_copy_single(ratings)
            return
        written = 0
        header = _header(HEADERS["ratings"]).encode()
        for chunk, rows in chain([first] if first is not None else [], chunks):
            written += rows
            yield header + chunk, written
            header = b""
        if header:
            yield header, 0
