"""Search over what readers see, and the related explainers an explainer page ends with.

Only approved revisions are indexed, when an editor publishes them (``index_revision``,
called by ``explainer_publish``), never on a draft save. A search keeps only the entries
of the revision each published explainer shows now, through ``public_filter``.

Three engines answer the same queries (web search syntax: ``"a phrase"``, ``-word``,
``or``):

- PostgreSQL: the stored, weighted ``tsvector`` under a GIN index, ``websearch_to_tsquery``
  in the NEWSROOM_SEARCH_CONFIG configuration (English stemming by default), ranked by
  ``ts_rank`` with a gentle boost for recent explainers, and ``pg_trgm`` similarity
  against the words of published text for a spelling suggestion;
- SQLite with FTS5: the same syntax translated to an FTS5 query (Porter stemming), ranked
  by ``bm25``;
- SQLite without FTS5: case-insensitive matching of the words, newest first.
"""

import difflib
import hashlib
import math
import re
import time
from dataclasses import dataclass
from datetime import datetime
from functools import cache as memoize

from django.conf import settings
from django.contrib.postgres.search import (
    SearchHeadline,
    SearchQuery,
    SearchRank,
    SearchVector,
    TrigramSimilarity,
)
from django.core.cache import cache
from django.db import connection, connections, router, transaction
from django.db.models import (
    BooleanField,
    Exists,
    F,
    FloatField,
    Func,
    OuterRef,
    Q,
    QuerySet,
    TextField,
    Value,
)
from django.db.models.functions import Concat, Greatest, Length, Now
from django.db.models.signals import post_delete, post_save
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from newsroom.prepared import (
    PLACEHOLDER_INT,
    PLACEHOLDER_INTS,
    PLACEHOLDER_TEXT,
    PLACEHOLDER_TIME,
    PreparedQuery,
)

from . import page_cache, selectors
from .models import Explainer, SearchEntry, SearchWord, Topic

FTS_TABLE = "explainers_search_fts"
MAX_QUERY_LENGTH = 200
RESULTS_PER_PAGE = 20
# How much a brand-new explainer's relevance is raised: half as much again today, a quarter
# after a month, almost nothing after a year, so an old but far better match still wins.
RECENCY_BOOST = 0.5
RECENCY_DAYS = 30.0
EXCERPT_WORDS = 30
START, STOP = "\x02", "\x03"  # highlight markers the database puts around matched words
WORD = re.compile(r"\w+")
LEXICON_WORD = re.compile(r"[^\W\d_]{3,40}")
TOKEN = re.compile(r'"([^"]*)"?|(\S+)')
# Words too common to say what an explainer is about, for finding related ones.
STOP_WORDS = frozenset(
    [
        "a",
        "about",
        "after",
        "again",
        "all",
        "also",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "been",
        "before",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "for",
        "from",
        "had",
        "has",
        "have",
        "he",
        "her",
        "his",
        "how",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "may",
        "more",
        "most",
        "new",
        "not",
        "now",
        "of",
        "on",
        "or",
        "our",
        "over",
        "says",
        "said",
        "she",
        "so",
        "than",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "to",
        "up",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "will",
        "with",
        "would",
        "you",
    ]
)


@dataclass(frozen=True)
class Term:
    words: tuple[str, ...]  # one word, or a phrase
    negative: bool = False


@dataclass(frozen=True)
class Parsed:
    """A query as ``websearch_to_tsquery`` reads it: any of ``groups``, each all its terms."""

    groups: tuple[tuple[Term, ...], ...]

    @property
    def positive_words(self) -> list[str]:
        return [w for group in self.groups for t in group if not t.negative for w in t.words]

    @property
    def is_empty(self) -> bool:
        return not self.positive_words


