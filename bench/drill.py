"""A failure drill: the production topology under steady load while its parts fail.

    .venv/bin/python bench/drill.py [--duration 120]      (or: make drill)

It starts deploy/local.py's topology (nginx edge -> Varnish -> nginx balancer -> 2 gunicorn app
servers of 2 workers, a PostgreSQL primary and a streaming replica, a Redis of its own, the
purger), seeds explainers, then for --duration seconds:

- reader threads send a steady mix through the edge (explainer pages, home, topics, search)
  and votes from many simulated readers, each with its own reader cookie;
- an editor process publishes, edits and unpublishes explainers on the primary through the
  services editors use, and the drill times each change until it shows through the edge and
  on every live app server;
- one fault per phase, in turn: a clean restart of the primary (pg_ctl restart -m fast), Redis
  killed and started again (empty), one app server killed (SIGKILL) and started again, the
  replica stopped and started again.

It prints, per phase and in total, the answers by status, the 5xx (only 503 with Retry-After
while the primary is down is allowed), votes acknowledged against the rows stored (none lost,
one row per reader and explainer), the longest publish-to-visible time (target under 2 s) and
the replica's largest lag. Exit status: 0 every target met, 1 one missed, 2 the drill could not
run. All simulated readers share 127.0.0.1, so the per-client vote limit is lifted.
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from deploy.local import HOST, Topology, TopologyError  # noqa: E402

MARKER = "DRILL_JSON:"
VISIBLE_TARGET = 2.0
VISIBLE_GIVE_UP = 15.0
# A 503 is allowed for requests started while the primary is down, and this long after it is
# back (requests that were waiting on it when it came back).
PRIMARY_GRACE = 2.0
EXIT_MET, EXIT_MISSED, EXIT_ERROR = 0, 1, 2
SEARCH_WORDS = ("ukraine", "security", "talks", "europe", "drill", "peace", "guarantees")

SEED_CODE = """
import json
from django.contrib.auth import get_user_model
from explainers.models import Explainer, Topic
from explainers.services import explainer_publish
seed = Explainer.objects.order_by("pk").first()
editor = get_user_model().objects.get(username="editor")
topics = [
    Topic.objects.get_or_create(slug=f"drill-{name.lower()}", defaults={"name": f"Drill {name}"})[0]
    for name in ("World", "Politics", "Economy")
]
def make(slug, headline, topic):
    return Explainer.objects.create(
        headline=headline, slug=slug, whats_happening=seed.whats_happening,
        why_its_important=seed.why_its_important, whats_next=seed.whats_next,
        ai_generated=False, topic=topic,
    )
stable, editorial = [], []
for i in range(STABLE):
    explainer = make(f"drill-stable-{i}", f"Drill stable explainer {i}", topics[i % 3])
    explainer_publish(explainer=explainer, user=editor)
    stable.append(explainer.slug)
for i in range(EDITORIAL):
    editorial.append(make(f"drill-news-{i}", f"Drill news {i} draft", topics[i % 3]).slug)
print(MARKER + json.dumps({
    "stable": stable, "editorial": editorial, "topics": [t.slug for t in topics],
}))
"""

# The editor: one long-lived process taking one change per line on stdin, on the primary,
# through the services the admin uses. Each answer says when the change committed.
EDITOR_LOOP = """
import json, sys, time
from django.contrib.auth import get_user_model
from django.db import DatabaseError, connection
from explainers.models import Explainer
from explainers.services import explainer_publish, explainer_record_edit, explainer_unpublish
editor = get_user_model().objects.get(username="editor")
print(MARKER + json.dumps({"ready": True}), flush=True)
for line in sys.stdin:
    order = json.loads(line)
    tries, started = 0, time.time()
    while True:
        tries += 1
        try:
            explainer = Explainer.objects.using("default").get(slug=order["slug"])
            if order["op"] == "unpublish":
                explainer_unpublish(explainer=explainer, user=editor)
            else:
                explainer.headline = order["headline"]
                explainer_record_edit(explainer=explainer, user=editor)
                explainer_publish(explainer=explainer, user=editor)
            answer = {"ok": True, "committed": time.time(), "tries": tries}
            break
        except DatabaseError as exc:
            connection.close()
            if time.time() - started > 30:
                answer = {"ok": False, "error": repr(exc)[:300], "tries": tries}
                break
            time.sleep(0.5)
        except Exception as exc:
            # Anything else failed the editor's step (a cache that is down, say): report it.
            answer = {"ok": False, "error": repr(exc)[:300], "tries": tries}
            break
    print(MARKER + json.dumps(answer), flush=True)
