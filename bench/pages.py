"""Throughput of the public pages against a static file served by the same gunicorn.

A benchmark run by hand, not a test. From the project root:

    .venv/bin/python bench/pages.py [--duration 10] [--rounds 3] [--varnish]
                                    [--database-url postgres://...]

It configures the production profile (DEBUG off, whitenoise's compressed manifest storage,
persistent database connections), collects static files into a temporary STATIC_ROOT, migrates
and seeds a PostgreSQL database, starts gunicorn (2 sync workers) on a free port of 127.0.0.1 and
loads each address in turn with wrk (2 threads, 16 connections): one explainer page from the
page cache (a hit); the same page missing the page cache (an unknown query parameter) with its
explainer unchanged, so its rendered body is served after one query; the same page rendered
cold, as after its explainer changed (a second gunicorn whose cache keeps no page,
bench/cold_settings.py); the home page; and site.css. With ``--varnish`` it also starts
varnishd with deploy/varnish/newsroom.vcl in front of the first gunicorn and loads the page
and site.css through it. It prints requests/s, p50 and p99 latency for each and the ratio of
each page's requests/s to the static file's (through Varnish: to the static file through
Varnish). Targets: hit 0.8x, unchanged miss 0.35x, cold render 0.15x, through Varnish 1.0x.
Run it on an otherwise idle machine: wrk, gunicorn and PostgreSQL share its CPUs.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED_FILE = ROOT / "explainers" / "demo" / "explainer-seed.txt"
DEFAULT_DATABASE_URL = "postgres://root@127.0.0.1:5432/newsroom_bench"
HOST = "127.0.0.1"
WORKERS = 2
WRK_THREADS = 2
WRK_CONNECTIONS = 16
# Each measured address's target, as a share of the static file's requests/s.
TARGETS = {"cache hit": 0.8, "miss, unchanged": 0.35, "cold render": 0.15, "via Varnish": 1.0}
FILLER_COUNT = 50
MARKER = "BENCH_JSON:"

EXIT_MET = 0
EXIT_NOT_MET = 1
EXIT_ERROR = 2


class BenchError(Exception):
    """A problem that stops the benchmark; its message is printed as is."""


@dataclass
class Result:
    name: str
    baseline: str
    path: str
    size: int
    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    socket_errors: str


def log(message: str) -> None:
    print(f"==> {message}", flush=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/pages.py",
        description=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=(
            "Needs wrk (apt-get install -y wrk) and a PostgreSQL server that the database URL\n"
            "reaches; the database is created when missing. Only 127.0.0.1 is loaded.\n"
            "Exit status: 0 target met, 1 target missed, 2 the benchmark could not run."
        ),
    )
    parser.add_argument(
        "--duration",
        type=int,
        default=10,
        metavar="SECONDS",
        help="how long wrk loads each address (default: %(default)s)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        metavar="N",
        help="load every address N times in turn and judge the median of the rounds' ratios: "
        "steadier when the machine's speed drifts (default: %(default)s)",
    )
    parser.add_argument(
        "--warmup",
        type=int,
        default=3,
        metavar="SECONDS",
        help="wrk warm-up per address before measuring, 0 for none (default: %(default)s)",
    )
    parser.add_argument(
        "--database-url",
        default=DEFAULT_DATABASE_URL,
        metavar="URL",
        help="PostgreSQL database to migrate, seed and serve from (default: %(default)s)",
    )
    parser.add_argument(
        "--varnish",
        action="store_true",
        help="also load the page and site.css through varnishd (apt-get install varnish "
        "varnish-modules)",
    )
    parser.add_argument(
        "--reset-db",
        action="store_true",
        help="drop and recreate that database first; only for a throwaway benchmark database",
    )
    args = parser.parse_args(argv)
    if args.duration < 1:
        parser.error("--duration must be at least 1 second")
    if args.warmup < 0:
        parser.error("--warmup cannot be negative")
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    if urllib.parse.urlsplit(args.database_url).scheme not in {"postgres", "postgresql"}:
        parser.error("--database-url must be a postgres:// or postgresql:// URL")
    return args


def check_tools() -> str:
    wrk = shutil.which("wrk")
    if wrk is None:
        print(
            "wrk is not installed. Install it with: apt-get install -y wrk",
            file=sys.stderr,
        )
        sys.exit(EXIT_ERROR)
    missing = [m for m in ("django", "gunicorn", "psycopg") if importlib.util.find_spec(m) is None]
    if missing:
        raise BenchError(
            f"{sys.executable} cannot import {', '.join(missing)}. "
            "Run with the project's virtual environment: .venv/bin/python bench/pages.py"
        )
    if not (ROOT / "manage.py").is_file():
        raise BenchError(f"No manage.py in {ROOT}; is bench/pages.py inside the project?")
    return wrk


# --- Database -------------------------------------------------------------------------------


def ensure_database(url: str, reset: bool) -> None:
    """Create the database named in ``url`` when missing (and drop it first with ``reset``)."""
    try:
        import psycopg
        from psycopg import sql
    except ImportError:
        ensure_database_with_createdb(url, reset)
        return
    dbname = psycopg.conninfo.conninfo_to_dict(url).get("dbname")
    if not dbname:
        raise BenchError(f"The database URL names no database: {url}")
    try:
        with psycopg.connect(url, dbname="postgres", autocommit=True, connect_timeout=10) as conn:
            if reset:
                log(f"dropping database {dbname}")
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                        sql.Identifier(dbname)
                    )
                )
            found = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)
            ).fetchone()
            if not found:
                log(f"creating database {dbname}")
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
    except psycopg.Error as exc:
        raise BenchError(f"Cannot prepare PostgreSQL database {dbname!r}: {exc}") from exc


def ensure_database_with_createdb(url: str, reset: bool) -> None:
    parts = urllib.parse.urlsplit(url)
    dbname = parts.path.lstrip("/")
    options = []
    if parts.hostname:
        options += ["-h", parts.hostname]
    if parts.port:
        options += ["-p", str(parts.port)]
    if parts.username:
        options += ["-U", urllib.parse.unquote(parts.username)]
    env = dict(os.environ)
    if parts.password:
        env["PGPASSWORD"] = urllib.parse.unquote(parts.password)
    if reset:
        subprocess.run(["dropdb", *options, "--if-exists", "--force", dbname], env=env, check=False)
    done = subprocess.run(
        ["createdb", *options, dbname], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0 and "already exists" not in done.stderr:
        raise BenchError(f"createdb {dbname} failed: {done.stderr.strip()}")


# --- Django management commands ----------------------------------------------------------------


def bench_environment(database_url: str, static_root: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "newsroom.settings",
            "DJANGO_ENV": "production",
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            # Production requires it; the benchmarks never follow the links it makes.
            "NEWSROOM_SITE_URL": f"http://{HOST}",
            "DJANGO_SECURE_SSL_REDIRECT": "false",
            "DJANGO_SECURE_COOKIES": "false",
            "DJANGO_HSTS_SECONDS": "0",
            "DATABASE_URL": database_url,
            "DJANGO_CONN_MAX_AGE": "600",
            "DJANGO_STATIC_ROOT": str(static_root),
            "DJANGO_LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def manage(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    if check and done.returncode != 0:
        output = (done.stdout + done.stderr).strip()
        shown = " ".join(a if "\n" not in a else "<snippet>" for a in args)
        raise BenchError(f"manage.py {shown} failed:\n{output}")
    return done


def shell_json(env: dict[str, str], code: str, **values: object) -> dict:
    """Run ``code`` in ``manage.py shell`` and return the JSON it prints after MARKER.

    Each of ``values`` is assigned, as a Python literal, to a variable of that name first.
    """
    prelude = "".join(f"{key} = {value!r}\n" for key, value in {"MARKER": MARKER, **values}.items())
    done = manage(env, "shell", "--no-imports", "-c", prelude + code)
    for line in done.stdout.splitlines():
        if line.startswith(MARKER):
            return json.loads(line[len(MARKER) :])
    raise BenchError(f"manage.py shell printed no result:\n{done.stdout}{done.stderr}")


REVIEWER_CODE = """
import json
from django.contrib.auth import get_user_model
users = get_user_model()
if not users.objects.filter(username="bench").exists():
    users.objects.create_superuser("bench", "bench@example.com", None)
