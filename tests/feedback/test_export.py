import csv
import io
import random
import re
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.db import Error as DatabaseInterfaceError
from django.db import connection
from hypothesis import given
from hypothesis import strategies as st

from explainers.models import Explainer
from feedback import export
from feedback.export import (
    BOM,
    CHUNK_BYTES,
    ExportOptions,
    count_rows,
    export_csv,
    export_filename,
    format_fraction,
    neutralise,
)
from feedback.forms import ExportForm
from feedback.models import Rating, Reason
from feedback.stats import wilson_lower_bound
from tests.factories import ExplainerFactory, TopicFactory
from tests.feedback import csv_payloads
from tests.feedback.exports import body, bulk_ratings, python_body, run_command, spy_on_parts
from tests.feedback.factories import RatingFactory

pytestmark = pytest.mark.django_db

POSTGRESQL = connection.vendor == "postgresql"

RATINGS_HEADER = (
    "id,created_at,updated_at,explainer_id,explainer_slug,explainer_headline,"
    "explainer_version,useful,reason,comment\n"
)
DAILY_HEADER = "date,explainer_id,explainer_slug,votes,useful,not_useful,useful_share\n"
SUMMARY_HEADER = (
    "explainer_id,explainer_slug,explainer_headline,published_at,votes,useful,not_useful,"
    "useful_share,wilson_lower_95\n"
)
NOON = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def export_options(**filters) -> ExportOptions:
    """The export options the export form makes of ``filters``, as an analyst types them."""
    form = ExportForm({"kind": "ratings", **filters})
    assert form.is_valid(), form.errors
    return form.cleaned_data["options"]


def run(kind="ratings", *, bom=False, rating_ids=None, **filters) -> bytes:
    """The whole export as bytes."""
    options = export_options(**filters)
    return b"".join(export_csv(kind=kind, options=options, bom=bom, rating_ids=rating_ids))


def text(kind="ratings", **filters) -> str:
    return run(kind, **filters).decode()


def table(kind="ratings", **filters) -> list[dict[str, str]]:
    """The export parsed back, one dict per data row."""
    return list(csv.DictReader(io.StringIO(text(kind, **filters), newline="")))


def ids(kind="ratings", column="id", **filters) -> list[int]:
    return [int(row[column]) for row in table(kind, **filters)]


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# The ratings kind.


def test_ratings_header_and_row():
    """A rating is written as one line with every column, times in UTC."""
    explainer = ExplainerFactory(published=True, slug="talks", headline="Envoy talks")
    rating = RatingFactory(
        explainer=explainer,
        useful=False,
        reason=Reason.TOO_LONG,
        comment="Too much detail",
        explainer_version=3,
        created_at=at(2026, 11, 26, 3, 36, 59, 123456),
        updated_at=at(2026, 11, 26, 4, 0, 0, 5),
    )
    assert text() == RATINGS_HEADER + (
        f'{rating.pk},"2026-11-26 03:36:59","2026-11-26 04:00:00",'
        f'{explainer.pk},"talks","Envoy talks",3,"no","too-long","Too much detail"\n'
    )


def test_ratings_empty_export_is_the_header():
    """With no ratings the export is the header line alone."""
    assert text() == RATINGS_HEADER


def test_ratings_times_drop_fractions_of_a_second():
    """Times are cut, not rounded, to the second, so they all have one width and sort as text."""
    RatingFactory(
        created_at=at(2026, 1, 2, 3, 4, 5), updated_at=at(2026, 12, 31, 23, 59, 59, 999999)
    )
    row = table()[0]
    assert (row["created_at"], row["updated_at"]) == (
        "2026-01-02 03:04:05",
        "2026-12-31 23:59:59",
    )


def test_ratings_useful_is_yes_and_empty_text_is_a_bare_field():
    """A "yes" with no reason or comment ends in "yes" and two bare empty fields."""
    RatingFactory(useful=True)
    assert text().splitlines()[1].endswith(',"yes",,')


def test_ratings_ordered_by_id():
    """Rows come in id order, whatever the creation times."""
    first = RatingFactory(created_at=at(2026, 5, 1))
    second = RatingFactory(created_at=at(2026, 1, 1))
    third = RatingFactory(created_at=at(2026, 3, 1))
    assert ids() == [first.pk, second.pk, third.pk]


def test_ratings_include_unpublished_explainers():
    """Ratings of an explainer unpublished since are exported too."""
    rating = RatingFactory(explainer=ExplainerFactory(status=Explainer.Status.UNPUBLISHED))
    assert ids() == [rating.pk]


