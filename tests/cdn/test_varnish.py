"""Through a real Varnish running deploy/varnish/newsroom.vcl, in front of a live server."""

import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from explainers.services import explainer_publish, explainer_unpublish, notice_add
from tests.factories import ExplainerFactory, TopicFactory
from tests.services import missing

pytestmark = [pytest.mark.varnish, pytest.mark.django_db(transaction=True)]

VCL = Path(__file__).resolve().parents[2] / "deploy" / "varnish" / "newsroom.vcl"
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str, method: str = "GET") -> tuple[int, str, str]:
    """(status, body, X-Cache) of a request through Varnish."""
    request = urllib.request.Request(url, method=method)
    try:
        with OPENER.open(request, timeout=10) as response:
            return response.status, response.read().decode(), response.headers.get("X-Cache")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(), exc.headers.get("X-Cache")


@pytest.fixture
def varnish(live_server, tmp_path, settings):
    """varnishd on a free loopback port in front of the live server; purged by run_purger."""
    varnishd = shutil.which("varnishd") or shutil.which("varnishd", path="/usr/sbin")
    if varnishd is None:
        missing(
            "varnishd is not installed: 'apt-get install varnish varnish-modules' (Debian's "
            "packages; .ci/run installs them)."
        )
    backend_port = live_server.url.rsplit(":", 1)[1]
    vcl = tmp_path / "newsroom.vcl"
    vcl.write_text(VCL.read_text().replace('.port = "8000";', f'.port = "{backend_port}";'))
    port = free_port()
    process = subprocess.Popen(
        [varnishd, "-F", "-j", "none", "-a", f"127.0.0.1:{port}", "-f", str(vcl)]
        + ["-n", str(tmp_path / "work"), "-p", "default_ttl=0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            get(url + "/static/none")
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                output = process.stdout.read().decode(errors="replace")
                if "xkey" in output:
                    missing(f"Varnish's xkey module is missing: install varnish-modules.\n{output}")
                pytest.fail(f"varnishd did not start:\n{output}")
            time.sleep(0.1)
    settings.PURGE_BACKEND = "varnish"
    settings.VARNISH_URLS = [url]
    settings.CDN_CACHE_SECONDS = 3600
    yield url
    process.terminate()
    process.wait(timeout=10)


def purge():
    call_command("run_purger", "--once")


def test_changes_show_through_varnish_once_purged_and_others_stay_cached(varnish, superuser):
    """A published edit, a notice and an unpublish each show once purged; other pages stay hits."""
    changing = ExplainerFactory(published=True, topic=TopicFactory(), headline="Old headline")
    other = ExplainerFactory(published=True, topic=TopicFactory(), headline="Other story")
    # A full related list of its own topic: one filled by text may take in the changed one.
    ExplainerFactory.create_batch(3, published=True, topic=other.topic)
    purge()  # what creating them queued
    page, other_page = varnish + changing.get_absolute_url(), varnish + other.get_absolute_url()
    for url in (page, other_page):
        assert get(url)[2] == "MISS"
        assert get(url)[2] == "HIT"

    changing.headline = "New headline"
    changing.save()
    explainer_publish(explainer=changing, user=None)
    purge()
    status, body, _ = get(page)
    assert status == 200 and "New headline" in body
    assert get(other_page)[2] == "HIT"

    notice_add(explainer=changing, user=superuser, kind="correction", text="A fix we made.")
    purge()
    assert "A fix we made." in get(page)[1]
    assert get(other_page)[2] == "HIT"

    explainer_unpublish(explainer=changing, user=None)
    purge()
    assert get(page)[0] == 404
    assert "New headline" not in get(varnish + "/")[1]
    assert get(other_page)[2] == "HIT"


def test_a_scheduled_publication_shows_through_varnish_on_time(varnish):
    """The home page, cached in Varnish, lists an explainer within 1 second of its time."""
    ExplainerFactory(published=True, headline="Already out")
    at = timezone.now() + timedelta(seconds=2)
    ExplainerFactory(published=True, published_at=at, headline="Due shortly")
    assert "Due shortly" not in get(varnish + "/")[1]
    assert get(varnish + "/")[2] == "HIT"
    time.sleep(max(0.0, (at - timezone.now()).total_seconds()) + 1)
    assert "Due shortly" in get(varnish + "/")[1]


def test_the_admin_and_votes_are_never_cached(varnish, published_explainer):
    """The admin's pages and the vote endpoint always reach the app."""
    for url in ("/admin/login/", f"/explainers/{published_explainer.slug}/feedback/"):
        get(varnish + url)
        assert get(varnish + url)[2] == "MISS"


def test_only_the_app_may_purge(varnish):
    """A PURGE without keys is refused with a message (the ACL admits loopback only)."""
    assert get(varnish + "/", method="PURGE")[0] == 400