"""

CHECK_CODE = """
import json
from django.db.models import Count
from explainers.models import Explainer
from feedback.models import Rating
from feedback.services import reader_key
with open(PATH) as f:
    attempts = json.load(f)
slugs = {slug: pk for slug, pk in Explainer.objects.values_list("slug", "pk")}
keys = {token: reader_key(token) for token in {a[0] for a in attempts}}
rows = {
    (explainer_id, reader): useful
    for explainer_id, reader, useful in Rating.objects.using("default")
    .filter(reader__in=keys.values())
    .values_list("explainer_id", "reader", "useful")
}
duplicates = (
    Rating.objects.using("default").filter(reader__in=keys.values())
    .values("explainer_id", "reader").annotate(n=Count("id")).filter(n__gt=1).count()
)
lost = wrong = acked = unacked_stored = 0
for token, slug, useful, last_acked, ever_acked in attempts:
    key = (slugs[slug], keys[token])
    if ever_acked:
        acked += 1
        if key not in rows:
            lost += 1
        elif last_acked and rows[key] != useful:
            wrong += 1
    elif key in rows:
        unacked_stored += 1
print(MARKER + json.dumps({
    "pairs_acked": acked, "rows": len(rows), "lost": lost, "wrong": wrong,
    "duplicates": duplicates, "stored_without_ack": unacked_stored,
    "total_ratings": Rating.objects.using("default").count(),
}))
"""


def log(message: str) -> None:
    print(f"==> {message}", flush=True)


# --- Phases and faults -------------------------------------------------------------------------


@dataclass
class Phase:
    name: str
    start: float  # seconds from the start of the load
    end: float
    fault_log: list[str] = field(default_factory=list)


PHASES = ("steady", "primary restart", "redis kill", "app server kill", "replica stop")


def make_phases(duration: float) -> list[Phase]:
    width = duration / len(PHASES)
    return [Phase(name, i * width, (i + 1) * width) for i, name in enumerate(PHASES)]


class Clock:
    def __init__(self) -> None:
        self.zero = time.time()

    def now(self) -> float:
        return time.time() - self.zero


@dataclass
class Stats:
    statuses: Counter = field(default_factory=Counter)
    bad_5xx: Counter = field(default_factory=Counter)
    allowed_503: int = 0
    errors: Counter = field(default_factory=Counter)
    votes_sent: int = 0
    votes_acked: int = 0
    latencies: list[float] = field(default_factory=list)


class Recorder:
    """Counts every answer under the phase its request started in."""

    def __init__(self, phases: list[Phase], clock: Clock) -> None:
        self.phases = phases
        self.clock = clock
        self.lock = threading.Lock()
        self.stats = {phase.name: Stats() for phase in phases}
        self.primary_down: list[list[float]] = []  # [start, end] in clock seconds
        self.samples: list[str] = []  # the first few 5xx that were not allowed

    def phase_of(self, at: float) -> str:
        for phase in self.phases:
            if at < phase.end:
                return phase.name
        return self.phases[-1].name

    def primary_was_down(self, started: float, finished: float) -> bool:
        """Whether the primary was down at any time while a request was in flight."""
        return any(
            started <= end + PRIMARY_GRACE and finished >= start for start, end in self.primary_down
        )

    def record(self, started, kind, status, retry_after, error, elapsed) -> None:
        with self.lock:
            stats = self.stats[self.phase_of(started)]
            stats.latencies.append(elapsed)
            if kind == "vote":
                stats.votes_sent += 1
            if error:
                stats.errors[error] += 1
                return
            stats.statuses[status] += 1
            if kind == "vote" and status in (200, 303):
                stats.votes_acked += 1
            if status >= 500:
                # A request sent just before the restart began may be answered after it.
                down = self.primary_was_down(started, started + elapsed)
                if status == 503 and retry_after and down:
                    stats.allowed_503 += 1
                else:
                    stats.bad_5xx[f"{status} {kind}"] += 1
                    if len(self.samples) < 10:
                        down = ", ".join(f"{a:.1f}-{b:.1f}" for a, b in self.primary_down)
                        self.samples.append(
                            f"{status} {kind} at {started:.1f} s, Retry-After {retry_after!r}, "
                            f"primary down {down or 'never'}"
                        )


# --- Readers -----------------------------------------------------------------------------------


class Reader(threading.Thread):
    """One connection to the edge, sending this thread's share of the steady rate."""

    def __init__(self, index, args, edge_port, seeded, recorder, clock, stop) -> None:
        super().__init__(daemon=True)
        self.index, self.args, self.edge_port = index, args, edge_port
        self.seeded, self.recorder, self.clock, self.stop_event = seeded, recorder, clock, stop
        self.random = random.Random(index)
        self.connection: http.client.HTTPConnection | None = None
        self.tokens = [f"drill{index:03d}r{n:023d}" for n in range(args.readers_per_thread)]
        # (token, slug) -> [last vote, last acknowledged?, ever acknowledged?]
        self.votes: dict[tuple[str, str], list] = {}

    def pick(self) -> tuple[str, str, str, dict]:
        roll = self.random.random()
        stable = self.seeded["stable"]
        if roll < self.args.vote_share:
            token = self.random.choice(self.tokens)
            slug = self.random.choice(stable)
            useful = self.random.choice(("yes", "no"))
            headers = {
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json",
                "Sec-Fetch-Site": "same-origin",
                "Cookie": f"newsroom_reader={token}",
            }
            return (
                "vote",
                "POST",
                f"/explainers/{slug}/feedback/",
                {
                    "headers": headers,
                    "body": f"useful={useful}",
                    "vote": (token, slug, useful == "yes"),
                },
            )
        roll = self.random.random()
        if roll < 0.55:
            return "page", "GET", f"/explainers/{self.random.choice(stable)}/", {}
        if roll < 0.70:
            return "home", "GET", self.random.choice(("/", "/?page=2")), {}
        if roll < 0.85:
            topic = self.random.choice(self.seeded["topics"])
            return "topics", "GET", self.random.choice(("/topics/", f"/topics/{topic}/")), {}
        return "search", "GET", f"/search/?q={self.random.choice(SEARCH_WORDS)}", {}

    def send(self, method, path, extra) -> tuple[int, str | None]:
        if self.connection is None:
            self.connection = http.client.HTTPConnection(HOST, self.edge_port, timeout=20)
        body = extra.get("body")
        self.connection.request(method, path, body=body, headers=extra.get("headers", {}))
        response = self.connection.getresponse()
        response.read()
        if response.getheader("Connection", "").lower() == "close":
            self.connection.close()
            self.connection = None
        return response.status, response.getheader("Retry-After")

    def run(self) -> None:
        interval = self.args.threads / self.args.rate
        next_at = time.monotonic() + self.random.uniform(0, interval)
        while not self.stop_event.is_set():
            delay = next_at - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            next_at = max(next_at + interval, time.monotonic() - interval)
            kind, method, path, extra = self.pick()
            started = self.clock.now()
            status, retry_after, error = 0, None, None
            try:
                status, retry_after = self.send(method, path, extra)
            except (OSError, http.client.HTTPException) as exc:
                error = type(exc).__name__
                if self.connection is not None:
                    self.connection.close()
                self.connection = None
            self.recorder.record(
                started, kind, status, retry_after, error, self.clock.now() - started
            )
            if kind == "vote":
                token, slug, useful = extra["vote"]
                acked = error is None and status in (200, 303)
                entry = self.votes.setdefault((token, slug), [useful, False, False])
                entry[0], entry[1] = useful, acked
                entry[2] = entry[2] or acked


