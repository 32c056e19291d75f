"""The production topology of deploy/ (deploy/local.py), started and stopped for real."""

import http.client
import os
import time

import pytest

from deploy.local import Topology, TopologyError, missing_tools
from tests.services import missing

pytestmark = pytest.mark.deploy


def request(port: int, method: str, path: str, body: str | None = None, headers=None):
    """(status, headers) of one request to 127.0.0.1:port."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        response.read()
        return response.status, response
    finally:
        connection.close()


@pytest.fixture(scope="module")
def topology():
    """nginx, Varnish, two app servers, a primary and its replica, Redis and the purger."""
    problems = missing_tools()
    if problems:
        missing("The deploy topology needs: " + "; ".join(problems))
    top = Topology(app_servers=2, workers=1, say=lambda message: None)
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