def test_rows_end_with_newline_only():
    """Every row ends with \\n, never \\r\\n."""
    RatingFactory(comment="fine")
    data = run()
    assert b"\r" not in data
    assert data.count(b"\n") == 2


# Filters.


def test_since_includes_its_utc_midnight():
    """since includes a rating at 00:00 UTC that day and excludes the microsecond before."""
    inside = RatingFactory(created_at=at(2026, 11, 20))
    RatingFactory(created_at=at(2026, 11, 19, 23, 59, 59, 999999))
    assert ids(since="2026-11-20") == [inside.pk]


def test_until_includes_its_whole_day():
    """until includes its last microsecond and excludes 00:00 UTC the next day."""
    inside = RatingFactory(created_at=at(2026, 11, 20, 23, 59, 59, 999999))
    RatingFactory(created_at=at(2026, 11, 21))
    assert ids(until="2026-11-20") == [inside.pk]


def test_since_equal_to_until_is_one_day():
    """since and until on the same date export that one UTC day."""
    RatingFactory(created_at=at(2026, 11, 19, 23, 0))
    inside = RatingFactory(created_at=NOON)
    RatingFactory(created_at=at(2026, 11, 21, 0, 30))
    assert ids(since="2026-11-20", until="2026-11-20") == [inside.pk]


def test_filter_by_explainers():
    """Naming explainers by slug exports their ratings only."""
    first = RatingFactory(explainer=ExplainerFactory(published=True, slug="one"))
    RatingFactory(explainer=ExplainerFactory(published=True, slug="two"))
    third = RatingFactory(explainer=ExplainerFactory(published=True, slug="three"))
    assert ids(explainers=["one", "three"]) == [first.pk, third.pk]


def test_filter_by_topic():
    """A topic slug exports the ratings of that topic's explainers only."""
    topic = TopicFactory(slug="economy")
    inside = RatingFactory(explainer=ExplainerFactory(published=True, topic=topic))
    RatingFactory(explainer=ExplainerFactory(published=True, topic=TopicFactory()))
    RatingFactory()
    assert ids(topic="economy") == [inside.pk]


def test_rating_ids_restrict_the_export():
    """A list of rating ids exports those ratings only."""
    first, _, third = RatingFactory.create_batch(3)
    assert ids_of(export_csv(kind="ratings", rating_ids=[third.pk, first.pk])) == [
        first.pk,
        third.pk,
    ]


def test_rating_queryset_restricts_the_export():
    """A queryset of ratings exports those ratings only."""
    first, second, _ = RatingFactory.create_batch(3)
    selected = Rating.objects.filter(pk__in=[first.pk, second.pk])
    assert ids_of(export_csv(kind="ratings", rating_ids=selected)) == [first.pk, second.pk]


def ids_of(chunks) -> list[int]:
    rows = csv.DictReader(io.StringIO(b"".join(chunks).decode(), newline=""))
    return [int(row["id"]) for row in rows]


# A kind the code does not know (bad filters: test_export_form.py).


def test_unknown_kind_is_refused():
    """A kind other than ratings, daily or summary is a programming error."""
    with pytest.raises(ValueError, match="kind must be one of"):
        export_csv(kind="everything")


def test_last_representable_day_has_no_upper_bound():
    """until 9999-12-31 exports everything instead of overflowing."""
    rating = RatingFactory()
    assert ids(until=date.max.isoformat()) == [rating.pk]


# Spreadsheet safety and quoting.


# Characters before a formula character that a reader does not see, as the tests know them.
UNSEEN = " \u00a0\u202f\u2007\u200b\u200c\u200d\u2060\ufeff\u3000"
FORMULA_STARTS = tuple("=+-@\uff1d\uff0b\uff0d\uff20")


def live_formulas(cell: str) -> list[str]:
    """The pieces of ``cell`` a spreadsheet could read as formulas: the cell itself (also when
    it starts with a tab or line break), and each part after a ";", tab or line break, where a
    spreadsheet reading with another separator starts a new cell; unseen characters skipped."""
    found = [cell] if cell.lstrip(UNSEEN).startswith((*FORMULA_STARTS, "\t", "\r", "\n")) else []
    parts = re.split(r"[;\t\r\n]", cell)[1:]
    return found + [part for part in parts if part.lstrip(UNSEEN).startswith(FORMULA_STARTS)]


