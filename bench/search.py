"""Throughput of the search page on 100,000 published explainers against a static file.

A benchmark run by hand, not a test. From the project root:

    .venv/bin/python bench/search.py [--duration 10] [--database-url postgres://...]

It fills a PostgreSQL database (newsroom_bench_search by default, kept for later runs) with
100,000 published explainers of generated text whose words follow Zipf's law over a 20,000
word vocabulary, indexed as publishing indexes them. It starts gunicorn as bench/pages.py
does (production profile, 2 sync workers, here sharing a Redis cache as in production),
times each of a fixed mix of 100 queries once with nothing cached (40 common words, 30 rare
words, 20 two-word phrases, 10 misspellings that get a suggestion), then loads the search
page with wrk cycling through the same 100 queries, and the static file in the same run.
Targets: search at 0.10x the static file's requests/s or better, and a p99 under 20x the
static file's p99.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pages

DEFAULT_DATABASE_URL = "postgres://root@127.0.0.1:5432/newsroom_bench_search"
EXPLAINERS = 100_000
TARGET_RATIO = 0.10
TARGET_P99 = 20.0
SEED = 11

SYLLABLES = [
    "ba",
    "be",
    "bi",
    "bo",
    "bu",
    "ca",
    "ce",
    "ci",
    "co",
    "cu",
    "da",
    "de",
    "di",
    "do",
    "du",
    "fa",
    "fe",
    "fi",
    "fo",
    "ga",
    "ge",
    "gi",
    "go",
    "ha",
    "he",
    "hi",
    "ho",
    "ka",
    "ke",
    "ki",
    "ko",
    "la",
    "le",
    "li",
    "lo",
    "lu",
    "ma",
    "me",
    "mi",
    "mo",
    "mu",
    "na",
    "ne",
    "ni",
    "no",
    "nu",
    "pa",
    "pe",
    "pi",
    "po",
    "ra",
    "re",
    "ri",
    "ro",
    "ru",
    "sa",
    "se",
    "si",
    "so",
    "ta",
    "te",
    "ti",
    "to",
    "tu",
    "va",
    "ve",
    "vi",
    "vo",
    "za",
    "ze",
    "zi",
    "zo",
    "tra",
    "tre",
    "tri",
    "pro",
    "pre",
    "gra",
    "gre",
    "sta",
    "ste",
    "sti",
    "str",
    "ran",
    "ren",
    "rin",
    "ron",
    "lan",
    "len",
    "lin",
    "lon",
    "man",
    "men",
    "min",
    "mon",
    "ter",
    "tor",
    "tal",
    "tel",
]
# Real words lead the vocabulary, so common queries look like readers' queries.
COMMON = [
    "the",
    "of",
    "and",
    "to",
    "in",
    "a",
    "is",
    "that",
    "for",
    "on",
    "with",
    "as",
    "by",
    "at",
    "from",
    "government",
    "minister",
    "election",
    "talks",
    "president",
    "court",
    "police",
    "market",
    "prices",
    "energy",
    "climate",
    "security",
    "trade",
    "health",
    "school",
    "budget",
    "vote",
    "law",
    "city",
    "war",
    "peace",
    "deal",
    "report",
    "year",
    "week",
    "people",
    "country",
    "leaders",
    "officials",
    "bank",
    "rates",
    "strike",
    "workers",
    "union",
    "water",
    "storm",
    "fire",
    "flood",
    "border",
    "army",
    "border",
    "company",
    "profits",
    "jobs",
    "tax",
    "oil",
    "gas",
    "power",
    "summit",
    "treaty",
    "parliament",
    "senate",
    "congress",
    "judge",
]


def vocabulary(rng: random.Random, size: int = 20_000) -> list[str]:
    words = list(dict.fromkeys(COMMON))
    seen = set(words)
    while len(words) < size:
        word = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/search.py",
        description=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--duration", type=int, default=10, metavar="SECONDS")
    parser.add_argument("--warmup", type=int, default=3, metavar="SECONDS")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL, metavar="URL")
    parser.add_argument("--refill", action="store_true", help="drop and refill the database")
    parser.add_argument(
        "--cache-url",
        default="redis://127.0.0.1:6379/13",
        metavar="URL",
        help="NEWSROOM_CACHE_URL for gunicorn, as production uses; emptied first "
        "(default: %(default)s)",
    )
    args = parser.parse_args(argv)
    if args.duration < 1 or args.warmup < 0:
        parser.error("--duration must be at least 1 and --warmup not negative")
    return args


# Runs inside `manage.py shell`: bulk inserts (no per-row history or signals), then indexes
# in SQL exactly as explainers.search.index_revision does per publication.
FILL_CODE = r"""
import bisect, itertools, json, random
from datetime import timedelta
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from explainers.models import Explainer, SearchWord, Topic
History = Explainer.history.model
if Explainer.objects.filter(slug__startswith="bench-search-").count() >= COUNT:
    print(MARKER + json.dumps({"created": 0}))
    raise SystemExit