# --- The editor --------------------------------------------------------------------------------


class Editor:
    def __init__(self, topology: Topology) -> None:
        code = f"MARKER = {MARKER!r}\n" + EDITOR_LOOP
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "shell", "--no-imports", "-c", code],
            cwd=ROOT,
            env=topology.env(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=open(topology.logs / "editor.log", "ab"),  # noqa: SIM115 (the child keeps it)
            text=True,
        )
        self.read()

    def read(self) -> dict:
        for line in self.process.stdout:
            if line.startswith(MARKER):
                return json.loads(line[len(MARKER) :])
        raise TopologyError("The editor process stopped; see logs/editor.log.")

    def do(self, **order) -> dict:
        self.process.stdin.write(json.dumps(order) + "\n")
        self.process.stdin.flush()
        return self.read()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.close()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def visible(url_base: str, path: str, want: str, marker: str) -> bool | None:
    """Whether the change shows at url_base (None: that server is down)."""
    connection = http.client.HTTPConnection(url_base.split("//")[1], timeout=5)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read().decode(errors="replace")
    except OSError:
        return None
    finally:
        connection.close()
    if want == "gone":
        return response.status == 404
    return response.status == 200 and marker in body


def editorial_loop(topology, seeded, args, recorder, clock, stop, changes) -> None:
    """Publish, edit and unpublish in turn; time each change until every place shows it."""
    editor = Editor(topology)
    try:
        state = dict.fromkeys(seeded["editorial"], "draft")
        revision = Counter()
        count = 0
        while not stop.is_set():
            slug = seeded["editorial"][count % len(seeded["editorial"])]
            count += 1
            if state[slug] == "published-edited":
                op, want = "unpublish", "gone"
            else:
                op = "edit" if state[slug] == "published" else "publish"
                want = "shown"
            revision[slug] += 1
            headline = f"Drill news {slug[-1]} (revision {revision[slug]})"
            path = f"/explainers/{slug}/"
            started = clock.now()
            answer = editor.do(op=op, slug=slug, headline=headline)
            if not answer["ok"]:
                changes.append({"phase": recorder.phase_of(started), "op": op, "error": answer})
                stop.wait(args.change_every)
                continue
            committed = answer["committed"] - clock.zero
            state[slug] = {
                "publish": "published",
                "edit": "published-edited",
                "unpublish": "unpublished",
            }[op]
            places = {"edge": topology.edge_url} | {
                f"app{i + 1}": topology.app_url(i) for i in range(topology.app_servers)
            }
            seen: dict[str, float | None] = {}
            deadline = time.time() + VISIBLE_GIVE_UP
            while places and time.time() < deadline:
                for name, base in list(places.items()):
                    # A reader who asked at this moment got the change: the time counts from
                    # the request, so a server slow to answer (one just started) is not stale.
                    asked = clock.now()
                    shown = visible(base, path, want, headline)
                    if shown is None and name != "edge":
                        seen[name] = None  # that app server is down: nothing to see there
                        del places[name]
                    elif shown:
                        seen[name] = max(0.0, asked - committed)
                        del places[name]
                if places:
                    time.sleep(0.05)
            for name in places:
                seen[name] = float("inf")
            times = [t for t in seen.values() if t is not None]
            changes.append(
                {
                    "phase": recorder.phase_of(committed),
                    "op": op,
                    "slug": slug,
                    "seconds": max(times) if times else float("inf"),
                    "places": seen,
                    "tries": answer["tries"],
                }
            )
            stop.wait(max(0.0, args.change_every - (clock.now() - started)))
    finally:
        editor.stop()


