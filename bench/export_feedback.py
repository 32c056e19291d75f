"""Speed and memory of the ratings CSV export against PostgreSQL's own COPY.

A benchmark run by hand, not a test. From the project root:

    .venv/bin/python bench/export_feedback.py [--database-url postgres://...] [--runs 5]

It creates the database when missing (default newsroom_bench_export), migrates it and fills it
with 1,000,000 ratings over 1,000 explainers (skipped when already filled), then, in the same
run and on the same data, times:

- the export: ``manage.py export_feedback --kind ratings -o FILE`` (its default ``--jobs 2``)
  in a subprocess (wall time, interpreter and Django start-up included, and the subprocess's
  peak RSS);
- the baseline: ``COPY (SELECT the same columns, unformatted) TO STDOUT WITH (FORMAT csv,
  HEADER)`` read through psycopg into a file by this process;
- for the breakdown, COPY of the very SELECT the export runs (formatting done in SQL), read
  the same way: the export's time minus this one is what Django, Python and the file cost.

Each is run once to warm the caches, then --runs times (default 5), alternating; the best
times are compared, and the median of the paired ratios is printed as well. It also checks
that the export's file is byte for byte what COPY of its SELECT wrote. Targets: the export
within 1.2x the raw COPY's time, and under 150 MB peak RSS. Exit status: 0 targets met (and
the bytes identical), 1 missed, 2 the benchmark could not run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://root@127.0.0.1:5432/newsroom_bench_export"
RATINGS = 1_000_000
EXPLAINERS = 1_000
TARGET_RATIO = 1.2  # issue 10; it was 1.5
TARGET_RSS_MB = 150

EXIT_MET = 0
EXIT_NOT_MET = 1
EXIT_ERROR = 2

BASELINE_SQL = """
COPY (
    SELECT r.id, r.created_at, r.updated_at, r.explainer_id, e.slug, e.headline,
           r.explainer_version, r.useful, r.reason, r.comment
    FROM feedback_rating r JOIN explainers_explainer e ON e.id = r.explainer_id
    ORDER BY r.id
) TO STDOUT WITH (FORMAT csv, HEADER)
"""

# Explainers, published a day apart; every tenth is unpublished since.
FILL_EXPLAINERS_SQL = """
INSERT INTO explainers_explainer (
    headline, slug, whats_happening, why_its_important, whats_next, ai_generated, topic_id,
    image, image_width, image_height, image_alt, image_credit, image_ai_generated,
    image_focal_x, image_focal_y, status, published_at,
    created_at, updated_at, created_by_id, updated_by_id, version, import_digest, source_list
)
SELECT
    'Bench explainer ' || n || ': talks, "guarantees" and what comes next',
    'bench-explainer-' || n,
    'Leaders met.', 'It matters.', 'More talks.', n %% 4 = 0, NULL,
    '', NULL, NULL, '', '', false, 50, 50,
    CASE WHEN n %% 10 = 0 THEN 'unpublished' ELSE 'published' END,
    timestamptz '2025-01-01 08:00:00+00' + n * interval '1 day',
    timestamptz '2025-01-01 07:00:00+00' + n * interval '1 day',
    timestamptz '2025-01-01 09:00:00+00' + n * interval '1 day',
    NULL, NULL, 1 + n %% 3, '', '[]'
FROM generate_series(1, %(explainers)s) AS n
"""

# Ratings spread over a year with microsecond times, a third of them "no" with a reason, and
# comments of every awkward shape: empty, commas and quotes, newlines, formula prefixes.
FILL_RATINGS_SQL = """
INSERT INTO feedback_rating (
    explainer_id, reader, useful, reason, comment, explainer_version, created_at, updated_at
)
SELECT
    (SELECT min(id) FROM explainers_explainer) + n %% %(explainers)s,
    md5(n::text) || md5((-n)::text),
    n %% 3 <> 0,
    CASE WHEN n %% 3 = 0
        THEN (ARRAY['missing-context', 'hard-to-understand', 'out-of-date', 'inaccurate',
                    'too-long', 'other'])[1 + n %% 6]
        ELSE '' END,
    CASE n %% 8
        WHEN 0 THEN ''
        WHEN 1 THEN 'Clear and short, thanks.'
        WHEN 2 THEN 'Good, but the "next steps" part was vague, and a date is missing.'
        WHEN 3 THEN E'Two things:\\nthe map is old\\nand the names are misspelt.'
        WHEN 4 THEN '=HYPERLINK("http://example.com/' || n || '")'
        WHEN 5 THEN '-1 for the headline ' || n
        ELSE repeat('A longer comment about the sources and the context. ', 1 + n %% 4)
    END,
    1 + n %% 3,
    timestamptz '2025-01-01 00:00:00+00' + n * interval '31.536001 seconds',
    timestamptz '2025-01-01 00:00:00+00' + n * interval '31.536001 seconds'
        + (n %% 5) * interval '1 hour 0.000123 seconds'