print(MARKER + json.dumps({"ok": True}))
"""

# Fillers copy the seed's text and go through the same publishing service as editors do.
FILLER_CODE = """
import json
from datetime import timedelta
from django.contrib.auth import get_user_model
from django.utils import timezone
from explainers.models import Explainer, Topic
from explainers.services import explainer_publish, explainer_sign_off
seed = Explainer.objects.exclude(import_digest="").order_by("-pk").first()
bench = get_user_model().objects.get(username="bench")
topics = [
    Topic.objects.get_or_create(slug=f"bench-{name.lower()}", defaults={"name": f"Bench {name}"})[0]
    for name in ("World", "Politics", "Economy", "Science", "Climate")
]
existing = set(
    Explainer.objects.filter(slug__startswith="bench-filler-").values_list("slug", flat=True)
)
now = timezone.now()
created = 0
for i in range(1, COUNT + 1):
    slug = f"bench-filler-{i:02d}"
    if slug in existing:
        continue
    explainer = Explainer.objects.create(
        headline=f"Bench explainer {i}: {seed.headline}"[:200],
        slug=slug,
        whats_happening=seed.whats_happening,
        why_its_important=seed.why_its_important,
        whats_next=seed.whats_next,
        ai_generated=seed.ai_generated,
        topic=topics[i % len(topics)],
    )
    if explainer.ai_generated:
        explainer_sign_off(explainer=explainer, user=bench)
    explainer_publish(explainer=explainer, user=bench, at=now - timedelta(hours=i))
    created += 1