def parse(raw: str) -> Parsed:
    """Read web search syntax: quoted phrases, ``-word`` to leave out, ``or`` between terms.

    Punctuation separates words, as in PostgreSQL's parser; a token with no letter or digit
    is dropped, so a query of operators and punctuation alone is empty.
    """
    groups: list[list[Term]] = [[]]
    for match in TOKEN.finditer(raw):
        phrase, token = match.groups()
        if phrase is not None:
            words = tuple(w.lower() for w in WORD.findall(phrase))
            negative = False
        else:
            if token.lower() == "or":
                if groups[-1]:
                    groups.append([])
                continue
            negative = token.startswith("-") and len(token) > 1
            words = tuple(w.lower() for w in WORD.findall(token.lstrip("-")))
        if words:
            groups[-1].append(Term(words, negative))
    groups = [g for g in groups if any(not t.negative for t in g)]
    return Parsed(tuple(tuple(g) for g in groups))


def normalise(raw: str) -> str:
    """The query as shown and cached: whitespace collapsed, ends trimmed."""
    return " ".join(raw.split())


# --- Engines ------------------------------------------------------------------------------


def reading():
    """The connection search reads through: the read replica's for readers (db_router)."""
    return connections[router.db_for_read(SearchEntry)]


@memoize
def _fts5_table_exists() -> bool:
    with reading().cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = %s", [FTS_TABLE]
        )
        return cursor.fetchone() is not None


def engine() -> str:
    """``postgresql``, ``fts5`` (SQLite built with FTS5) or ``basic``."""
    if connection.vendor == "postgresql":
        return "postgresql"
    if connection.vendor == "sqlite" and _fts5_table_exists():
        return "fts5"
    return "basic"


class _ParsedOnce(SearchQuery):
    # A scalar subquery: PostgreSQL parses the query once per statement. Bare, a generic plan
    # of a prepared statement parses it again for every row it tests and ranks.
    template = "(SELECT %(function)s(%(expressions)s))"


def _pg_query(raw: str) -> SearchQuery:
    return _ParsedOnce(raw, search_type="websearch", config=settings.SEARCH_CONFIG)


def _fts5_query(parsed: Parsed) -> str:
    """The FTS5 expression for ``parsed``: only quoted words and operators, never user syntax."""

    def quoted(term: Term) -> str:
        return '"' + " ".join(term.words) + '"'

    alternatives = []
    for group in parsed.groups:
        positive = " AND ".join(quoted(t) for t in group if not t.negative)
        expression = f"({positive})"
        for term in group:
            if term.negative:
                expression = f"({expression} NOT {quoted(term)})"
        alternatives.append(expression)
    return " OR ".join(alternatives)


def _basic_condition(parsed: Parsed) -> Q:
    def contains(term: Term) -> Q:
        text = " ".join(term.words)
        return (
            Q(revision__headline__icontains=text)
            | Q(revision__whats_happening__icontains=text)
            | Q(revision__why_its_important__icontains=text)
            | Q(revision__whats_next__icontains=text)
        )

    condition = Q(pk__in=[])
    for group in parsed.groups:
        both = Q()
        for term in group:
            both &= ~contains(term) if term.negative else contains(term)
        condition |= both
    return condition


def public_entries(now=None) -> QuerySet[SearchEntry]:
    """Entries of the revision each published explainer shows readers now, and no other."""
    shown = (
        Explainer.objects.published(now=now)
        .filter(pk=OuterRef("explainer_id"))
        .public_filter(now=now, history_id=OuterRef("revision_id"))
    )
    return SearchEntry.objects.filter(Exists(shown))


def matching(raw: str, parsed: Parsed, now=None) -> QuerySet[SearchEntry]:
    """Public entries matching the query, best first."""
    return ranked(public_entries(now), raw, parsed, match=True)