FROM generate_series(1, %(ratings)s) AS n
"""


class BenchError(Exception):
    """A problem that stops the benchmark; its message is printed as is."""


@dataclass
class Timing:
    seconds: float
    size: int
    peak_rss_mb: float | None = None


def log(message: str) -> None:
    print(f"==> {message}", flush=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/export_feedback.py",
        description=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--database-url",
        default=DEFAULT_DATABASE_URL,
        metavar="URL",
        help="PostgreSQL database to create, fill and export (default: %(default)s)",
    )
    parser.add_argument(
        "--runs",
        type=int,
        default=5,
        help="timed runs of each side after one warm-up; the best counts (default: %(default)s)",
    )
    parser.add_argument(
        "--refill", action="store_true", help="empty and refill the ratings even when present"
    )
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    if urllib.parse.urlsplit(args.database_url).scheme not in {"postgres", "postgresql"}:
        parser.error("--database-url must be a postgres:// or postgresql:// URL")
    return args


def environment(database_url: str) -> dict[str, str]:
    """The command's environment: this database, DEBUG off as in production."""
    return {**os.environ, "DATABASE_URL": database_url, "DJANGO_DEBUG": "false"}


def ensure_database(url: str) -> None:
    dbname = psycopg.conninfo.conninfo_to_dict(url).get("dbname")
    if not dbname:
        raise BenchError(f"The database URL names no database: {url}")
    try:
        with psycopg.connect(url, dbname="postgres", autocommit=True, connect_timeout=10) as conn:
            found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,))
            if not found.fetchone():
                log(f"creating database {dbname}")
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
    except psycopg.Error as error:
        raise BenchError(f"Cannot prepare PostgreSQL database {dbname!r}: {error}") from error


def manage(database_url: str, *args: str) -> None:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment(database_url),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise BenchError(f"manage.py {' '.join(args)} failed:\n{done.stderr.strip()}")


def fill(url: str, refill: bool) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        ratings = conn.execute("SELECT count(*) FROM feedback_rating").fetchone()[0]
        explainers = conn.execute("SELECT count(*) FROM explainers_explainer").fetchone()[0]
        if ratings == RATINGS and explainers == EXPLAINERS and not refill:
            log(f"database already holds {ratings:,} ratings over {explainers:,} explainers")
            return
        log(f"filling {RATINGS:,} ratings over {EXPLAINERS:,} explainers")
        started = time.perf_counter()
        with conn.transaction():
            conn.execute("TRUNCATE feedback_rating, explainers_explainer CASCADE")
            conn.execute(FILL_EXPLAINERS_SQL, {"explainers": EXPLAINERS})
            conn.execute(FILL_RATINGS_SQL, {"explainers": EXPLAINERS, "ratings": RATINGS})
        conn.execute("VACUUM ANALYZE feedback_rating")
        conn.execute("VACUUM ANALYZE explainers_explainer")
        log(f"filled in {time.perf_counter() - started:.1f} s")


def run_export(url: str, target: Path) -> Timing:
    """Run the command in a child process; wall time and that child's own peak RSS."""
    with tempfile.TemporaryFile() as errors:
        started = time.perf_counter()
        child = subprocess.Popen(
            [sys.executable, "manage.py", "export_feedback", "--kind", "ratings"]
            + ["-o", str(target)],
            cwd=ROOT,
            env=environment(url),
            stdout=subprocess.DEVNULL,
            stderr=errors,
        )
        # wait4 gives this child's own rusage, where RUSAGE_CHILDREN would give the largest of
        # every child waited for so far (migrate included).
        _, status, usage = os.wait4(child.pid, 0)
        elapsed = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode != 0:
            errors.seek(0)
            message = errors.read().decode(errors="replace").strip()
            raise BenchError(f"export_feedback failed ({child.returncode}):\n{message}")
    # ru_maxrss is in kilobytes on Linux.
    return Timing(elapsed, target.stat().st_size, usage.ru_maxrss / 1024)