@pytest.mark.parametrize("prefix", ["=", "+", "-", "@", "\t", "\r", "\n"])
def test_formula_prefix_is_neutralised(prefix):
    """A comment starting with a formula character gets a leading single quote."""
    RatingFactory(useful=False, comment=f"{prefix}SUM(A1:A9)")
    assert table()[0]["comment"] == f"'{prefix}SUM(A1:A9)"


@pytest.mark.parametrize("payload", csv_payloads.INJECTIONS)
def test_injection_payloads_are_neutralised(payload):
    """No payload of the corpus leaves a piece a spreadsheet could run, and only ' is added."""
    RatingFactory(useful=False, comment=payload)
    comment = table()[0]["comment"]
    assert live_formulas(payload), "the corpus entry should be dangerous as it stands"
    assert live_formulas(comment) == []
    assert comment.replace("'", "") == payload.replace("'", "")


@pytest.mark.parametrize("payload", csv_payloads.SAFE_WHEN_QUOTED + csv_payloads.HARMLESS)
def test_harmless_text_is_unchanged(payload):
    """Text that no spreadsheet would run comes out exactly as the reader wrote it."""
    RatingFactory(useful=False, comment=payload)
    assert table()[0]["comment"] == payload


def test_semicolon_payload_is_neutralised_inside_the_cell():
    """x;=cmd… gets its ' after the ";", where a semicolon-separated reading starts a cell."""
    RatingFactory(useful=False, comment="x;=cmd|' /C calc'!A0")
    assert text().splitlines()[1].endswith(",\"x;'=cmd|' /C calc'!A0\"")


def test_full_width_and_zero_width_tricks_are_neutralised():
    """A full-width ＝ and a = behind a zero-width space or no-break space get a leading '."""
    assert [neutralise(value) for value in ("\uff1d1+1", "\u200b=1", "\u00a0@A1")] == [
        "'\uff1d1+1",
        "'\u200b=1",
        "'\u00a0@A1",
    ]


def test_no_reason_needs_neutralising():
    """Every reason is left as it is, which lets the COPY path skip neutralising reasons."""
    assert [neutralise(reason) for reason in Reason.values] == Reason.values


TRICKY = st.text(
    alphabet=st.sampled_from(list("ab1;,\"'\t\r\n" + UNSEEN + "".join(FORMULA_STARTS))),
    max_size=12,
)


@given(TRICKY)
def test_neutralise_leaves_nothing_to_run_and_only_adds_quotes(value):
    """Whatever the text, nothing in it can start a formula, only ' was added, and it is stable."""
    neutral = neutralise(value)
    assert live_formulas(neutral) == []
    assert neutral.replace("'", "") == value.replace("'", "")
    assert neutralise(neutral) == neutral


def test_formula_in_slug_and_headline_is_neutralised():
    """Slug and headline are neutralised like comments."""
    RatingFactory(explainer=ExplainerFactory(slug="-minus", headline="=HYPERLINK(1)"))
    row = table()[0]
    assert (row["explainer_slug"], row["explainer_headline"]) == ("'-minus", "'=HYPERLINK(1)")


def test_formula_character_inside_text_is_left_alone():
    """Only a leading formula character matters: "a=b" and "x-1" are unchanged."""
    RatingFactory(comment="a=b, x-1 @home")
    assert table()[0]["comment"] == "a=b, x-1 @home"


def test_numbers_stay_numbers_and_text_is_quoted():
    """Numeric columns are bare; a comment of digits is text, so it is quoted."""
    rating = RatingFactory(comment="42", explainer_version=7)
    line = text().splitlines()[1]
    assert line.startswith(f'{rating.pk},"')
    assert line.endswith(',7,"yes",,"42"')


def test_fields_with_comma_quote_or_newline_are_quoted():
    """Commas, quotes, LF and CR put a field in quotes, with quotes doubled (RFC 4180)."""
    RatingFactory(comment='Say "hi", then\nleave\r\nnow\rplease')
    assert text().endswith(',"Say ""hi"", then\nleave\r\nnow\rplease"\n')


def test_quoted_fields_read_back_unchanged():
    """A reader following RFC 4180 gets the comment back exactly."""
    comment = 'Ünïcode, "quotes"\r\nand lines'
    RatingFactory(comment=comment)
    assert table()[0]["comment"] == comment


def test_bom_option_starts_file_with_bom():
    """With bom the file starts with one UTF-8 byte-order mark, then the header."""
    assert run(bom=True) == BOM + RATINGS_HEADER.encode()


