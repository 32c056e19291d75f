"""Two real server processes, one Redis: a client's votes split across them meet one limit."""

import http.client
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.services import redis_url

ROOT = Path(__file__).resolve().parents[2]
DRAFT = """What's Happening?
Two servers count votes.
Why It's Important?
A limit each process kept apart would let a client vote twice as often.
What's Next?
They share one count in Redis.
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def wait_until_answering(process: subprocess.Popen, port: int, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the server on port {port} stopped:\n{log.read_text()}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/")
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
        finally:
            connection.close()
    pytest.fail(f"the server on port {port} did not answer within 30s:\n{log.read_text()}")


def post_vote(port: int, path: str) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(
            "POST",
            path,
            body="useful=yes",
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json",
            },
        )
        return connection.getresponse().status
    finally:
        connection.close()


@pytest.fixture
def site(tmp_path):
    """A migrated SQLite site with one published explainer, its caches in the test Redis."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "FEEDBACK_"))}
    env.update(
        {
            "NEWSROOM_VAR_DIR": str(tmp_path),
            "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3",
            "NEWSROOM_CACHE_URL": redis_url(),
            "FEEDBACK_RATE_LIMIT": "4/h",
            "DJANGO_DEBUG": "false",
            "PYTHONUNBUFFERED": "1",
        }
    )
    manage(env, "migrate", "--noinput", "-v", "0")
    (tmp_path / "draft.txt").write_text(DRAFT)
    published = manage(env, "import_explainers", "--publish", str(tmp_path / "draft.txt"))
    return env, re.search(r"-> (/explainers/[^/]+/)", published)[1]


def test_two_servers_share_one_redis_limit(site, tmp_path):
    """Votes alternating between two gunicorn processes are limited as one: 4 of 10 pass."""
    env, page = site
    servers = []
    try:
        for name in ("a", "b"):
            port = free_port()
            log = tmp_path / f"gunicorn-{name}.log"
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "newsroom.wsgi:application",
                    "--workers",
                    "1",
                    "--bind",
                    f"127.0.0.1:{port}",
                ],
                cwd=ROOT,
                env=env,
                stdout=log.open("w"),
                stderr=subprocess.STDOUT,
            )
            servers.append((process, port))
            wait_until_answering(process, port, log)
        # A window of an hour; do not start in the last seconds of one.
        if 3600 - time.time() % 3600 < 15:
            time.sleep(3600 - time.time() % 3600 + 1)
        vote_path = f"{page}feedback/"
        statuses = [post_vote(servers[n % 2][1], vote_path) for n in range(10)]
    finally:
        for process, _ in servers:
            process.terminate()
        for process, _ in servers:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    assert statuses == [200] * 4 + [429] * 6