# --- Faults and the replica's lag ------------------------------------------------------------


def inject_faults(topology, phases, recorder, clock, stop) -> None:
    def wait_until(at: float) -> bool:
        return not stop.wait(max(0.0, at - clock.now()))

    for phase in phases:
        width = phase.end - phase.start
        if not wait_until(phase.start + min(2.0, width / 5)):
            return
        note = phase.fault_log.append
        if phase.name == "primary restart":
            down = [clock.now(), float("inf")]
            recorder.primary_down.append(down)
            topology.primary.restart("fast")
            down[1] = clock.now()
            note(f"primary restarted (pg_ctl restart -m fast) in {down[1] - down[0]:.1f}s")
        elif phase.name == "redis kill":
            topology.processes["redis"].kill()
            killed = clock.now()
            stop.wait(min(3.0, width / 5))
            topology.start_redis()
            note(f"Redis killed (SIGKILL), started again empty after {clock.now() - killed:.1f}s")
        elif phase.name == "app server kill":
            index = topology.app_servers - 1
            topology.kill_app(index)
            killed = clock.now()
            stop.wait(min(2.0, width / 6))
            topology.start_app(index)
            topology.wait_app(index)
            note(
                f"app{index + 1} killed (SIGKILL), serving again after {clock.now() - killed:.1f}s"
            )
        elif phase.name == "replica stop":
            stopped = clock.now()
            topology.replica.stop("fast")
            stop.wait(min(5.0, width / 4))
            topology.replica.start()
            note(f"replica stopped, started again after {clock.now() - stopped:.1f}s")