def test_no_bom_by_default():
    """Without bom the file starts with the header."""
    assert run().startswith(b"id,")


# The daily kind.


def test_daily_header_and_rows():
    """daily counts votes per explainer per UTC day, with the share found useful."""
    explainer = ExplainerFactory(published=True, slug="talks")
    RatingFactory(explainer=explainer, useful=True, created_at=NOON)
    RatingFactory(explainer=explainer, useful=True, created_at=NOON)
    RatingFactory(explainer=explainer, useful=False, created_at=NOON)
    assert text("daily") == DAILY_HEADER + f'"2026-11-20",{explainer.pk},"talks",3,2,1,0.6667\n'


def test_daily_ordered_by_date_then_explainer():
    """daily has a row per day with votes, by date then explainer id."""
    first, second = ExplainerFactory(published=True), ExplainerFactory(published=True)
    RatingFactory(explainer=second, created_at=at(2026, 11, 21, 9))
    RatingFactory(explainer=first, created_at=at(2026, 11, 21, 10))
    RatingFactory(explainer=second, created_at=at(2026, 11, 19, 8))
    assert [(row["date"], int(row["explainer_id"])) for row in table("daily")] == [
        ("2026-11-19", second.pk),
        ("2026-11-21", first.pk),
        ("2026-11-21", second.pk),
    ]


def test_daily_days_are_utc_whatever_the_site_time_zone(settings):
    """Days are cut at UTC midnight even when the site's time zone is elsewhere."""
    settings.TIME_ZONE = "America/New_York"
    RatingFactory(created_at=at(2026, 11, 20, 23, 59, 59, 999999))
    RatingFactory(created_at=at(2026, 11, 21, 0, 0))
    assert [row["date"] for row in table("daily")] == ["2026-11-20", "2026-11-21"]


def test_daily_respects_filters():
    """daily counts only the ratings inside the filters."""
    explainer = ExplainerFactory(published=True, slug="talks")
    RatingFactory(explainer=explainer, created_at=at(2026, 11, 19, 12))
    RatingFactory(explainer=explainer, created_at=NOON)
    RatingFactory(created_at=NOON)
    rows = table("daily", since="2026-11-20", explainers=["talks"])
    assert [(row["date"], row["votes"]) for row in rows] == [("2026-11-20", "1")]


# The summary kind.


def test_summary_header_and_rows():
    """summary counts votes per explainer with the share and Wilson's lower bound."""
    explainer = ExplainerFactory(
        published=True, slug="talks", headline="Talks", published_at=at(2026, 11, 1, 8, 30)
    )
    RatingFactory.create_batch(2, explainer=explainer, useful=True)
    RatingFactory(explainer=explainer, useful=False)
    assert text("summary") == SUMMARY_HEADER + (
        f'{explainer.pk},"talks","Talks","2026-11-01 08:30:00",3,2,1,0.6667,0.2077\n'
    )


def test_summary_covers_explainers_rated_in_range_by_id():
    """summary lists, by id, only explainers with a rating in the range."""
    first, second, third = (ExplainerFactory(published=True) for _ in range(3))
    RatingFactory(explainer=third, created_at=NOON)
    RatingFactory(explainer=second, created_at=at(2026, 1, 1))
    RatingFactory(explainer=first, created_at=NOON)
    assert ids("summary", column="explainer_id", since="2026-11-01") == [first.pk, third.pk]


def test_summary_of_never_published_explainer_has_empty_published_at():
    """An explainer without a publication time has an empty published_at."""
    RatingFactory(explainer=ExplainerFactory(status=Explainer.Status.DRAFT))
    assert table("summary")[0]["published_at"] == ""


def test_fractions_have_four_decimals_rounded_half_up():
    """useful_share and wilson_lower_95 cells have four decimals, rounded half up."""
    assert [
        format_fraction(Decimal(2) / 3),
        format_fraction(Decimal(1) / 8),
        format_fraction(Decimal(1) / 20000),
        format_fraction(0.207652),
        format_fraction(0.0),
    ] == ["0.6667", "0.1250", "0.0001", "0.2077", "0.0000"]


def test_missing_fraction_is_empty():
    """A fraction that does not exist (no votes) is an empty cell."""
    assert format_fraction(None) == ""


