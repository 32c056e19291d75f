"""The production topology on one machine's loopback, from the files in deploy/.

    .venv/bin/python deploy/local.py up [--app-servers 2] [--workers 2]

starts, each on a free port of 127.0.0.1, under a fresh run directory:

- a PostgreSQL primary (initdb, deploy/postgresql/primary.conf) and a streaming replica
  (pg_basebackup -R with a replication slot, deploy/postgresql/replica.conf), run as the
  ``postgres`` user when started by root (initdb refuses root);
- Redis without persistence (deploy/redis/redis.conf);
- the app: ``migrate``, ``collectstatic`` and the demo explainer, then N gunicorn app servers
  (deploy/gunicorn.conf.py) in the production profile, and ``manage.py run_purger``;
- Varnish (deploy/varnish/newsroom.vcl) and nginx (deploy/nginx/newsroom.conf): the edge in
  front of Varnish and the balancer behind it.

It prints the site's address and the environment the app servers run with, then waits; Ctrl-C
(or SIGTERM) stops everything it started and deletes the run directory (``--keep`` keeps it, with
the logs). ``bench/drill.py`` and ``tests/deploy/`` use the same ``Topology`` class.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
HOST = "127.0.0.1"
PG_BIN = Path(os.environ.get("NEWSROOM_PG_BIN", "/usr/lib/postgresql/15/bin"))
DATABASE = "newsroom"
SLOT = "newsroom_replica1"
# The edge nginx, Varnish and the balancer each append to X-Forwarded-For.
PROXY_COUNT = 3
EDITOR = "editor"
# An account with no password (it cannot log in) that signs off and publishes seeded text.
EDITOR_CODE = f"""
from django.contrib.auth import get_user_model
users = get_user_model()
if not users.objects.filter(username="{EDITOR}").exists():
    users.objects.create_superuser("{EDITOR}", "{EDITOR}@example.com", None)