REPLICA_LAG_SQL = (
    "SELECT CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0 "
    "ELSE EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()) END"
)


def sample_lag(topology, recorder, clock, stop, lags) -> None:
    """The replica's replay lag every half second (None while it cannot be reached)."""
    import psycopg

    url = topology.replica.url("postgres")
    while not stop.is_set():
        at = clock.now()
        try:
            with psycopg.connect(url, connect_timeout=1, autocommit=True) as conn:
                value = conn.execute(REPLICA_LAG_SQL).fetchone()[0]
            lags.append((recorder.phase_of(at), float(value or 0)))
        except psycopg.Error:
            lags.append((recorder.phase_of(at), None))
        for name in topology.supervise():
            lags.append((recorder.phase_of(at), None))
            log(f"{name} had exited; started it again")
        stop.wait(0.5)


# --- Checks at the end -------------------------------------------------------------------------


def shell_json(topology, code: str, **values) -> dict:
    prelude = "".join(f"{k} = {v!r}\n" for k, v in {"MARKER": MARKER, **values}.items())
    done = topology.manage("shell", "--no-imports", "-c", prelude + code)
    for line in done.stdout.splitlines():
        if line.startswith(MARKER):
            return json.loads(line[len(MARKER) :])
    raise TopologyError(f"manage.py shell printed no result:\n{done.stdout}{done.stderr}")


def check_votes(topology, readers) -> dict:
    attempts = [
        [token, slug, useful, last_acked, ever_acked]
        for reader in readers
        for (token, slug), (useful, last_acked, ever_acked) in reader.votes.items()
    ]
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(attempts, f)
    try:
        return shell_json(topology, CHECK_CODE, PATH=f.name)
    finally:
        Path(f.name).unlink()


def replica_catch_up(topology, timeout: float = 30) -> float | None:
    """Seconds until the replica holds as many ratings as the primary, or None."""
    sql = "SELECT count(*) FROM feedback_rating"
    started = time.monotonic()
    want = topology.psql(sql, database="newsroom")
    while time.monotonic() - started < timeout:
        try:
            if topology.psql(sql, server=topology.replica, database="newsroom") == want:
                return time.monotonic() - started
        except TopologyError:
            pass
        time.sleep(0.2)
    return None


# --- Report ------------------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