def test_summary_lower_bound_is_the_one_the_admin_ranks_by():
    """wilson_lower_95 is stats.wilson_lower_bound, the admin's own, to four places."""
    explainer = ExplainerFactory()
    RatingFactory.create_batch(9, explainer=explainer, useful=True)
    RatingFactory(explainer=explainer, useful=False)
    (row,) = table("summary")
    assert row["wilson_lower_95"] == f"{wilson_lower_bound(9, 10):.4f}" == "0.5958"


# Counting, chunking and queries.


@pytest.mark.parametrize("kind", ["ratings", "daily", "summary"])
def test_count_rows_matches_data_rows(kind):
    """count_rows gives the number of data rows the export writes."""
    explainer = ExplainerFactory(published=True)
    RatingFactory.create_batch(2, explainer=explainer, created_at=NOON)
    RatingFactory(explainer=explainer, created_at=at(2026, 11, 21, 1))
    RatingFactory(created_at=NOON)
    assert count_rows(kind=kind) == len(table(kind))


def test_progress_reports_rows_written():
    """The progress callback ends with the number of data rows written."""
    RatingFactory.create_batch(3)
    seen = []
    b"".join(export_csv(kind="ratings", progress=seen.append))
    assert seen[-1] == 3


def test_large_export_streams_in_bounded_chunks():
    """A large export comes in several chunks of about CHUNK_BYTES, never all at once."""
    bulk_ratings(2500)
    sizes = [len(chunk) for chunk in export_csv(kind="ratings")]
    assert len(sizes) > 3
    assert all(CHUNK_BYTES <= size < 2 * CHUNK_BYTES for size in sizes[:-1])


@pytest.mark.parametrize("count", [3, 2500])
def test_ratings_export_query_count_does_not_grow(count, django_assert_num_queries):
    """The ratings export reads its rows in one query whether they are 3 or a fetch's worth."""
    bulk_ratings(count)
    # On PostgreSQL the one COPY runs in a transaction (savepoint here) that sets DateStyle.
    with django_assert_num_queries(1 if connection.vendor == "sqlite" else 4):
        data = run()
    assert data.count(b"\n") == count + 1


def test_closing_the_stream_early_closes_the_cursor(monkeypatch):
    """A consumer that stops after the first chunk (a client gone) closes the cursor."""
    bulk_ratings(2500)
    cursors = []
    real_cursor = connection.cursor

    def recording_cursor(*args, **kwargs):
        cursors.append(real_cursor(*args, **kwargs))
        return cursors[-1]

    monkeypatch.setattr(connection, "cursor", recording_cursor)
    chunks = export_csv(kind="ratings")
    next(chunks)
    chunks.close()
    assert cursors
    for cursor in cursors:
        with pytest.raises(DatabaseInterfaceError):
            cursor.execute("SELECT 1")


def test_export_filename_is_dated():
    """The download name carries the kind and the date."""
    assert export_filename("daily", today=date(2026, 11, 26)) == "feedback-daily-2026-11-26.csv"


# PostgreSQL: COPY and the Python path agree byte for byte.


def random_tricky_texts(count: int) -> list[str]:
    """``count`` short texts of formula, blank and break characters, the same on every run."""
    alphabet = "ab;\t\r\n\"'" + UNSEEN + "".join(FORMULA_STARTS)
    chooser = random.Random(9)
    return ["".join(chooser.choices(alphabet, k=chooser.randint(1, 8))) for _ in range(count)]


@pytest.mark.postgresql
@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY needs PostgreSQL")
@pytest.mark.parametrize(
    "filters",
    [
        {},
        {"since": "2026-11-20", "until": "2026-11-21"},
        {"explainers": ["b"], "bom": True},
        {"topic": "econ", "since": "2026-11-21"},
    ],
    ids=["all", "range", "explainer-bom", "topic"],
)
def test_copy_and_python_paths_are_byte_identical(filters, monkeypatch):
    """PostgreSQL's COPY and the Python writer produce the same bytes for the same data."""
    topic = TopicFactory(slug="econ")
    awkward = ExplainerFactory(
        published=True, slug="b", headline='=Cost, "tax"\nand €', topic=topic
    )
    plain = ExplainerFactory(status=Explainer.Status.UNPUBLISHED, slug="a", headline="Plain")
    comments = ["", "plain", "a, b", 'q"q', "l\nf", "c\rr", "crlf\r\n", "é ü 日本", "\\.", " pad "]
    comments += ["9 lives", '"quoted" first', "A", "=", "~tilde", "[bracket", "\x7f", "Ωmega"]
    comments += [f"{prefix}x" for prefix in ("=", "+", "-", "@", "\t", "\r")]
    comments += csv_payloads.INJECTIONS + csv_payloads.SAFE_WHEN_QUOTED + csv_payloads.HARMLESS
    comments += random_tricky_texts(200)
    for n, comment in enumerate(comments):
        RatingFactory(
            explainer=awkward if n % 2 else plain,
            useful=not n % 3,
            reason="" if not n % 3 else Reason.OTHER,
            comment=comment,
            explainer_version=n + 1,
            created_at=at(2026, 11, 19 + n % 4, n % 24, n % 60, n % 60, n * 1000 if n % 5 else 0),
        )
    bom = filters.pop("bom", False)
    via_copy = run(bom=bom, **filters)
    monkeypatch.setattr(export, "_use_copy", lambda: False)
    assert run(bom=bom, **filters) == via_copy
    assert via_copy.count(b"\n") > 3