def ranked(entries, raw: str, parsed: Parsed, *, match: bool) -> QuerySet[SearchEntry]:
    """``entries`` best first for the query; with ``match``, only those that match it."""
    kind = engine()
    if kind == "postgresql":
        query = _pg_query(raw)
        # date_part, a double: EXTRACT's numeric made the boost a tenth of the ranking's cost.
        age_days = Func(
            Now() - F("published_at"),
            template="(date_part('epoch', %(expressions)s) / 86400.0)",
            output_field=FloatField(),
        )
        boost = Value(1.0) + Value(RECENCY_BOOST) / (
            Value(1.0) + Greatest(age_days, Value(0.0)) / Value(RECENCY_DAYS)
        )
        if match:
            entries = entries.filter(vector=query)
        return entries.annotate(rank=SearchRank(F("vector"), query) * boost).order_by(
            "-rank", "-published_at", "-pk"
        )
    if kind == "fts5":
        expression = _fts5_query(parsed)
        table = SearchEntry._meta.db_table
        where = f"{table}.revision_id IN (SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s)"
        return entries.extra(
            where=[where] if match else [],
            params=[expression] if match else [],
            select={
                # bm25 is lower for better matches; the headline weighs ten times the body.
                "rank": f"(SELECT -bm25({FTS_TABLE}, 10.0, 1.0) FROM {FTS_TABLE} "
                f"WHERE {FTS_TABLE} MATCH %s AND rowid = {table}.revision_id)"
            },
            select_params=[expression],
        ).order_by("-rank", "-published_at", "-pk")
    if match:
        entries = entries.filter(_basic_condition(parsed))
    return entries.order_by("-published_at", "-pk")


# --- Excerpts -------------------------------------------------------------------------------


def _marked(text: str) -> SafeString:
    """Escape ``text`` and turn the database's markers into ``<mark>`` elements."""
    out, open_ = [], False
    for part in re.split(f"([{START}{STOP}])", text):
        if part == START and not open_:
            out.append("<mark>")
            open_ = True
        elif part == STOP and open_:
            out.append("</mark>")
            open_ = False
        elif part not in (START, STOP):
            out.append(escape(part))
    if open_:
        out.append("</mark>")
    return mark_safe("".join(out))


def _body(revision) -> str:
    return " ".join(
        " ".join(getattr(revision, f).split())
        for f in ("whats_happening", "why_its_important", "whats_next")
    )


def _python_excerpt(text: str, parsed: Parsed) -> SafeString:
    """Some 30 words around the first match, every query word marked."""
    words = sorted(set(parsed.positive_words), key=len, reverse=True)
    pattern = re.compile("|".join(re.escape(w) for w in words), re.IGNORECASE)
    tokens = text.split()
    first = next((i for i, t in enumerate(tokens) if pattern.search(t)), 0)
    start = max(0, first - EXCERPT_WORDS // 3)
    window = " ".join(tokens[start : start + EXCERPT_WORDS])
    marked = pattern.sub(lambda m: f"{START}{m.group(0)}{STOP}", window.replace(START, ""))
    prefix = "… " if start else ""
    suffix = " …" if start + EXCERPT_WORDS < len(tokens) else ""
    return _marked(prefix + marked + suffix)


def excerpts(entries: list[SearchEntry], raw: str, parsed: Parsed) -> dict[int, SafeString]:
    """A short excerpt of each entry's text with the matched words in ``<mark>``, by explainer."""
    ids = [entry.pk for entry in entries]
    kind = engine()
    if kind == "postgresql":
        body = Concat(
            "revision__whats_happening",
            Value(" "),
            "revision__why_its_important",
            Value(" "),
            "revision__whats_next",
            output_field=TextField(),
        )
        rows = SearchEntry.objects.filter(pk__in=ids).annotate(
            excerpt=SearchHeadline(
                body,
                _pg_query(raw),
                config=settings.SEARCH_CONFIG,
                start_sel=START,
                stop_sel=STOP,
                max_words=EXCERPT_WORDS,
                min_words=EXCERPT_WORDS // 2,
                max_fragments=2,
                fragment_delimiter=" … ",
            )
        )
        return {
            row.explainer_id: _marked(row.excerpt)
            for row in rows.values_list("explainer_id", "excerpt", named=True)
        }
    if kind == "fts5":
        placeholders = ", ".join(["%s"] * len(ids))
        with reading().cursor() as cursor:
            cursor.execute(
                f"SELECT rowid, snippet({FTS_TABLE}, 1, char(2), char(3), '…', {EXCERPT_WORDS}) "
                f"FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s AND rowid IN ({placeholders})",
                [_fts5_query(parsed), *ids],
            )
            snippets = dict(cursor.fetchall())
        found = {}
        for entry in entries:
            text = snippets.get(entry.pk) or ""
            found[entry.explainer_id] = (
                _marked(text) if START in text else _python_excerpt(_body(entry.revision), parsed)
            )
        return found
    return {entry.explainer_id: _python_excerpt(_body(entry.revision), parsed) for entry in entries}


# --- Spelling suggestions -------------------------------------------------------------------


def _closest_word(word: str) -> str | None:
    if engine() == "postgresql":
        similar = Func(
            F("word"),
            Value(word),
            arg_joiner=" %% ",
            template="%(expressions)s",
            output_field=BooleanField(),
        )
        best = (
            SearchWord.objects.filter(similar)
            .annotate(similarity=TrigramSimilarity("word", word))
            .order_by("-similarity", "word")
            .values_list("word", flat=True)
            .first()
        )
        return best
    candidates = (
        SearchWord.objects.annotate(length=Length("word"))
        .filter(word__startswith=word[0], length__range=(len(word) - 2, len(word) + 2))
        .values_list("word", flat=True)[:5000]
    )
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.75)
    return close[0] if close else None


