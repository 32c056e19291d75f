import gc
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.apps import apps

from newsroom import startup

ROOT = Path(__file__).resolve().parents[2]
REPORT = "import gc; print(gc.isenabled(), gc.get_freeze_count() > 10_000)"


def test_resume_freezes_what_exists_and_collects_again(collector, monkeypatch):
    """pause() stops collection; resume() freezes what start-up built and turns it back on."""
    monkeypatch.setattr(apps, "ready", False)  # as before Django is set up
    gc.enable()
    startup.pause()
    assert not gc.isenabled()
    startup.resume()
    assert gc.isenabled()
    assert gc.get_freeze_count() > 0


def test_resume_without_pause_changes_nothing(collector):
    """Django started by anything but an entry point (the test suite) is left as it is."""
    gc.enable()
    startup.resume()
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0


def test_collection_someone_else_turned_off_stays_off(collector):
    """pause() takes over only a collector that was on."""
    gc.disable()
    startup.pause()
    startup.resume()
    assert not gc.isenabled()
    assert gc.get_freeze_count() == 0


def run(*args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    done = subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.split()[-2:]


def test_management_commands_run_collecting_with_start_up_frozen():
    """manage.py pauses collection until the apps are loaded, then collects as usual."""
    assert run("manage.py", "shell", "-v", "0", "-c", REPORT) == ["True", "True"]


@pytest.mark.parametrize("entry", ["wsgi", "asgi"])
def test_web_workers_run_collecting_with_start_up_frozen(entry):
    """wsgi.py and asgi.py do the same for the web server's workers."""
    assert run("-c", f"import newsroom.{entry}; {REPORT}") == ["True", "True"]


# manage.py runserver --noreload as typed, with the server's loop swapped for a report of the
# collector as it would serve requests (after loading WSGI_APPLICATION, newsroom/wsgi.py).
RUNSERVER = """
import gc, runpy, sys
from django.core.management.commands import runserver

def serve(addr, port, handler, **kwargs):
    print("serving-with-collection", gc.isenabled())

runserver.run = serve
runserver.Command.check_migrations = lambda self: None
sys.argv = ["manage.py", "runserver", "--noreload", "--skip-checks", "127.0.0.1:8999"]
runpy.run_path("manage.py", run_name="__main__")
"""


def run_python(code: str) -> str:
    # Without the test run's settings or database: the project's own defaults, as typed.
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("DJANGO_") and k != "DATABASE_URL"
    }
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_pause_once_django_is_set_up_leaves_collection_on(collector):
    """No ready() comes after Django is set up, so pause() must not stop collection then."""
    gc.enable()
    startup.pause()
    assert gc.isenabled()
    startup.resume()
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0


def test_runserver_serves_requests_with_collection_on():
    """runserver loads wsgi.py after manage.py set Django up: the server keeps collecting."""
    assert "serving-with-collection True" in run_python(RUNSERVER)


@pytest.mark.parametrize("entry", ["wsgi", "asgi"])
def test_an_entry_point_imported_after_set_up_leaves_collection_on(entry):
    """A server or hook that set Django up before importing wsgi.py/asgi.py keeps collecting."""
    code = (
        "import gc, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'newsroom.settings'; "
        f"import django; django.setup(); import newsroom.{entry}; print(gc.isenabled())"
    )
    assert run_python(code).split()[-1] == "True"