@pytest.mark.postgresql
@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY needs PostgreSQL")
@pytest.mark.django_db(transaction=True)  # SET LOCAL lasts as long as a real transaction
def test_copy_times_do_not_follow_the_connections_date_style():
    """A server or role set to another DateStyle still gets ISO 8601 times from COPY."""
    RatingFactory(created_at=at(2026, 11, 26, 3, 36, 59, 5), updated_at=at(2026, 11, 26, 4, 0))
    with connection.cursor() as cursor:
        cursor.execute("SET DateStyle TO 'SQL, DMY'")
    try:
        row = table()[0]
        with connection.cursor() as cursor:
            cursor.execute("SHOW DateStyle")
            assert cursor.fetchone()[0] == "SQL, DMY"
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET DateStyle TO ISO")
    assert (row["created_at"], row["updated_at"]) == (
        "2026-11-26 03:36:59",
        "2026-11-26 04:00:00",
    )


@pytest.mark.usefixtures("split_small_exports")
@pytest.mark.django_db
@pytest.mark.skipif(not POSTGRESQL, reason="SQLite's Python path writes the header")
@pytest.mark.parametrize("jobs", [1, 3])
def test_an_empty_selection_is_the_header_on_postgresql(jobs):
    """rating_ids=[] (or .none()) exports the header, as on SQLite."""
    RatingFactory()
    header = export._header(export.HEADERS["ratings"]).encode()
    assert body(rating_ids=[], jobs=jobs) == header
    assert body(rating_ids=Rating.objects.none(), jobs=jobs) == header


@pytest.mark.usefixtures("split_small_exports")
@pytest.mark.django_db
@pytest.mark.skipif(not POSTGRESQL, reason="compares COPY with the Python path")
def test_times_before_year_1000_are_the_same_on_both_paths(monkeypatch):
    """Fixed-width times whatever the year, and the same bytes on both paths."""
    RatingFactory(created_at=datetime(999, 5, 6, 7, 8, 9, tzinfo=UTC))
    via_copy = body()
    assert b'"0999-05-06 07:08:09"' in via_copy
    assert python_body(monkeypatch) == via_copy


@pytest.mark.usefixtures("split_small_exports")
@pytest.mark.django_db
@pytest.mark.postgresql
@pytest.mark.skipif(not POSTGRESQL, reason="PostgreSQL's regular expressions")
def test_sql_neutralisation_matches_python_on_random_text():
    """_sql_spreadsheet_text (with its new formula pre-check) equals _text on 20,000 texts."""
    alphabet = "ab;,\"'\t\r\n" + export.BLANK_CHARS + export.FORMULA_CHARS + "é\U0001f600"
    chooser = random.Random(66)
    texts = ["".join(chooser.choices(alphabet, k=chooser.randint(0, 8))) for _ in range(20_000)]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {export._sql_spreadsheet_text('t.c')} "
            "FROM unnest(%s::text[]) WITH ORDINALITY AS t(c, n) ORDER BY n",
            [texts],
        )
        in_sql = [row[0] for row in cursor.fetchall()]
    assert [
        text for text, got in zip(texts, in_sql, strict=True) if got != export._text(text)
    ] == []


@pytest.mark.usefixtures("split_small_exports")
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(POSTGRESQL, reason="SQLite: the Python path")
def test_sqlite_never_splits(monkeypatch):
    """On SQLite --jobs changes nothing and no part connection is attempted."""
    calls = spy_on_parts(monkeypatch)
    for comment in ["=1", "a\nb", ""]:
        RatingFactory(comment=comment)
    assert body(jobs=16) == body(jobs=1)
    run_command("--jobs", "16")
    assert calls == []