def suggest(raw: str, parsed: Parsed) -> str | None:
    """A query with each unknown word replaced by the closest known one, if that finds results.

    Known words come from approved text only, and each replacement must itself find an
    explainer readers may see now, so a suggestion never names a word only unpublished,
    scheduled or expired text contains.
    """
    words = sorted({w for w in parsed.positive_words if w.isalpha() and len(w) >= 3})
    known = set(SearchWord.objects.filter(word__in=words).values_list("word", flat=True))
    replacements = {}
    for word in words:
        if word in known:
            continue
        closest = _closest_word(word)
        # The word alone must find a published explainer: the lexicon also holds words of
        # text readers no longer (or not yet) get, which "x or y" would otherwise let through.
        if closest and closest != word and matching(closest, parse(closest)).exists():
            replacements[word] = closest
    if not replacements:
        return None
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, replacements)) + r")\b", re.IGNORECASE)
    suggestion = pattern.sub(lambda m: replacements[m.group(0).lower()], raw)
    return suggestion if matching(suggestion, parse(suggestion)).exists() else None


# --- Related explainers ---------------------------------------------------------------------


RELATED_LIMIT = 3


def _related_by_topic(*, topic_id, pk, now):
    cards = selectors.public_cards(now).public_filter(now=now, topic_id=topic_id)
    return cards.exclude(pk=pk)[:RELATED_LIMIT]


def _related_by_text(*, raw, pk, now, topic_id=None, parsed=None):
    # Best match first, as card rows (selectors.Card): the entry's revision is the one readers
    # get, so its fields are the card's, with no model built for a row. Not of the page's
    # topic: when text fills the list, every explainer of that topic is in it already.
    best = matching(raw, parsed, now).exclude(explainer_id=pk)
    if topic_id is not None:
        # Without a topic there is nothing to leave out, and no revision to join for it.
        best = best.exclude(revision__topic_id=topic_id)
    kind = engine()
    # The rank rides along (last) where the order names it.
    rank = () if kind == "basic" else ("rank",)
    if kind == "fts5":
        # Its match and rank are SQL naming the table, which a subquery would not re-alias.
        return best.values_list(*selectors.Card.ENTRY_ROW, *rank)[:RELATED_LIMIT]
    # The best are chosen from the entries alone, and only those few joined to their cards:
    # joining every match's card before ranking was half of what PostgreSQL spent on a page's
    # cold render.
    chosen = SearchEntry.objects.filter(revision_id__in=best.values("revision_id")[:RELATED_LIMIT])
    return ranked(chosen, raw, parsed, match=False).values_list(*selectors.Card.ENTRY_ROW, *rank)