"""
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class TopologyError(Exception):
    """Something the topology needs is missing or did not start; the message says what."""


def free_port() -> int:
    return free_ports(1)[0]


def free_ports(count: int) -> list[int]:
    """``count`` different free ports: each socket is held until all are chosen, or the
    system may hand out one port twice (seen: Varnish given Redis's port)."""
    with contextlib.ExitStack() as stack:
        socks = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in socks:
            sock.bind((HOST, 0))
        return [sock.getsockname()[1] for sock in socks]


def which(name: str) -> str | None:
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/local/sbin:/sbin")


def missing_tools() -> list[str]:
    """What this machine lacks to run the topology, each with how to get it."""
    problems = []
    for tool, package in (
        ("nginx", "nginx"),
        ("varnishd", "varnish varnish-modules"),
        ("redis-server", "redis-server"),
    ):
        if which(tool) is None:
            problems.append(f"{tool} (apt-get install {package})")
    for tool in ("initdb", "pg_ctl", "pg_basebackup"):
        if not (PG_BIN / tool).exists():
            problems.append(f"{PG_BIN / tool} (apt-get install postgresql-15, or NEWSROOM_PG_BIN)")
    if os.geteuid() == 0 and which("runuser") is None:
        problems.append("runuser (util-linux), to run PostgreSQL as the postgres user")
    return problems


def http_get(url: str, timeout: float = 2, headers: dict | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with OPENER.open(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def render(template: Path, values: dict[str, str]) -> str:
    """The template with each {{name}} replaced; a name without a value is an error."""
    text = template.read_text()
    for name, value in values.items():
        text = text.replace("{{" + name + "}}", value)
    if "{{" in text:
        start = text.index("{{")
        raise TopologyError(f"{template}: no value for {text[start : text.index('}}', start) + 2]}")
    return text


@dataclass
class Postgres:
    """One PostgreSQL server (primary or replica) in a data directory of its own."""

    name: str
    data: Path
    port: int
    log: Path
    socket_dir: Path

    def url(self, user: str = DATABASE) -> str:
        return f"postgres://{user}@{HOST}:{self.port}/{DATABASE}"

    def pg_ctl(self, *args: str, check: bool = True, timeout: float = 60) -> None:
        options = f"-c port={self.port} -c listen_addresses={HOST} -k {self.socket_dir}"
        command = [str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log)]
        run_as_postgres([*command, "-o", options, *args], check=check, timeout=timeout)

    def start(self) -> None:
        self.pg_ctl("-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        if (self.data / "postmaster.pid").exists():
            self.pg_ctl("-w", "-t", "60", "-m", mode, "stop", check=False)

    def restart(self, mode: str = "fast") -> None:
        self.pg_ctl("-w", "-t", "60", "-m", mode, "restart")

    def ready(self) -> bool:
        done = subprocess.run(
            [str(PG_BIN / "pg_isready"), "-q", "-h", HOST, "-p", str(self.port)],
            check=False,
        )
        return done.returncode == 0


def run_as_postgres(command: list[str], check: bool = True, timeout: float = 120) -> str:
    """Run a PostgreSQL tool as the postgres user when we are root (initdb refuses root)."""
    if os.geteuid() == 0:
        command = ["runuser", "-u", "postgres", "--", *command]
    done = subprocess.run(
        command, capture_output=True, text=True, check=False, timeout=timeout, cwd="/"
    )
    if check and done.returncode != 0:
        raise TopologyError(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


@dataclass
class Process:
    """A child in its own session, so that killing it kills its workers too."""

    name: str
    command: list[str]
    log: Path
    env: dict[str, str] | None = None
    popen: subprocess.Popen | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.popen = subprocess.Popen(
                self.command,
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def kill(self) -> None:
        """SIGKILL the process and everything in its session, as a machine dying would."""
        if self.popen is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait(timeout=10)

    def stop(self, timeout: float = 20) -> None:
        if not self.running():
            return
        self.popen.terminate()
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
        # Workers left behind by a master that went first.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGKILL)

    def tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


@dataclass
class Topology:
    """nginx -> Varnish -> nginx -> N gunicorn app servers, PostgreSQL primary and replica,
    Redis and the purger, on loopback. Use as a context manager: everything stops on exit."""

    app_servers: int = 2
    workers: int = 2
    run_dir: Path | None = None
    keep: bool = False
    extra_env: dict[str, str] = field(default_factory=dict)
    say: object = print
    # The edge's limit per client address (deploy/nginx/newsroom.conf): everything here comes
    # from 127.0.0.1, so a load test lifts it.
    reader_rate: str = "10r/s"
    reader_burst: int = 50

    def __post_init__(self) -> None:
        self.owns_run_dir = self.run_dir is None
        if self.run_dir is None:
            self.run_dir = Path(tempfile.mkdtemp(prefix="newsroom-topology-"))
        self.run_dir.mkdir(parents=True, exist_ok=True)
        # The postgres user must reach its data directories inside.
        self.run_dir.chmod(0o711)
        self.logs = self.run_dir / "logs"
        self.logs.mkdir(exist_ok=True)
        ports = free_ports(6 + self.app_servers)
        self.edge_port, self.varnish_port, self.balancer_port, self.redis_port = ports[:4]
        primary_port, replica_port = ports[4:6]
        self.app_ports = ports[6:]
        pg_dir = self.run_dir / "pg"
        pg_dir.mkdir(exist_ok=True)
        pg_dir.chmod(0o711)
        self.pg_dir = pg_dir
        self.primary = Postgres(
            "primary", pg_dir / "primary", primary_port, pg_dir / "primary.log", pg_dir
        )
        self.replica = Postgres(
            "replica", pg_dir / "replica", replica_port, pg_dir / "replica.log", pg_dir
        )
        self.processes: dict[str, Process] = {}
        self.secret_key = secrets.token_urlsafe(50)
        self.started_postgres: list[Postgres] = []

    # --- addresses and environment ---------------------------------------------------------

    @property
    def edge_url(self) -> str:
        return f"http://{HOST}:{self.edge_port}"

    @property
    def varnish_url(self) -> str:
        return f"http://{HOST}:{self.varnish_port}"

    def app_url(self, index: int) -> str:
        return f"http://{HOST}:{self.app_ports[index]}"

    @property
    def redis_url(self) -> str:
        return f"redis://{HOST}:{self.redis_port}/0"

    def env(self) -> dict[str, str]:
        """The production environment every app server, the purger and commands run with."""
        env = dict(os.environ)
        env.update(
            {
                "DJANGO_SETTINGS_MODULE": "newsroom.settings",
                "DJANGO_ENV": "production",
                "DJANGO_SECRET_KEY": self.secret_key,
                "DJANGO_ALLOWED_HOSTS": f"{HOST},localhost",
                "NEWSROOM_SITE_URL": self.edge_url,
                "DJANGO_CSRF_TRUSTED_ORIGINS": self.edge_url,
                # No TLS on loopback; in production the edge terminates it and these stay on.
                "DJANGO_SECURE_PROXY_SSL_HEADER": "true",
                "DJANGO_SECURE_SSL_REDIRECT": "false",
                "DJANGO_SECURE_COOKIES": "false",
                "DJANGO_HSTS_SECONDS": "0",
                "DATABASE_URL": self.primary.url(),
                "DATABASE_REPLICA_URL": self.replica.url(),
                "DJANGO_CONN_MAX_AGE": "60",
                "NEWSROOM_CACHE_URL": self.redis_url,
                "NEWSROOM_PURGE_BACKEND": "varnish",
                "NEWSROOM_VARNISH_URLS": self.varnish_url,
                "NEWSROOM_CDN_CACHE_SECONDS": "86400",
                "FEEDBACK_CLIENT_IP_HEADER": "X-Forwarded-For",
                "FEEDBACK_PROXY_COUNT": str(PROXY_COUNT),
                "DJANGO_STATIC_ROOT": str(self.run_dir / "static"),
                "DJANGO_MEDIA_ROOT": str(self.run_dir / "media"),
                "NEWSROOM_VAR_DIR": str(self.run_dir / "var"),
                "DJANGO_LOG_LEVEL": "WARNING",
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.update(self.extra_env)
        return env

    # --- start and stop ----------------------------------------------------------------------

    def __enter__(self) -> Topology:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        problems = missing_tools()
        if problems:
            raise TopologyError("Missing: " + "; ".join(problems))
        self.start_postgres()
        self.start_redis()
        self.prepare_app()
        for index in range(self.app_servers):
            self.start_app(index)
        self.start_purger()
        self.start_varnish()
        self.start_nginx()
        for index in range(self.app_servers):
            self.wait_app(index)
        self.wait_http(
            self.edge_url + "/healthz", "the edge", process=self.processes["nginx"], accept_404=True
        )

    def stop(self) -> None:
        for name in ("nginx", "varnish", "purger", *self.app_names(), "redis"):
            process = self.processes.get(name)
            if process is not None:
                process.stop()
        for server in reversed(self.started_postgres):
            server.stop()
        if self.owns_run_dir and not self.keep:
            shutil.rmtree(self.run_dir, ignore_errors=True)

    def app_names(self) -> list[str]:
        return [f"app{index + 1}" for index in range(self.app_servers)]

    # PostgreSQL ---------------------------------------------------------------------------------

    def start_postgres(self) -> None:
        self.say(f"PostgreSQL primary on {HOST}:{self.primary.port}")
        if os.geteuid() == 0:
            shutil.chown(self.pg_dir, "postgres", "postgres")
        run_as_postgres(
            [
                str(PG_BIN / "initdb"),
                "-D",
                str(self.primary.data),
                "-U",
                "postgres",
                "--auth=trust",  # loopback only; production uses scram-sha-256 (docs/operations.md)
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ]
        )
        with (self.primary.data / "postgresql.conf").open("a") as conf:
            conf.write(f"\ninclude '{self.copy_for_postgres('primary.conf')}'\n")
        self.primary.start()
        self.started_postgres.append(self.primary)
        self.psql(f"CREATE ROLE {DATABASE} LOGIN")
        self.psql(f"CREATE DATABASE {DATABASE} OWNER {DATABASE}")
        self.say(f"PostgreSQL replica on {HOST}:{self.replica.port} (pg_basebackup -R)")
        run_as_postgres(
            [
                str(PG_BIN / "pg_basebackup"),
                "-h",
                HOST,
                "-p",
                str(self.primary.port),
                "-U",
                "postgres",
                "-D",
                str(self.replica.data),
                "-X",
                "stream",
                "-c",
                "fast",  # checkpoint now rather than spread over minutes
                "-C",
                "-S",
                SLOT,
                "-R",
            ]
        )
        with (self.replica.data / "postgresql.conf").open("a") as conf:
            conf.write(f"include '{self.copy_for_postgres('replica.conf')}'\n")
        self.replica.start()
        self.started_postgres.append(self.replica)

    def copy_for_postgres(self, name: str) -> Path:
        """A copy of deploy/postgresql/NAME the postgres user can read."""
        target = self.pg_dir / name
        shutil.copyfile(DEPLOY / "postgresql" / name, target)
        target.chmod(0o644)
        return target

    def psql(self, sql: str, server: Postgres | None = None, database: str = "postgres") -> str:
        server = server or self.primary
        return run_as_postgres(
            [
                str(PG_BIN / "psql"),
                "-X",
                "-qAt",
                "-h",
                HOST,
                "-p",
                str(server.port),
                "-U",
                "postgres",
                "-d",
                database,
                "-v",
                "ON_ERROR_STOP=1",
                "-c",
                sql,
            ]
        ).strip()

    # Redis -----------------------------------------------------------------------------------

    def start_redis(self) -> None:
        self.say(f"Redis on {HOST}:{self.redis_port}")
        process = Process(
            "redis",
            [
                which("redis-server"),
                str(DEPLOY / "redis" / "redis.conf"),
                "--port",
                str(self.redis_port),
                "--dir",
                str(self.run_dir),
                "--daemonize",
                "no",
            ],
            self.logs / "redis.log",
        )
        self.processes["redis"] = process
        process.start()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection((HOST, self.redis_port), 1):
                return
            time.sleep(0.05)
        raise TopologyError(f"Redis did not start:\n{process.tail()}")

    # The app ---------------------------------------------------------------------------------

    def manage(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env(),
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout,
        )
        if done.returncode != 0:
            raise TopologyError(f"manage.py {args[0]} failed:\n{done.stdout}{done.stderr}")
        return done

    def prepare_app(self) -> None:
        self.say("migrate, collectstatic, the demo explainer")
        self.manage("migrate", "--noinput")
        self.manage("collectstatic", "--noinput")
        # The demo explainer is AI-drafted: publishing it needs an editor's sign-off.
        self.manage("shell", "--no-imports", "-c", EDITOR_CODE)
        self.manage(
            "import_explainers",
            "--publish",
            "--reviewed-by",
            EDITOR,
            "explainers/demo/explainer-seed.txt",
        )

    def start_app(self, index: int) -> None:
        name = self.app_names()[index]
        env = self.env()
        env["GUNICORN_BIND"] = f"{HOST}:{self.app_ports[index]}"
        env["WEB_CONCURRENCY"] = str(self.workers)
        process = Process(
            name,
            [sys.executable, "-m", "gunicorn", "-c", str(DEPLOY / "gunicorn.conf.py")],
            self.logs / f"{name}.log",
            env=env,
        )
        self.processes[name] = process
        process.start()

    def wait_app(self, index: int, timeout: float = 60) -> None:
        self.wait_http(
            self.app_url(index) + "/healthz",
            self.app_names()[index],
            process=self.processes[self.app_names()[index]],
            timeout=timeout,
            accept_404=True,
        )

    def kill_app(self, index: int) -> None:
        self.processes[self.app_names()[index]].kill()

    def start_purger(self) -> None:
        process = Process(
            "purger",
            [sys.executable, "manage.py", "run_purger", "--interval", "0.2"],
            self.logs / "purger.log",
            env=self.env(),
        )
        self.processes["purger"] = process
        process.start()

    def supervise(self) -> list[str]:
        """Restart the purger if it died (as systemd's Restart=always would); what restarted."""
        restarted = []
        purger = self.processes.get("purger")
        if purger is not None and not purger.running():
            purger.start()
            restarted.append("purger")
        return restarted

    # Varnish and nginx ---------------------------------------------------------------------

    def start_varnish(self) -> None:
        self.say(f"Varnish on {HOST}:{self.varnish_port}")
        vcl = (DEPLOY / "varnish" / "newsroom.vcl").read_text()
        vcl = vcl.replace('.port = "8000";', f'.port = "{self.balancer_port}";')
        path = self.run_dir / "newsroom.vcl"
        path.write_text(vcl)
        process = Process(
            "varnish",
            [
                which("varnishd"),
                "-F",
                "-j",
                "none",
                "-a",
                f"{HOST}:{self.varnish_port}",
                "-f",
                str(path),
                "-n",
                str(self.run_dir / "varnish"),
                "-s",
                "malloc,256m",
                "-p",
                "default_ttl=0",
            ],
            self.logs / "varnish.log",
        )
        self.processes["varnish"] = process
        process.start()

    def start_nginx(self) -> None:
        self.say(f"nginx: the edge on {HOST}:{self.edge_port}, balancer on {self.balancer_port}")
        servers = "\n    ".join(
            f"server {HOST}:{port} max_fails=1 fail_timeout=5s;" for port in self.app_ports
        )
        site = render(
            DEPLOY / "nginx" / "newsroom.conf",
            {
                "edge_listen": f"{HOST}:{self.edge_port}",
                "varnish": f"{HOST}:{self.varnish_port}",
                "balancer_listen": f"{HOST}:{self.balancer_port}",
                "app_servers": servers,
                "media_root": str(self.run_dir / "media"),
                "reader_rate": self.reader_rate,
                "reader_burst": str(self.reader_burst),
            },
        )
        (self.run_dir / "newsroom-site.conf").write_text(site)
        temp = self.run_dir / "nginx-temp"
        temp.mkdir(exist_ok=True)
        # What Debian's /etc/nginx/nginx.conf provides around a site file, for a private run.
        (self.run_dir / "nginx.conf").write_text(
            f"""daemon off;
worker_processes 1;
pid {self.run_dir}/nginx.pid;
error_log {self.logs}/nginx-error.log warn;
{"user root;" if os.geteuid() == 0 else ""}
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    access_log off;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    include {self.run_dir}/newsroom-site.conf;
}}
"""
        )
        process = Process(
            "nginx",
            [which("nginx"), "-c", str(self.run_dir / "nginx.conf"), "-p", str(self.run_dir)],
            self.logs / "nginx.log",
        )
        self.processes["nginx"] = process
        process.start()

    # Waiting ---------------------------------------------------------------------------------

    def wait_http(
        self,
        url: str,
        name: str,
        process: Process | None = None,
        timeout: float = 60,
        accept_404: bool = False,
    ) -> None:
        """Wait until ``url`` answers 200 (or 404 with ``accept_404``: before /healthz exists,
        any answer from Django means the server is up)."""
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            if process is not None and not process.running():
                raise TopologyError(f"{name} exited:\n{process.tail()}")
            try:
                status, _ = http_get(url)
                if status == 200 or (accept_404 and status == 404):
                    return
                last = f"answered {status}"
            except OSError as exc:
                last = str(exc)
            time.sleep(0.1)
        tail = process.tail() if process else ""
        raise TopologyError(f"{name} did not answer {url} within {timeout:.0f}s ({last})\n{tail}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="deploy/local.py",
        description=__doc__.split("\n\n", 2)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("command", choices=["up"], help="start everything, stop on Ctrl-C")
    parser.add_argument("--app-servers", type=int, default=2, metavar="N")
    parser.add_argument("--workers", type=int, default=2, metavar="N", help="per app server")
    parser.add_argument("--keep", action="store_true", help="keep the run directory and logs")
    args = parser.parse_args(argv)

    def on_term(signum, frame):
        raise KeyboardInterrupt  # stop everything, as Ctrl-C does

    signal.signal(signal.SIGTERM, on_term)
    try:
        with Topology(app_servers=args.app_servers, workers=args.workers, keep=args.keep) as top:
            env = top.env()
            print(f"\nThe site: {top.edge_url}/  (admin: {top.edge_url}/admin/)")
            print(f"Run directory (logs in logs/): {top.run_dir}")
            print("App servers: " + ", ".join(top.app_url(i) for i in range(args.app_servers)))
            print("Their environment:")
            for name in sorted(env):
                if name.startswith(("DJANGO_", "NEWSROOM_", "DATABASE_", "FEEDBACK_")):
                    print(f"  {name}={env[name]}")
            print("Ctrl-C stops everything.", flush=True)
            while True:
                for name in top.supervise():
                    print(f"{name} had stopped; started it again", flush=True)
                time.sleep(1)
    except KeyboardInterrupt:
        pass
    except TopologyError as exc:
        print(f"deploy/local.py: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
