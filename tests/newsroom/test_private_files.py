"""Development files are private from the moment they exist: var/ 0700, files 0600."""

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from newsroom import private_files
from newsroom.private_files import create_private_file, private_directory, replace_private_file

ROOT = Path(__file__).resolve().parents[2]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask():
    """The usual umask (022), under which a plainly created file is readable by everyone."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


@pytest.fixture
def no_chmod(monkeypatch):
    """Restricting a file after writing it would leave a moment when others could read it."""

    def refuse(*args, **kwargs):
        raise AssertionError("chmod after the fact")

    monkeypatch.setattr(os, "chmod", refuse)
    monkeypatch.setattr(Path, "chmod", refuse)


def test_created_file_is_private_from_the_start(tmp_path, open_umask, no_chmod):
    """create_private_file makes a 0600 file with its content, without any chmod."""
    path = tmp_path / "secret"
    assert create_private_file(path, "s3cret") is True
    assert (mode(path), path.read_text()) == (0o600, "s3cret")
    assert [p.name for p in tmp_path.iterdir()] == ["secret"]


def test_existing_file_is_left_alone(tmp_path):
    """create_private_file keeps a file that is already there, and leaves no temporary file."""
    path = tmp_path / "secret"
    path.write_text("first")
    assert create_private_file(path, "second") is False
    assert path.read_text() == "first"
    assert [p.name for p in tmp_path.iterdir()] == ["secret"]


def test_replaced_file_is_private_whatever_the_old_mode(tmp_path, open_umask, no_chmod):
    """replace_private_file swaps in a 0600 file even over a world-readable one."""
    path = tmp_path / "password"
    path.write_text("old")
    assert mode(path) == 0o644
    replace_private_file(path, "new\n")
    assert (mode(path), path.read_text()) == (0o600, "new\n")


def test_failed_write_leaves_no_temporary_file(tmp_path, monkeypatch):
    """A write that fails removes its half-written temporary file."""

    def broken_fdopen(descriptor, *args, **kwargs):
        os.close(descriptor)
        raise OSError("disk full")

    monkeypatch.setattr(private_files.os, "fdopen", broken_fdopen)
    with pytest.raises(OSError, match="disk full"):
        create_private_file(tmp_path / "secret", "x")
    assert list(tmp_path.iterdir()) == []


def test_private_directory_is_created_0700(tmp_path, open_umask):
    """A new directory is open to its owner only."""
    private_directory(tmp_path / "var")
    assert mode(tmp_path / "var") == 0o700


def test_open_directory_is_tightened_only_when_asked(tmp_path):
    """An existing open var/ is closed with tighten, and left as it is without."""
    shared, own = tmp_path / "shared", tmp_path / "own"
    shared.mkdir(mode=0o755)
    own.mkdir(mode=0o755)
    private_directory(shared)
    private_directory(own, tighten=True)
    assert (mode(shared), mode(own)) == (0o755, 0o700)


def start_django(var_dir: Path) -> subprocess.CompletedProcess:
    """``manage.py check`` in development with its default SQLite database under var_dir."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("DJANGO_") and k != "DATABASE_URL"
    }
    env["NEWSROOM_VAR_DIR"] = str(var_dir)
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        umask=0o022,
    )


def test_development_start_creates_private_var_database_and_secret(tmp_path):
    """A first start makes var/ 0700, the SQLite database and the secret key 0600."""
    var_dir = tmp_path / "var"
    result = start_django(var_dir)
    assert result.returncode == 0, result.stderr
    assert mode(var_dir) == 0o700
    assert mode(var_dir / "db.sqlite3") == 0o600
    assert mode(var_dir / "secret_key") == 0o600
    assert len((var_dir / "secret_key").read_text()) > 50


def test_database_keeps_its_mode_once_django_writes_it(tmp_path):
    """After migrate has written tables (and journals), the database is still 0600."""
    var_dir = tmp_path / "var"
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("DJANGO_") and k != "DATABASE_URL"
    }
    env["NEWSROOM_VAR_DIR"] = str(var_dir)
    result = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        umask=0o022,
    )
    assert result.returncode == 0, result.stderr
    assert (var_dir / "db.sqlite3").stat().st_size > 0
    modes = {path.name: mode(path) for path in var_dir.iterdir() if path.is_file()}
    assert {"db.sqlite3", "secret_key"} <= modes.keys()
    assert set(modes.values()) == {0o600}


@pytest.mark.django_db
def test_ensure_admin_prints_the_password_only_when_it_creates_the_account(
    settings, tmp_path, capsys, open_umask, no_chmod
):
    """The first run prints the password; later runs say where it is kept, not what it is."""
    settings.VAR_DIR = tmp_path / "var"
    call_command("ensure_admin", "--port", "8123")
    first = capsys.readouterr().out
    call_command("ensure_admin", "--port", "8123")
    second = capsys.readouterr().out
    password_file = settings.VAR_DIR / "admin-password.txt"
    password = password_file.read_text().strip()
    assert password in first
    assert password not in second
    assert f"its password is kept in {password_file}" in second
    assert (mode(settings.VAR_DIR), mode(password_file)) == (0o700, 0o600)


@pytest.mark.django_db
def test_ensure_admin_replaces_a_readable_password_file_left_behind(settings, tmp_path, open_umask):
    """A password file left from an earlier database is replaced by a private one."""
    settings.VAR_DIR = tmp_path
    stale = tmp_path / "admin-password.txt"
    stale.write_text("old password\n")
    assert mode(stale) == 0o644
    call_command("ensure_admin", verbosity=0)
    assert mode(stale) == 0o600
    assert stale.read_text() != "old password\n"