# Compiled once per connection: a page's cold render runs both. The text query is only
# prepared on PostgreSQL, where the reader's words reach the SQL as one parameter.
_related_by_topic_query = PreparedQuery(
    Explainer,
    _related_by_topic,
    topic_id=PLACEHOLDER_INT,
    pk=PLACEHOLDER_INTS[1],
    now=PLACEHOLDER_TIME,
)
_related_by_text_query = PreparedQuery(
    SearchEntry,
    _related_by_text,
    raw=PLACEHOLDER_TEXT,
    pk=PLACEHOLDER_INT,
    topic_id=PLACEHOLDER_INTS[1],
    now=PLACEHOLDER_TIME,
)
_related_by_text_any_topic_query = PreparedQuery(
    SearchEntry, _related_by_text, raw=PLACEHOLDER_TEXT, pk=PLACEHOLDER_INT, now=PLACEHOLDER_TIME
)


def related(explainer: Explainer) -> list[selectors.Card]:
    """Up to three published explainers: same topic first (newest), then closest by text.

    Never the explainer itself, never one readers may not see: both lists go through
    ``published()`` and the topic and text readers get now.
    """
    content, now = explainer.public_revision, timezone.now()
    chosen: list[selectors.Card] = []
    if content.topic_id:
        siblings = _related_by_topic_query.objects(
            topic_id=content.topic_id, pk=explainer.pk, now=now
        )
        chosen = [selectors.Card.of(sibling) for sibling in siblings]
    words = [
        w
        for w in dict.fromkeys(WORD.findall(content.headline.lower()))
        if w not in STOP_WORDS and len(w) > 2
    ]
    if len(chosen) < RELATED_LIMIT and words:
        raw = " or ".join(words)
        values = {"raw": raw, "pk": explainer.pk, "now": now}
        query = _related_by_text_any_topic_query
        if content.topic_id:
            values["topic_id"] = content.topic_id
            query = _related_by_text_query
        if engine() == "postgresql":
            rows = query.rows(**values)
        else:
            parsed = Parsed(tuple((Term((word,)),) for word in words))
            rows = _related_by_text(**values, parsed=parsed)
        size = len(selectors.Card.ENTRY_ROW)
        chosen += [selectors.Card(*row[:size]) for row in rows][: RELATED_LIMIT - len(chosen)]
    return chosen


# --- Indexing -------------------------------------------------------------------------------


def index_revision(*, explainer: Explainer, revision) -> None:
    """Make an approved revision searchable; forget entries of revisions no longer approved.

    Called when an editor publishes (now or for later), never on a draft save.
    """
    SearchEntry.objects.update_or_create(
        revision_id=revision.history_id,
        defaults={"explainer": explainer, "published_at": explainer.published_at},
    )
    approved = [pk for pk in (explainer.live_revision_id, explainer.scheduled_revision_id) if pk]
    stale = list(
        SearchEntry.objects.filter(explainer=explainer)
        .exclude(revision_id__in=[revision.history_id, *approved])
        .values_list("pk", flat=True)
    )
    SearchEntry.objects.filter(pk__in=stale).delete()
    rest = f"{revision.why_its_important}\n\n{revision.whats_next}"
    kind = engine()
    if kind == "postgresql":
        config = settings.SEARCH_CONFIG
        SearchEntry.objects.filter(pk=revision.history_id).update(
            vector=SearchVector(Value(revision.headline, TextField()), weight="A", config=config)
            + SearchVector(Value(revision.whats_happening, TextField()), weight="B", config=config)
            + SearchVector(Value(rest, TextField()), weight="C", config=config)
        )
    elif kind == "fts5":
        gone = [revision.history_id, *stale]
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {FTS_TABLE} WHERE rowid IN ({', '.join(['%s'] * len(gone))})", gone
            )
            cursor.execute(
                f"INSERT INTO {FTS_TABLE} (rowid, headline, body) VALUES (%s, %s, %s)",
                [revision.history_id, revision.headline, f"{revision.whats_happening}\n\n{rest}"],
            )
    text = f"{revision.headline} {revision.whats_happening} {rest}".lower()
    SearchWord.objects.bulk_create(
        [SearchWord(word=w) for w in sorted(set(LEXICON_WORD.findall(text)))],
        ignore_conflicts=True,
    )
    bump()