print(MARKER + json.dumps({"created": created}))
"""

PICK_CODE = """
import json
from django.db import connection
from explainers.models import Explainer
# The planner's statistics, which autovacuum keeps on a live database: just-seeded tables have
# none, and PostgreSQL then plans the related list's query for tables it thinks are empty.
with connection.cursor() as cursor:
    cursor.execute("ANALYZE")
published = Explainer.objects.published()
target = published.exclude(import_digest="").order_by("-published_at").first()
path = target.get_absolute_url() if target else None
print(MARKER + json.dumps({
    "published": published.count(),
    "slug": target.slug if target else None,
    "path": path,
}))
"""

STATIC_CODE = """
import json
from django.contrib.staticfiles.storage import staticfiles_storage as storage
name = "css/site.css"
try:
    url = storage.url(name)
except ValueError:
    names = sorted(storage.hashed_files, key=lambda n: (not n.endswith(".css"), n))
    name = names[0] if names else None
    url = storage.url(name) if name else None
print(MARKER + json.dumps({"name": name, "url": url}))
"""


def seed(env: dict[str, str]) -> tuple[str, int]:
    """Put the seed explainer and the fillers in place; return the explainer's path and count."""
    shell_json(env, REVIEWER_CODE)
    manage(
        env,
        "import_explainers",
        "--publish",
        "--reviewed-by",
        "bench",
        str(SEED_FILE.relative_to(ROOT)),
    )
    log("seed explainer imported with import_explainers --publish")
    made = shell_json(env, FILLER_CODE, COUNT=FILLER_COUNT)
    log(f"{made['created']} filler explainers created")
    picked = shell_json(env, PICK_CODE)
    if not picked["path"]:
        raise BenchError("No published explainer to load after seeding the database.")
    return picked["path"], picked["published"]


