"""Votes per second against a static file, served by the same gunicorn.

A benchmark run by hand, not a test. From the project root:

    .venv/bin/python bench/votes.py [--duration 10] [--rounds 3] [--database-url postgres://...]

It sets up the site as bench/pages.py does (production profile, PostgreSQL, persistent
connections, gunicorn with 2 sync workers on 127.0.0.1), clears the ratings of one published
explainer, then, several rounds in turn, has wrk post votes to it from many simulated readers
(each wrk thread cycles through its own readers, a distinct reader cookie each, so every
reader votes several times and later votes change earlier ones) and load the static file. It
prints votes/s, p50 and p99 next to the static file's rate in the same run, and checks that
no request failed and that the ratings table holds exactly one row per distinct reader.
Target: votes at 25% of the static-file rate or better, over all rounds.

All simulated readers share one address, so the per-client rate limit is lifted for the run
(FEEDBACK_RATE_LIMIT=1000000/s); everything else is the production configuration.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import pages

TARGET_RATIO = 0.35  # issue 10; it was 0.25
READERS_PER_THREAD = 50

# wrk runs one Lua state per thread: each thread gets its own range of readers and counts
# what it sends, so done() can report how many distinct readers voted.
LUA = """
local threads = {}
local counter = 0
local id = 0

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  id = tonumber(wrk.thread:get("id")) or 0
end

function request()
  local reader = counter % READER_POOL
  counter = counter + 1
  local vote = (counter % 3 == 0) and "no" or "yes"
  local token = string.format("bench%02d%025d", id, reader)
  return wrk.format("POST", nil, {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Accept"] = "application/json",
    ["Origin"] = ORIGIN,
    ["Cookie"] = "newsroom_reader=" .. token,
  }, "useful=" .. vote)
end

function response(status, headers, body)
  wrk.thread:set("sent", counter)
end

function done(summary, latency, requests)
  local readers = 0
  for _, thread in ipairs(threads) do
    local sent = tonumber(thread:get("sent")) or 0
    readers = readers + math.min(sent, READER_POOL)
  end
  io.write(string.format("READERS %d\\n", readers))