def report(phases, recorder, changes, lags, votes, catch_up, duration) -> bool:
    total = Stats()
    print(f"\nbench/drill.py: {duration:.0f} s of load, {len(phases)} phases\n")
    for phase in phases:
        stats = recorder.stats[phase.name]
        total.statuses.update(stats.statuses)
        total.bad_5xx.update(stats.bad_5xx)
        total.errors.update(stats.errors)
        total.allowed_503 += stats.allowed_503
        total.votes_sent += stats.votes_sent
        total.votes_acked += stats.votes_acked
        total.latencies += stats.latencies
        print_stats(f"{phase.name} ({phase.start:.0f}-{phase.end:.0f} s)", stats)
        for line in phase.fault_log:
            print(f"    fault: {line}")
        phase_changes = [c for c in changes if c["phase"] == phase.name and "seconds" in c]
        if phase_changes:
            worst = max(c["seconds"] for c in phase_changes)
            print(f"    changes: {len(phase_changes)}, longest to visible {worst:.2f} s")
        phase_lags = [lag for name, lag in lags if name == phase.name]
        known = [lag for lag in phase_lags if lag is not None]
        down = sum(1 for lag in phase_lags if lag is None) * 0.5
        print(
            f"    replica lag: max {max(known, default=0):.2f} s"
            + (f", unreachable ~{down:.1f} s" if down else "")
        )
    print_stats("TOTAL", total)

    for sample in recorder.samples:
        print(f"    5xx not allowed: {sample}")

    timed = [c for c in changes if "seconds" in c]
    failed_changes = [c for c in changes if "error" in c]
    times = [c["seconds"] for c in timed]
    longest = max(times, default=0.0)
    print(
        f"\neditor: {len(timed)} changes (publish, edit, unpublish) timed"
        + (f", {len(failed_changes)} failed to commit" if failed_changes else "")
    )
    failures = Counter(f"in '{c['phase']}': {c['error']['error']}" for c in failed_changes)
    for failure, count in failures.items():
        print(f"  FAILED {count}x {failure}")
    if times:
        print(
            f"  publish-to-visible (edge and every live app server): median "
            f"{statistics.median(times):.2f} s, longest {longest:.2f} s"
        )
    slowest = max(timed, key=lambda c: c["seconds"], default=None)
    if slowest:
        places = ", ".join(
            f"{k} {'down' if v is None else f'{v:.2f}s'}" for k, v in slowest["places"].items()
        )
        print(f"  slowest: {slowest['op']} {slowest['slug']} in '{slowest['phase']}': {places}")
    known = [lag for _, lag in lags if lag is not None]
    print(f"replica: largest lag {max(known, default=0):.2f} s", end="")
    print(
        f"; after the load, caught up with the primary's ratings in {catch_up:.1f} s"
        if catch_up is not None
        else "; did NOT catch up with the primary's ratings within 30 s"
    )
    print(
        f"votes: {total.votes_acked} acknowledged of {total.votes_sent} sent; "
        f"{votes['pairs_acked']} reader-explainer pairs acknowledged, {votes['rows']} rows stored "
        f"for the drill's readers; lost {votes['lost']}, wrong value {votes['wrong']}, "
        f"duplicate rows {votes['duplicates']}, stored without an acknowledgement "
        f"{votes['stored_without_ack']}"
    )

    checks = [
        ("no 5xx but 503 + Retry-After while the primary is down", not total.bad_5xx),
        ("no connection errors", not total.errors),
        ("no acknowledged vote lost", votes["lost"] == 0 and votes["wrong"] == 0),
        ("one row per reader and explainer", votes["duplicates"] == 0),
        (f"every change visible within {VISIBLE_TARGET:.0f} s", longest < VISIBLE_TARGET),
        ("every editor change committed", not failed_changes),
        ("the replica caught up", catch_up is not None),
    ]
    print()
    for name, ok in checks:
        print(f"  [{'ok' if ok else 'MISSED'}] {name}")
    return all(ok for _, ok in checks)