def static_path(env: dict[str, str]) -> str:
    found = shell_json(env, STATIC_CODE)
    if not found["url"]:
        raise BenchError("The static files manifest is empty; collectstatic found nothing.")
    if found["name"] != "css/site.css":
        log(f"css/site.css is not in the manifest; using {found['name']} instead")
    return urllib.parse.urlsplit(found["url"]).path


# --- Serving and loading --------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # a redirect is an answer other than 200: report it, do not follow it


# No proxies: every request goes straight to 127.0.0.1.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), NoRedirect)


def fetch(url: str, timeout: float = 10) -> tuple[int, bytes, str]:
    """(status, body, Location) of a GET, without following redirects."""
    try:
        with OPENER.open(url, timeout=timeout) as response:
            return response.status, response.read(), ""
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), exc.headers.get("Location", "")


def start_gunicorn(
    env: dict[str, str], port: int, log_path: Path, threads: int = 1
) -> subprocess.Popen:
    """gunicorn with WORKERS sync workers, or gthread workers when ``threads`` > 1."""
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "newsroom.wsgi:application",
        "--workers",
        str(WORKERS),
        "--worker-class",
        "sync" if threads == 1 else "gthread",
        "--threads",
        str(threads),
        "--bind",
        f"{HOST}:{port}",
        "--log-level",
        "warning",
        "--error-logfile",
        "-",
    ]
    with log_path.open("wb") as out:
        return subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop_gunicorn(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.terminate()  # the master stops its workers gracefully on SIGTERM
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # its own session: the master and its workers
        process.wait(timeout=10)


def log_tail(log_path: Path, lines: int = 30) -> str:
    try:
        text = log_path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def wait_until_answering(
    process: subprocess.Popen, url: str, log_path: Path, timeout: float = 60
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchError(
                f"gunicorn exited with status {process.returncode}:\n{log_tail(log_path)}"
            )
        try:
            fetch(url, timeout=2)
            return
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
    raise BenchError(f"gunicorn did not answer within {timeout:.0f}s:\n{log_tail(log_path)}")


def check_ok(name: str, url: str) -> int:
    status, body, location = fetch(url)
    if status != 200:
        where = f" (redirect to {location})" if location else ""
        raise BenchError(
            f"GET {url} ({name}) answered {status}{where}, not 200. The benchmark needs every "
            "address to answer 200: are the view, its URL and its template in place?"
        )
    return len(body)


TIME_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def parse_wrk(output: str) -> dict:
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.MULTILINE)
    total = re.search(r"^\s*(\d+) requests in", output, re.MULTILINE)
    latencies = {
        pct: float(value) * TIME_UNITS_MS[unit]
        for pct, value, unit in re.findall(
            r"^\s*(50|99)%\s+([\d.]+)(us|ms|s|m|h)\s*$", output, re.MULTILINE
        )
    }
    if not rps or not total or set(latencies) != {"50", "99"}:
        raise BenchError(f"Cannot read wrk's output:\n{output}")
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return {
        "rps": float(rps.group(1)),
        "requests": int(total.group(1)),
        "p50_ms": latencies["50"],
        "p99_ms": latencies["99"],
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
        "socket_errors": (
            "connect {}, read {}, write {}, timeout {}".format(*sockets.groups()) if sockets else ""
        ),
    }


def run_wrk(wrk: str, url: str, duration: int, *extra: str) -> dict:
    """Load ``url``; ``extra`` arguments (e.g. a Lua script) go before it."""
    command = [
        wrk,
        f"-t{WRK_THREADS}",
        f"-c{WRK_CONNECTIONS}",
        f"-d{duration}s",
        "--latency",
        *extra,
        url,
    ]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=duration + 60, check=False
    )
    if done.returncode != 0:
        raise BenchError(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}")
    return parse_wrk(done.stdout)