# --- The search pages' own cache ------------------------------------------------------------
#
# Every query is a different page, so the page cache (which keeps each real page) would let
# anyone fill it by searching for made-up words. Search pages are kept instead in at most
# SEARCH_CACHE_SLOTS slots: a query's slot is a hash of its normalised text and page, a slot
# holds one page, and a hit must match the query exactly. A flood of new queries can only
# overwrite slots, never grow the cache. Any change readers could see starts a new search
# generation (``bump``); a page is kept no later than the next scheduled time, as pages are.

GENERATION_KEY = "search-generation"


def generation() -> str:
    current = cache.get(GENERATION_KEY)
    if current is None:
        # Stamped with when it began (no earlier than the change that began it), for
        # generation_time().
        current = page_cache.new_version()
        if not cache.add(GENERATION_KEY, current, timeout=None):
            current = cache.get(GENERATION_KEY) or current
    return current


def generation_time(current: str) -> int:
    """When ``current`` began (ns since the epoch); now for one made before it was stamped."""
    stamp = current.split("-", 1)[0]
    return int(stamp) if "-" in current and stamp.isdigit() else time.time_ns()


def bump(**kwargs) -> None:
    cache.delete(GENERATION_KEY)
    # Again once the change commits: a search run before then read the data without it, and
    # kept its page under the generation it began.
    transaction.on_commit(lambda: cache.delete(GENERATION_KEY), robust=True)


def slot_key(query: str, page: int) -> tuple[str, tuple]:
    identity = (query, page)
    digest = hashlib.sha256(repr(identity).encode()).digest()
    slot = int.from_bytes(digest[:8], "big") % max(1, settings.SEARCH_CACHE_SLOTS)
    return f"search-slot:{slot}", identity


def cached(query: str, page: int):
    """(content, content type, headers, when time alone changes it) of a kept page, or None."""
    key, identity = slot_key(query, page)
    hit = cache.get(key)
    if hit is None or hit[0] != (generation(), identity):
        return None
    changes = hit[1][3]
    # The cache's own expiry is whole seconds (and Redis's clock): the deadline is checked here.
    if changes is not None and timezone.now() >= changes:
        return None
    return hit[1]


def keep(query: str, page: int, stored, *, generation: str, until: datetime | None) -> None:
    """Keep ``stored`` under the ``generation`` read before its results, until ``until``."""
    key, identity = slot_key(query, page)
    timeout = settings.PUBLIC_CACHE_SECONDS
    if until is not None:
        timeout = min(timeout, math.floor((until - timezone.now()).total_seconds()))
    if timeout > 0:
        cache.set(key, ((generation, identity), stored), timeout=timeout)


# What a search page shows changes with any explainer (status, times), topic name or entry.
for model in (Explainer, Topic, SearchEntry):
    post_save.connect(bump, sender=model, dispatch_uid=f"search-{model.__name__}-save")
    post_delete.connect(bump, sender=model, dispatch_uid=f"search-{model.__name__}-delete")
# A bump lost while the cache could not be written is made good with the pages' (page_cache).
page_cache.cache_repaid.connect(bump, dispatch_uid="search-cache-repaid")