def print_stats(title: str, stats: Stats) -> None:
    requests = sum(stats.statuses.values()) + sum(stats.errors.values())
    statuses = " ".join(f"{code}:{n}" for code, n in sorted(stats.statuses.items()))
    print(f"{title}: {requests} requests  [{statuses}]")
    print(
        f"    p50 {percentile(stats.latencies, 0.5) * 1000:.0f} ms, "
        f"p99 {percentile(stats.latencies, 0.99) * 1000:.0f} ms; "
        f"votes acknowledged {stats.votes_acked}/{stats.votes_sent}; "
        f"503 while the primary was down: {stats.allowed_503}"
    )
    if stats.bad_5xx:
        print("    5xx NOT allowed: " + ", ".join(f"{k}: {n}" for k, n in stats.bad_5xx.items()))
    if stats.errors:
        print("    connection errors: " + ", ".join(f"{k}: {n}" for k, n in stats.errors.items()))


# --- Main --------------------------------------------------------------------------------------


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/drill.py",
        description=__doc__.split("\n\n", 2)[2],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--duration", type=float, default=120, help="seconds (default 120)")
    parser.add_argument("--rate", type=float, default=60, help="requests/s in all (default 60)")
    parser.add_argument("--threads", type=int, default=12, help="reader threads (default 12)")
    parser.add_argument("--vote-share", type=float, default=0.3, help="share of votes (0.3)")
    parser.add_argument("--readers-per-thread", type=int, default=40, help="reader cookies each")
    parser.add_argument("--change-every", type=float, default=3.0, help="seconds per change")
    parser.add_argument("--keep", action="store_true", help="keep the run directory and logs")
    args = parser.parse_args(argv)
    if args.duration < 10:
        parser.error("--duration must be at least 10 seconds")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        with Topology(
            app_servers=2,
            workers=2,
            keep=args.keep,
            extra_env={"FEEDBACK_RATE_LIMIT": "1000000/s"},
            # Every thread sends from 127.0.0.1: the edge's limit per address is lifted too.
            reader_rate="100000r/s",
            say=log,
        ) as topology:
            return drill(topology, args)
    except TopologyError as exc:
        print(f"\nbench/drill.py: {exc}", file=sys.stderr)
        return EXIT_ERROR


def drill(topology: Topology, args) -> int:
    log("seeding explainers")
    seeded = shell_json(topology, SEED_CODE, STABLE=24, EDITORIAL=4)
    clock = Clock()
    phases = make_phases(args.duration)
    recorder = Recorder(phases, clock)
    stop = threading.Event()
    changes: list[dict] = []
    lags: list[tuple[str, float | None]] = []
    readers = [
        Reader(i, args, topology.edge_port, seeded, recorder, clock, stop)
        for i in range(args.threads)
    ]
    helpers = [
        threading.Thread(
            target=editorial_loop,
            args=(topology, seeded, args, recorder, clock, stop, changes),
            daemon=True,
        ),
        threading.Thread(
            target=inject_faults, args=(topology, phases, recorder, clock, stop), daemon=True
        ),
        threading.Thread(
            target=sample_lag, args=(topology, recorder, clock, stop, lags), daemon=True
        ),
    ]
    log(f"load for {args.duration:.0f} s at {args.rate:.0f} requests/s; phases: {PHASES}")
    clock.zero = time.time()
    for thread in readers + helpers:
        thread.start()
    stop.wait(args.duration)
    stop.set()
    for thread in readers + helpers:
        thread.join(timeout=60)
    load_seconds = clock.now()
    log("load stopped; checking votes and the replica")
    votes = check_votes(topology, readers)
    catch_up = replica_catch_up(topology)
    met = report(phases, recorder, changes, lags, votes, catch_up, load_seconds)
    print(f"\nTargets: {'met' if met else 'MISSED'}")
    if args.keep:
        print(f"Logs: {topology.logs}")
    return EXIT_MET if met else EXIT_MISSED


if __name__ == "__main__":
    sys.exit(main())
