"""The production topology of deploy/ (deploy/local.py), started and stopped for real."""

import http.client
import json
import os
import time

import pytest

from deploy.local import Topology, TopologyError, missing_tools
from tests.services import missing

pytestmark = pytest.mark.deploy


def request(port: int, method: str, path: str, body: str | None = None, headers=None):
    """(status, headers) of one request to 127.0.0.1:port; the body is in ``.text``."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        response.text = response.read().decode(errors="replace")
        return response.status, response
    finally:
        connection.close()


@pytest.fixture(scope="module")
def topology():
    """nginx, Varnish, two app servers, a primary and its replica, Redis and the purger."""
    problems = missing_tools()
    if problems:
        missing("The deploy topology needs: " + "; ".join(problems))
    # The tests that watch pages through the edge poll it faster than deploy/'s reader limit
    # lets one address; the flood test goes past this one all the same.
    top = Topology(
        app_servers=2, workers=1, reader_rate="50r/s", reader_burst=100, say=lambda message: None
    )
    try:
        top.start()
    except TopologyError as exc:
        top.stop()
        pytest.fail(str(exc))
    yield top
    top.stop()


def demo_path(top: Topology) -> str:
    slug = top.psql(
        "SELECT slug FROM explainers_explainer ORDER BY id LIMIT 1", database="newsroom"
    )
    return f"/explainers/{slug}/"


def test_pages_come_through_the_edge_and_are_cached_by_varnish(topology):
    """The explainer page answers 200 through nginx and Varnish, and the second time is a hit."""
    path = demo_path(topology)
    first = request(topology.edge_port, "GET", path)
    second = request(topology.edge_port, "GET", path)
    assert first[0] == second[0] == 200
    assert second[1].getheader("X-Cache") == "HIT"


def test_the_edge_refuses_purges(topology):
    """A PURGE sent to the edge never reaches Varnish, whose ACL would admit nginx's address."""
    assert request(topology.edge_port, "PURGE", "/")[0] == 405


def test_a_vote_through_the_edge_is_stored_on_the_primary_and_replicated(topology):
    """A vote posted through nginx and Varnish is acknowledged and reaches the replica."""
    status, _ = request(
        topology.edge_port,
        "POST",
        demo_path(topology) + "feedback/",
        body="useful=yes",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
            "Sec-Fetch-Site": "same-origin",
        },
    )
    assert status == 200
    sql = "SELECT count(*) FROM feedback_rating"
    assert topology.psql(sql, database="newsroom") == "1"
    assert topology.psql("SELECT state FROM pg_stat_replication") == "streaming"
    deadline = time.monotonic() + 10
    while topology.psql(sql, server=topology.replica, database="newsroom") != "1":
        assert time.monotonic() < deadline, "the vote never reached the replica"
        time.sleep(0.1)


# An editor's changes (CHANGES: slug, headline, what to do), made on the primary through the
# services the admin uses.
EDITOR_CHANGES = """
from datetime import timedelta
from django.contrib.auth import get_user_model
from django.utils import timezone
from explainers.models import Explainer
from explainers.services import (
    explainer_archive, explainer_publish, explainer_record_edit, explainer_unpublish,
)
editor = get_user_model().objects.get(username="editor")
seed = Explainer.objects.order_by("pk").first()
for slug, headline, op in CHANGES:
    explainer, _ = Explainer.objects.get_or_create(slug=slug, defaults=dict(
        headline=headline, whats_happening=seed.whats_happening,
        why_its_important=seed.why_its_important, whats_next=seed.whats_next,
        ai_generated=False,
    ))
    if op == "publish":
        explainer_publish(explainer=explainer, user=editor)
    elif op == "expire":
        # An edit published with an expiry: a new version, as an editor's in the admin.
        explainer.whats_next += " It expires soon."
        explainer_record_edit(explainer=explainer, user=editor)
        expires_at = timezone.now() + timedelta(seconds=4)
        explainer_publish(explainer=explainer, user=editor, expires_at=expires_at)
    elif op == "unpublish":
        explainer_unpublish(explainer=explainer, user=editor)
    elif op == "archive":
        explainer_archive(explainer=explainer, user=editor)
"""
# What the editor does to each while the replica is cut off.
CUT_OFF = {
    "unpublish": ("unpublished-cut-off", "Unpublished while the replica is cut off"),
    "archive": ("archived-cut-off", "Archived while the replica is cut off"),
    "expire": ("expired-cut-off", "Expired while the replica is cut off"),
}


def editor_changes(top: Topology, changes: list[tuple[str, str, str]]) -> None:
    top.manage("shell", "--no-imports", "-c", f"CHANGES = {changes!r}\n" + EDITOR_CHANGES)


def wait_for(what: str, condition, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what} within {timeout:.0f} s"
        time.sleep(0.2)


def still_shown(top: Topology) -> list[str]:
    """Where readers, through the edge (Varnish, then the page cache), still see them."""
    shown = []
    for slug, _ in CUT_OFF.values():
        if request(top.edge_port, "GET", f"/explainers/{slug}/")[0] != 404:
            shown.append(f"/explainers/{slug}/")
    for path in ("/", "/feed/", "/news-sitemap.xml", "/search/?q=replica+cut+off"):
        status, response = request(top.edge_port, "GET", path)
        assert status == 200, path
        shown += [
            f"{path}: {slug}"
            for slug, headline in CUT_OFF.values()
            if headline in response.text or f"/{slug}/" in response.text
        ]
    return shown