rng = random.Random(SEED)
with open(WORDS_FILE) as f:
    words = json.load(f)
weights = list(itertools.accumulate(1 / (rank + 1) ** 1.07 for rank in range(len(words))))
total = weights[-1]
def text(n):
    return " ".join(words[bisect.bisect(weights, rng.random() * total)] for _ in range(n))
def sentences(n):
    return " ".join(text(rng.randint(8, 18)).capitalize() + "." for _ in range(n))
topics = [Topic.objects.get_or_create(slug=f"bench-search-{i}", defaults={"name": f"Bench {i}"})[0]
          for i in range(12)]
now = timezone.now()
Explainer.objects.filter(slug__startswith="bench-search-").delete()
for start in range(0, COUNT, 2000):
    with transaction.atomic():
        batch = []
        for i in range(start, min(start + 2000, COUNT)):
            fields = dict(
                headline=text(rng.randint(6, 12)).capitalize()[:200],
                slug=f"bench-search-{i}",
                whats_happening=sentences(3),
                why_its_important=sentences(2),
                whats_next=sentences(2),
                topic_id=topics[i % 12].pk,
                status="published",
                published_at=now - timedelta(minutes=10 * i + 5),
                public_updated_at=now - timedelta(minutes=10 * i + 5),
            )
            batch.append(fields)
        made = Explainer.objects.bulk_create([Explainer(**f) for f in batch])
        History.objects.bulk_create([
            History(id=e.pk, history_date=now, history_type="+", created_at=now, updated_at=now,
                    version=1, source_list=[], **f)
            for e, f in zip(made, batch, strict=True)
        ])
with connection.cursor() as cursor:
    cursor.execute(
        "UPDATE explainers_explainer e SET live_revision_id = h.history_id "
        "FROM explainers_historicalexplainer h "
        "WHERE h.id = e.id AND e.slug LIKE 'bench-search-%%'"
    )
    cursor.execute(
        "INSERT INTO explainers_searchentry (revision_id, explainer_id, published_at, vector) "
        "SELECT h.history_id, e.id, e.published_at, "
        "setweight(to_tsvector(%s::regconfig, h.headline), 'A') || "
        "setweight(to_tsvector(%s::regconfig, h.whats_happening), 'B') || "
        "setweight(to_tsvector(%s::regconfig, h.why_its_important || ' ' || h.whats_next), 'C') "
        "FROM explainers_explainer e JOIN explainers_historicalexplainer h "
        "ON h.history_id = e.live_revision_id WHERE e.slug LIKE 'bench-search-%%' "
        "ON CONFLICT DO NOTHING",
        [settings.SEARCH_CONFIG] * 3,
    )
    cursor.execute("ANALYZE")