def run_copy(url: str, statement: str, target: Path) -> Timing:
    """A COPY ... TO STDOUT read through psycopg into a file by this process."""
    started = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn, target.open("wb") as handle:
        cursor = conn.cursor()
        with cursor.copy(statement) as copy:
            for data in copy:
                handle.write(data)
    return Timing(time.perf_counter() - started, target.stat().st_size)


def export_statement(url: str) -> str:
    """The COPY statement the export runs, compiled by the project itself."""
    os.environ.update(environment(url))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newsroom.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from feedback.export import ratings_copy_sql

    return ratings_copy_sql()


def same_body(export_file: Path, copy_file: Path) -> bool:
    """Whether the export, header line aside, is byte for byte what COPY wrote."""
    with export_file.open("rb") as export, copy_file.open("rb") as copy:
        export.readline()
        while True:
            ours, theirs = export.read(1 << 20), copy.read(1 << 20)
            if ours != theirs:
                return False
            if not ours:
                return True


def run_startup(url: str) -> float:
    """Wall time of an export with no rows: interpreter, Django and command start-up."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "manage.py", "export_feedback", "--kind", "ratings"]
        + ["--since", "2999-01-01"],
        cwd=ROOT,
        env=environment(url),
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        raise BenchError(f"export_feedback failed:\n{done.stderr.decode(errors='replace')}")
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    url = args.database_url
    try:
        ensure_database(url)
        log("migrating")
        manage(url, "migrate", "--noinput")
        fill(url, args.refill)
        statement = export_statement(url)
        with tempfile.TemporaryDirectory(prefix="bench-export-") as folder:
            export_file = Path(folder) / "export.csv"
            raw_file = Path(folder) / "raw.csv"
            select_file = Path(folder) / "select.csv"
            log("warming up (one run of each, not counted)")
            run_copy(url, BASELINE_SQL, raw_file)
            run_copy(url, statement, select_file)
            run_export(url, export_file)
            exports, raws, selects = [], [], []
            for number in range(1, args.runs + 1):
                raws.append(run_copy(url, BASELINE_SQL, raw_file))
                exports.append(run_export(url, export_file))
                selects.append(run_copy(url, statement, select_file))
                log(
                    f"run {number}: export {exports[-1].seconds:.2f} s "
                    f"({exports[-1].peak_rss_mb:.0f} MB), COPY raw {raws[-1].seconds:.2f} s, "
                    f"COPY of the export's SELECT {selects[-1].seconds:.2f} s"
                )
            identical = same_body(export_file, select_file)
            startup = min(run_startup(url) for _ in range(3))
            load = os.getloadavg()[0]
    except BenchError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_ERROR

    def best(timings: list[Timing]) -> float:
        return min(timing.seconds for timing in timings)

    def median_ratio(theirs: list[Timing]) -> float:
        pairs = zip(exports, theirs, strict=True)
        return statistics.median(ours.seconds / other.seconds for ours, other in pairs)

    export, raw, select = best(exports), best(raws), best(selects)
    peak = max(timing.peak_rss_mb for timing in exports)
    ratio = export / raw
    time_met = ratio <= TARGET_RATIO
    memory_met = peak < TARGET_RSS_MB
    size = exports[-1].size / 1e6
    print()
    print(f"ratings exported               {RATINGS:,} over {EXPLAINERS:,} explainers")
    print(f"load average (1 min)           {load:6.2f}   on {os.cpu_count()} CPUs")
    print(f"export_feedback (command)      {export:6.2f} s  {size:.1f} MB, best of {args.runs}")
    print(f"  of which start-up            {startup:6.2f} s  (an export of no rows)")
    print(f"COPY, raw columns (baseline)   {raw:6.2f} s  {raws[-1].size / 1e6:.1f} MB")
    print(f"COPY of the export's SELECT    {select:6.2f} s  formatting in SQL, no Django")
    print(
        f"ratio export / raw COPY        {ratio:6.2f}x  (median of pairs "
        f"{median_ratio(raws):.2f}x)  target <= {TARGET_RATIO}x: "
        + ("met" if time_met else "MISSED")
    )
    print(
        f"ratio export / SELECT COPY     {export / select:6.2f}x  (median of pairs "
        f"{median_ratio(selects):.2f}x)  Django, Python and file overhead"
    )
    print(
        f"export peak RSS                {peak:6.1f} MB target < {TARGET_RSS_MB} MB: "
        + ("met" if memory_met else "MISSED")
    )
    print(f"export bytes = COPY bytes      {'yes' if identical else 'NO'} (header line aside)")
    return EXIT_MET if time_met and memory_met and identical else EXIT_NOT_MET


if __name__ == "__main__":
    sys.exit(main())