def replica_state(top: Topology, index: int) -> str:
    _, response = request(top.app_ports[index], "GET", "/readyz")
    return json.loads(response.text)["replica"]


def test_a_change_is_never_undone_by_a_replica_cut_off_from_the_primary(topology):
    """Replication cut, explainers unpublished, archived and expired: readers never get them
    back, however long; the replica is left alone, with one warning a server and /readyz."""
    top = topology
    editor_changes(top, [(slug, headline, "publish") for slug, headline in CUT_OFF.values()])
    slugs = ", ".join(f"'{slug}'" for slug, _ in CUT_OFF.values())
    sql = (
        "SELECT string_agg(status, ' ' ORDER BY slug) FROM explainers_explainer "
        f"WHERE slug IN ({slugs})"
    )
    published = "published published published"
    wait_for(
        "the publications reach the replica",
        lambda: top.psql(sql, server=top.replica, database="newsroom") == published,
    )
    pages = [f"/explainers/{slug}/" for slug, _ in CUT_OFF.values()]
    for page in pages:
        wait_for("the page is published", lambda p=page: request(top.edge_port, "GET", p)[0] == 200)
        assert request(top.edge_port, "GET", page)[1].getheader("X-Cache") == "HIT"
    conninfo = top.psql("SHOW primary_conninfo", server=top.replica)
    top.psql("ALTER SYSTEM SET primary_conninfo = ''", server=top.replica)
    top.psql("SELECT pg_reload_conf()", server=top.replica)
    try:
        receivers = "SELECT count(*) FROM pg_stat_wal_receiver"
        wait_for(
            "the replica's WAL receiver stops",
            lambda: top.psql(receivers, server=top.replica) == "0",
        )
        editor_changes(top, [(slug, headline, op) for op, (slug, headline) in CUT_OFF.items()])
        wait_for("readers stop seeing them (purges, the expiry)", lambda: not still_shown(top))
        # Past the replica's allowed lag and the page cache's margin, and past when pages used
        # to be stored again with a CDN's full lifetime.
        watched_until = time.monotonic() + 16
        while time.monotonic() < watched_until:
            assert still_shown(top) == [], "a change undone for readers"
            time.sleep(0.3)
        states = [replica_state(top, index) for index in range(top.app_servers)]
        assert states == ["behind"] * top.app_servers
        assert top.psql(sql, server=top.replica, database="newsroom") == published
        # A page no cache holds is still rendered, from the primary.
        assert request(top.edge_port, "GET", "/search/?q=cut+off+render")[0] == 200
        for name in top.app_names():
            log = top.processes[name].log.read_text(errors="replace")
            assert log.count("Readers are served from the primary: the read replica") == 1
            assert "no WAL receiver runs on it" in log
    finally:
        quoted = conninfo.replace("'", "''")
        top.psql(f"ALTER SYSTEM SET primary_conninfo = '{quoted}'", server=top.replica)
        top.psql("SELECT pg_reload_conf()", server=top.replica)
    wait_for(
        "the replica catches up",
        lambda: (
            top.psql(sql, server=top.replica, database="newsroom")
            == "archived published unpublished"
        ),
    )
    wait_for("readers read the replica again", lambda: replica_state(top, 0) == "ok")
    assert "The read replica is usable again" in top.processes["app1"].log.read_text()


def test_the_balancer_sends_reads_to_the_other_server_when_one_dies(topology):
    """With one app server killed, pages that miss Varnish are still served (nginx retries)."""
    topology.kill_app(1)
    try:
        statuses = [request(topology.edge_port, "GET", f"/search/?q=smoke{n}")[0] for n in range(6)]
    finally:
        topology.start_app(1)
        topology.wait_app(1)
    assert statuses == [200] * 6


def test_a_flood_from_one_address_gets_429_past_its_burst(topology):
    """Past the edge's burst, one address gets 429 with Retry-After; the admin is not held."""
    connection = http.client.HTTPConnection("127.0.0.1", topology.edge_port, timeout=20)
    answers = []
    try:
        for _ in range(topology.reader_burst * 3):
            connection.request("GET", "/")
            response = connection.getresponse()
            response.read()
            answers.append((response.status, response.getheader("Retry-After")))
    finally:
        connection.close()
    statuses = [status for status, _ in answers]
    assert statuses[: topology.reader_burst] == [200] * topology.reader_burst
    assert 429 in statuses
    assert {retry for status, retry in answers if status == 429} == {"1"}
    assert request(topology.edge_port, "GET", "/admin/")[0] == 302
    deadline = time.monotonic() + 10
    while request(topology.edge_port, "GET", "/")[0] == 429:
        assert time.monotonic() < deadline, "the address was never let through again"
        time.sleep(0.2)


def test_the_admin_login_has_a_limit_of_its_own(topology):
    """Each login costs a password hash: past a few quick tries an address gets 429."""
    statuses = [request(topology.edge_port, "GET", "/admin/login/")[0] for _ in range(15)]
    assert statuses[:10] == [200] * 10
    assert 429 in statuses


def test_stopping_leaves_nothing_running(tmp_path):
    """Everything the topology started is gone once it stops, even after a failed start."""
    if missing_tools():
        missing("The deploy topology needs: " + "; ".join(missing_tools()))
    top = Topology(app_servers=1, workers=1, run_dir=tmp_path / "run", say=lambda m: None)
    top.start_redis()
    top.stop()
    pid = top.processes["redis"].popen.pid
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