SearchWord.objects.bulk_create(
    [SearchWord(word=w) for w in words if len(w) >= 3], ignore_conflicts=True, batch_size=5000
)
print(MARKER + json.dumps({"created": COUNT}))
"""


def queries(words: list[str], rng: random.Random) -> list[str]:
    """The fixed mix: 40 common words, 30 rare, 20 phrases, 10 misspellings."""
    common = [w for w in words[20:400] if len(w) > 3]
    rare = words[8000:20000]
    mix = rng.sample(common, 40) + rng.sample(rare, 30)
    mix += [
        f'"{a} {b}"' for a, b in zip(rng.sample(common, 20), rng.sample(common, 20), strict=True)
    ]
    for word in rng.sample(rare, 10):
        i = rng.randrange(1, len(word) - 1)
        mix.append(word[:i] + ("x" if word[i] != "x" else "q") + word[i + 1 :])
    return mix


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        wrk = pages.check_tools()
        pages.ensure_database(args.database_url, args.refill)
        rng = random.Random(SEED)
        words = vocabulary(rng)
        mix = queries(words, random.Random(SEED + 1))
        paths = ["/search/?" + urllib.parse.urlencode({"q": q}) for q in mix]
        with tempfile.TemporaryDirectory(prefix="newsroom-bench-search-") as tmp:
            env = pages.bench_environment(args.database_url, Path(tmp) / "static")
            # One cache for both workers, as in production: a page rendered by one is served
            # by the other, so the measured load is what readers hit once a query is known.
            env["NEWSROOM_CACHE_URL"] = args.cache_url
            pages.manage(env, "shell", "-c", "from django.core.cache import cache; cache.clear()")
            pages.log("collectstatic, migrate")
            pages.manage(env, "collectstatic", "--noinput", "-v", "0")
            pages.manage(env, "migrate", "--noinput", "-v", "0")
            pages.log(f"filling {EXPLAINERS:,} explainers (once; --refill to redo)")
            started = time.monotonic()
            words_file = Path(tmp) / "words.json"
            words_file.write_text(json.dumps(words))
            made = pages.shell_json(
                env, FILL_CODE, COUNT=EXPLAINERS, SEED=SEED, WORDS_FILE=str(words_file)
            )
            pages.log(f"{made['created']:,} created in {time.monotonic() - started:.0f}s")
            static = pages.static_path(env)
            port = pages.free_port()
            base = f"http://{pages.HOST}:{port}"
            log_path = Path(tmp) / "gunicorn.log"
            process = pages.start_gunicorn(env, port, log_path)
            try:
                pages.wait_until_answering(process, base + static, log_path)
                cold = []
                for path in paths:
                    began = time.monotonic()
                    status, body, _ = pages.fetch(base + path, timeout=60)
                    cold.append((time.monotonic() - began) * 1000)
                    if status != 200:
                        raise pages.BenchError(f"GET {path} answered {status}")
                script = Path(tmp) / "search.lua"
                script.write_text(
                    "local paths = "
                    + json.dumps(paths).replace("[", "{").replace("]", "}")
                    + "\nlocal i = 0\nrequest = function()\n  i = i % #paths + 1\n"
                    "  return wrk.format('GET', paths[i])\nend\n"
                )
                busy = pages.cpu_busy_percent()
                if args.warmup:
                    pages.run_wrk(wrk, base + "/search/", args.warmup, "-s", str(script))
                    pages.run_wrk(wrk, base + static, args.warmup)
                pages.log(f"loading search ({len(paths)} queries) and the static file")
                searched = pages.run_wrk(wrk, base + "/search/", args.duration, "-s", str(script))
                baseline = pages.run_wrk(wrk, base + static, args.duration)
            finally:
                pages.stop_gunicorn(process)
        if searched["non_2xx"] or baseline["non_2xx"]:
            raise pages.BenchError("wrk saw responses other than 2xx or 3xx")
        cold.sort()
        ratio = searched["rps"] / baseline["rps"]
        p99_ratio = searched["p99_ms"] / baseline["p99_ms"]
        print()
        print(
            f"{EXPLAINERS:,} explainers; gunicorn {pages.WORKERS} sync workers, PostgreSQL; "
            f"wrk -t{pages.WRK_THREADS} -c{pages.WRK_CONNECTIONS} -d{args.duration}s; "
            f"{os_busy(busy)} busy before loading"
        )
        print(f"{'':<14}{'req/s':>10}{'p50':>10}{'p99':>10}")
        for name, r in (("search", searched), ("static file", baseline)):
            print(f"{name:<14}{r['rps']:>10.1f}{r['p50_ms']:>8.2f}ms{r['p99_ms']:>8.2f}ms")
        print(
            f"each query once, uncached: median {cold[len(cold) // 2]:.0f} ms, "
            f"p90 {cold[int(len(cold) * 0.9)]:.0f} ms, max {cold[-1]:.0f} ms"
        )
        met = ratio >= TARGET_RATIO and p99_ratio < TARGET_P99
        print(
            f"search / static: {ratio:.3f}x (target >= {TARGET_RATIO}x); "
            f"p99 {p99_ratio:.1f}x static's (target < {TARGET_P99:.0f}x): "
            f"{'MET' if met else 'NOT MET'}"
        )
        return pages.EXIT_MET if met else pages.EXIT_NOT_MET
    except pages.BenchError as exc:
        print(f"\nbench/search.py: {exc}", file=sys.stderr)
        return pages.EXIT_ERROR


def os_busy(value) -> str:
    return "unknown" if value is None else f"{value:.0f}%"


if __name__ == "__main__":
    sys.exit(main())