end
"""

CLEAR_CODE = """
import json
from explainers.models import Explainer
from feedback.models import Rating
explainer = Explainer.objects.get(slug=SLUG)
Rating.objects.filter(explainer=explainer).delete()
print(MARKER + json.dumps({"id": explainer.pk}))
"""

COUNT_CODE = """
import json
from feedback.models import Rating
print(MARKER + json.dumps({"rows": Rating.objects.filter(explainer_id=ID).count()}))
"""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/votes.py",
        description=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--duration", type=int, default=10, metavar="SECONDS", help="of each load (default 10)"
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="votes then static file, this many times in turn (default 3), so that a slow "
        "spell of a shared machine weighs on both alike",
    )
    parser.add_argument("--warmup", type=int, default=2, metavar="SECONDS")
    parser.add_argument("--database-url", default=pages.DEFAULT_DATABASE_URL, metavar="URL")
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="threads per gunicorn worker; above 1 uses gthread workers (default: sync)",
    )
    args = parser.parse_args(argv)
    if args.duration < 1:
        parser.error("--duration must be at least 1 second")
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        wrk = pages.check_tools()
        pages.ensure_database(args.database_url, reset=False)
        with tempfile.TemporaryDirectory(prefix="newsroom-votes-") as tmp:
            static_root = Path(tmp) / "static"
            env = pages.bench_environment(args.database_url, static_root)
            env["FEEDBACK_RATE_LIMIT"] = "1000000/s"
            pages.manage(env, "collectstatic", "--noinput", "-v", "0")
            pages.manage(env, "migrate", "--noinput", "-v", "0")
            explainer_path, _ = pages.seed(env)
            slug = explainer_path.strip("/").split("/")[-1]
            static = pages.static_path(env)
            port = pages.free_port()
            base = f"http://{pages.HOST}:{port}"
            script = Path(tmp) / "votes.lua"
            script.write_text(
                LUA.replace("READER_POOL", str(READERS_PER_THREAD)).replace("ORIGIN", repr(base))
            )
            log_path = Path(tmp) / "gunicorn.log"
            pages.log(f"starting gunicorn on {base}")
            process = pages.start_gunicorn(env, port, log_path, threads=args.threads)
            try:
                pages.wait_until_answering(process, base + static, log_path)
                vote_url = f"{base}{explainer_path}feedback/"
                if args.warmup:
                    pages.run_wrk(wrk, base + static, args.warmup)
                    pages.run_wrk(wrk, vote_url, args.warmup, "-s", str(script))
                explainer_id = pages.shell_json(env, CLEAR_CODE, SLUG=slug)["id"]
                rounds = []
                for number in range(1, args.rounds + 1):
                    pages.log(f"round {number}: posting votes for {args.duration}s")
                    votes = run_votes(wrk, vote_url, args.duration, script)
                    pages.log(f"round {number}: loading the static file for {args.duration}s")
                    rounds.append((votes, pages.run_wrk(wrk, base + static, args.duration)))
            finally:
                pages.log("stopping gunicorn")
                pages.stop_gunicorn(process)
            rows = pages.shell_json(env, COUNT_CODE, ID=explainer_id)["rows"]
            return report(rounds, rows, args.duration, args.threads)
    except pages.BenchError as exc:
        print(f"\nbench/votes.py: {exc}", file=sys.stderr)
        return pages.EXIT_ERROR


def run_votes(wrk: str, url: str, duration: int, script: Path) -> dict:
    command = [wrk, f"-t{pages.WRK_THREADS}", f"-c{pages.WRK_CONNECTIONS}", f"-d{duration}s"]
    command += ["--latency", "-s", str(script), url]
    done = pages.subprocess.run(
        command, capture_output=True, text=True, timeout=duration + 60, check=False
    )
    if done.returncode != 0:
        raise pages.BenchError(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}")
    result = pages.parse_wrk(done.stdout)
    readers = pages.re.search(r"READERS (\d+)", done.stdout + done.stderr)
    result["readers"] = int(readers.group(1)) if readers else None
    return result


def combine(results: list[dict]) -> dict:
    """Several wrk runs of equal length as one: summed requests, worst p50 and p99."""
    return {
        "rps": sum(result["rps"] for result in results) / len(results),
        "p50_ms": max(result["p50_ms"] for result in results),
        "p99_ms": max(result["p99_ms"] for result in results),
        "requests": sum(result["requests"] for result in results),
        "non_2xx": sum(result["non_2xx"] for result in results),
        "readers": max((result.get("readers") or 0) for result in results) or None,
    }


def report(rounds: list[tuple[dict, dict]], rows: int, duration: int, threads: int) -> int:
    votes = combine([vote for vote, _ in rounds])
    static = combine([static for _, static in rounds])
    ratio = votes["rps"] / static["rps"] if static["rps"] else 0.0
    kind = "sync" if threads == 1 else f"gthread ({threads} threads)"
    print()
    print(
        f"gunicorn {pages.WORKERS} {kind} workers, PostgreSQL, DEBUG off; wrk "
        f"-t{pages.WRK_THREADS} -c{pages.WRK_CONNECTIONS} -d{duration}s against 127.0.0.1, "
        f"{len(rounds)} round(s) of votes then static file"
    )
    print(f"{'':14}{'req/s':>10}{'p50':>12}{'p99':>12}{'requests':>10}")
    for name, result in (("votes", votes), ("static file", static)):
        print(
            f"{name:14}{result['rps']:>10.1f}{pages.format_ms(result['p50_ms']):>12}"
            f"{pages.format_ms(result['p99_ms']):>12}{result['requests']:>10}"
        )
    print()
    per_round = ", ".join(
        f"{vote['rps'] / static_result['rps']:.3f}x" if static_result["rps"] else "n/a"
        for vote, static_result in rounds
    )
    errors = votes["non_2xx"] + static["non_2xx"]
    print(f"failed responses:      {errors}")
    print(f"distinct readers:      {votes['readers']}")
    print(f"rating rows:           {rows}")
    print(
        f"votes / static:        {ratio:.3f}x  (rounds: {per_round}; p50 and p99 the worst round's)"
    )
    met = ratio >= TARGET_RATIO and errors == 0 and rows == votes["readers"]
    verdict = "MET" if met else "NOT MET"
    print(f"Target votes >= {TARGET_RATIO}x static, no errors, one row per reader: {verdict}")
    return pages.EXIT_MET if met else pages.EXIT_NOT_MET


if __name__ == "__main__":
    sys.exit(main())