def cpu_busy_percent(interval: float = 1.0) -> float | None:
    """Share of all CPUs busy over ``interval`` seconds, from /proc/stat (Linux only)."""

    def sample() -> tuple[int, int]:
        with open("/proc/stat") as stat:
            values = [int(v) for v in stat.readline().split()[1:]]
        idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
        return sum(values), idle

    try:
        total_1, idle_1 = sample()
        time.sleep(interval)
        total_2, idle_2 = sample()
    except (OSError, ValueError, IndexError):
        return None
    total = total_2 - total_1
    return 100.0 * (total - (idle_2 - idle_1)) / total if total else None


# --- Report ---------------------------------------------------------------------------------


def format_ms(value: float) -> str:
    return f"{value:.2f} ms" if value < 100 else f"{value:.0f} ms"


def report(rounds: list[list[Result]], duration: int, busy_before: float | None) -> bool:
    """Print each address's median round and each page's ratio: the median of its rounds'
    ratios, each against the static file loaded in the same round."""
    print()
    print(
        f"gunicorn {WORKERS} sync workers, PostgreSQL, DEBUG off; "
        f"wrk -t{WRK_THREADS} -c{WRK_CONNECTIONS} -d{duration}s against {HOST}"
        + (f", {len(rounds)} rounds" if len(rounds) > 1 else "")
    )
    busy = "unknown" if busy_before is None else f"{busy_before:.0f}%"
    print(
        f"{os.cpu_count()} CPUs, {busy} busy just before loading "
        "(anything else running on the machine skews the numbers)"
    )
    header = f"{'':<20}{'req/s':>10}{'p50':>12}{'p99':>12}{'requests':>10}{'bytes':>9}  path"
    print(header)
    print("-" * len(header))
    # Per address, the round with its median rate (the lower middle one of an even count).
    median_rounds = [
        sorted(measured, key=lambda r: r.rps)[(len(measured) - 1) // 2]
        for measured in zip(*rounds, strict=True)
    ]
    for r in median_rounds:
        print(
            f"{r.name:<20}{r.rps:>10.1f}{format_ms(r.p50_ms):>12}{format_ms(r.p99_ms):>12}"
            f"{r.requests:>10}{r.size:>9}  {r.path}"
        )
    for results in rounds:
        for r in results:
            if r.socket_errors:
                print(f"note: {r.name}: socket errors {r.socket_errors}")
    print()
    met = True
    for r in median_rounds:
        if r.baseline == r.name:
            continue
        ratios = []
        for results in rounds:
            by_name = {each.name: each for each in results}
            base = by_name[r.baseline].rps
            ratios.append(by_name[r.name].rps / base if base else 0.0)
        ratio = statistics.median(ratios)
        target = TARGETS.get(r.name)
        verdict = ""
        if target is not None:
            ok = ratio >= target
            met = met and ok
            verdict = f"   target {target:.2f}x: {'MET' if ok else 'NOT MET'}"
        each = f"   (rounds: {', '.join(f'{x:.3f}x' for x in ratios)})" if len(ratios) > 1 else ""
        print(f"{r.name + ' / ' + r.baseline + ':':<40}{ratio:.3f}x{verdict}{each}")
    return met


def start_varnish(backend_port: int, tmp: Path) -> tuple[subprocess.Popen, int]:
    """varnishd with the deploy VCL in front of the gunicorn on ``backend_port``."""
    varnishd = shutil.which("varnishd") or shutil.which("varnishd", path="/usr/sbin")
    if varnishd is None:
        raise BenchError("varnishd is missing: apt-get install -y varnish varnish-modules")
    vcl = tmp / "newsroom.vcl"
    source = (ROOT / "deploy" / "varnish" / "newsroom.vcl").read_text()
    vcl.write_text(source.replace('.port = "8000";', f'.port = "{backend_port}";'))
    port = free_port()
    process = subprocess.Popen(
        [varnishd, "-F", "-j", "none", "-a", f"{HOST}:{port}", "-f", str(vcl)]
        + ["-n", str(tmp / "varnish"), "-s", "malloc,256m"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    return process, port


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        wrk = check_tools()
        ensure_database(args.database_url, args.reset_db)
        with tempfile.TemporaryDirectory(prefix="newsroom-bench-") as tmp:
            static_root = Path(tmp) / "static"
            env = bench_environment(args.database_url, static_root)
            log(f"collectstatic into {static_root}")
            manage(env, "collectstatic", "--noinput", "-v", "0")
            log("migrate")
            manage(env, "migrate", "--noinput", "-v", "0")
            explainer_path, published = seed(env)
            log(f"{published} published explainers; loading {explainer_path}")
            if published < 21:
                log("warning: fewer than 21 published explainers, the home page is not full")
            port, cold_port = free_port(), free_port()
            base, cold = f"http://{HOST}:{port}", f"http://{HOST}:{cold_port}"
            static = static_path(env)
            # (name, server, path, the name it is compared with)
            targets = [
                ("cache hit", base, explainer_path, "static file"),
                # A query parameter the page does not know is never stored, so every request
                # misses the page cache: the explainer's unchanged rendered body is served
                # after one query (what a page pays once its stored copy is invalidated).
                ("miss, unchanged", base, explainer_path + "?bench=miss", "static file"),
                # No page kept: the page's queries and templates, as after a change.
                ("cold render", cold, explainer_path, "static file"),
                ("home page", base, "/", "static file"),
                ("static file", base, static, "static file"),
            ]
            log_path = Path(tmp) / "gunicorn.log"
            cold_log = Path(tmp) / "gunicorn-cold.log"
            log(f"starting gunicorn on {base}, and on {cold} with a cache that keeps no page")
            processes = [start_gunicorn(env, port, log_path)]
            cold_env = {**env, "DJANGO_SETTINGS_MODULE": "cold_settings"}
            cold_env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "bench"), str(ROOT)])
            processes.append(start_gunicorn(cold_env, cold_port, cold_log))
            try:
                wait_until_answering(processes[0], base + static, log_path)
                wait_until_answering(processes[1], cold + static, cold_log)
                if args.varnish:
                    varnish, varnish_port = start_varnish(port, Path(tmp))
                    processes.append(varnish)
                    through = f"http://{HOST}:{varnish_port}"
                    wait_until_answering(varnish, through + static, log_path)
                    targets += [
                        ("via Varnish", through, explainer_path, "static via Varnish"),
                        ("static via Varnish", through, static, "static via Varnish"),
                    ]
                sizes = {name: check_ok(name, server + path) for name, server, path, _ in targets}
                busy_before = cpu_busy_percent()
                if args.warmup:
                    log(f"warming up, {args.warmup}s per address")
                    for _, server, path, _ in targets:
                        run_wrk(wrk, server + path, args.warmup)
                rounds: list[list[Result]] = []
                for number in range(1, args.rounds + 1):
                    results = []
                    for name, server, path, baseline in targets:
                        step = f" (round {number} of {args.rounds})" if args.rounds > 1 else ""
                        log(f"loading {name} for {args.duration}s{step}")
                        measured = run_wrk(wrk, server + path, args.duration)
                        if measured["non_2xx"]:
                            raise BenchError(
                                f"{name} ({path}): wrk saw {measured['non_2xx']} responses "
                                f"other than 2xx or 3xx; the numbers would be meaningless.\n"
                                f"gunicorn log:\n{log_tail(log_path)}"
                            )
                        measured.pop("non_2xx")
                        size = sizes[name]
                        results.append(
                            Result(name=name, baseline=baseline, path=path, size=size, **measured)
                        )
                    rounds.append(results)
            finally:
                log("stopping gunicorn")
                for process in processes:
                    stop_gunicorn(process)
            met = report(rounds, args.duration, busy_before)
            return EXIT_MET if met else EXIT_NOT_MET
    except BenchError as exc:
        print(f"\nbench/pages.py: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("\nbench/pages.py: interrupted", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
