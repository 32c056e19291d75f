import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parents[2]


def manage(*args, env_overrides, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update({"NEWSROOM_VAR_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path}/db"})
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


PRODUCTION = {
    "DJANGO_ENV": "production",
    "DJANGO_SECRET_KEY": "x" * 30 + "-a-long-random-production-key-" + "y" * 20,
    "DJANGO_ALLOWED_HOSTS": "news.example.com",
    "NEWSROOM_SITE_URL": "https://news.example.com",
}
SITE_URL = "from django.conf import settings; print(settings.SITE_URL)"


def test_production_refuses_to_start_without_secret_and_hosts(tmp_path):
    """Production names the missing variables and stops, without a traceback."""
    result = manage("check", env_overrides={"DJANGO_ENV": "production"}, tmp_path=tmp_path)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY, DJANGO_ALLOWED_HOSTS, NEWSROOM_SITE_URL" in result.stderr


def test_production_refuses_to_start_without_the_site_url(tmp_path):
    """Production stops without NEWSROOM_SITE_URL rather than link to the request's Host."""
    env = {k: v for k, v in PRODUCTION.items() if k != "NEWSROOM_SITE_URL"}
    result = manage("check", env_overrides=env, tmp_path=tmp_path)
    assert result.returncode != 0
    assert "needs these environment variables: NEWSROOM_SITE_URL" in result.stderr


@pytest.mark.parametrize(
    "value",
    ["news.example.com", "https://news.example.com/news", "https://x.example:99999", "ftp://x"],
)
def test_a_malformed_site_url_is_a_clear_error(tmp_path, value):
    """A site URL that is not scheme, host and port is refused, naming the variable."""
    result = manage(
        "check", env_overrides={**PRODUCTION, "NEWSROOM_SITE_URL": value}, tmp_path=tmp_path
    )
    assert result.returncode != 0
    assert "NEWSROOM_SITE_URL must be the address readers use" in result.stderr


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, "http://127.0.0.1:8000"),
        ("http://127.0.0.1:8080/", "http://127.0.0.1:8080"),
        ("https://news.example.com", "https://news.example.com"),
    ],
)
def test_development_site_url_defaults_to_make_runs_address(tmp_path, value, expected):
    """Development links to 127.0.0.1:8000 unless NEWSROOM_SITE_URL says otherwise."""
    env = {} if value is None else {"NEWSROOM_SITE_URL": value}
    result = manage("shell", "-c", SITE_URL, env_overrides=env, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == expected


def test_make_run_links_to_the_port_it_serves_on():
    """`make run PORT=8080` serves with NEWSROOM_SITE_URL at port 8080."""
    # Under `make test` this is a make inside make: it must not print "Entering directory".
    outer = {"NEWSROOM_SITE_URL", "MAKEFLAGS", "MAKELEVEL", "MFLAGS"}
    result = subprocess.run(
        ["make", "--no-print-directory", "-n", "run", "PORT=8080"],
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if k not in outer},
        capture_output=True,
        text=True,
        timeout=60,
    )
    serve = result.stdout.strip().splitlines()[-1]
    assert "runserver 127.0.0.1:8080" in serve
    assert "NEWSROOM_SITE_URL=${NEWSROOM_SITE_URL:-http://127.0.0.1:8080}" in serve


def test_production_passes_the_deploy_checklist(tmp_path):
    """With its required variables and Redis, production has no `check --deploy` warnings."""
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        # As docs/operations.md's set-up: Redis shares the rate limits (checking connects to none).
        env_overrides={**PRODUCTION, "NEWSROOM_CACHE_URL": "redis://127.0.0.1:6379/0"},
        tmp_path=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_development_keeps_a_generated_secret(tmp_path):
    """With no environment, development generates a secret once and reuses it."""
    code = "from django.conf import settings; print(settings.SECRET_KEY)"
    first = manage("shell", "-c", code, env_overrides={}, tmp_path=tmp_path)
    second = manage("shell", "-c", code, env_overrides={}, tmp_path=tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == second.stdout.strip() != ""
    assert (tmp_path / "secret_key").exists()


def test_unknown_environment_is_a_clear_error(tmp_path):
    """A misspelt DJANGO_ENV is refused with the allowed values."""
    result = manage("check", env_overrides={"DJANGO_ENV": "prod"}, tmp_path=tmp_path)
    assert result.returncode != 0
    assert "DJANGO_ENV must be 'development' or 'production'" in result.stderr


@pytest.mark.django_db
def test_ensure_admin_creates_one_account_and_explains_login(settings, tmp_path, capsys):
    """ensure_admin makes the admin once and prints where to log in with which password."""
    from django.contrib.auth import get_user_model

    settings.VAR_DIR = tmp_path
    call_command("ensure_admin", "--port", "8123")
    call_command("ensure_admin", "--port", "8123")
    out = capsys.readouterr().out
    password = (tmp_path / "admin-password.txt").read_text().strip()
    assert get_user_model().objects.filter(username="admin", is_superuser=True).count() == 1
    assert "http://127.0.0.1:8123/admin/" in out and password in out
    assert get_user_model().objects.get(username="admin").check_password(password)


@pytest.mark.parametrize(("value", "expected"), [(None, "False"), ("true", "True")])
def test_connection_health_checks_are_off_unless_asked_for(tmp_path, value, expected):
    """DJANGO_CONN_HEALTH_CHECKS turns on Django's check of reused connections."""
    code = "from django.db import connection; print(connection.settings_dict['CONN_HEALTH_CHECKS'])"
    env = {} if value is None else {"DJANGO_CONN_HEALTH_CHECKS": value}
    result = manage("shell", "-c", code, env_overrides=env, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == expected


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"FEEDBACK_CLIENT_IP_HEADER": "X-Forwarded-For", "FEEDBACK_PROXY_COUNT": "0"},
            "FEEDBACK_PROXY_COUNT must be 1 or more",
        ),
        ({"FEEDBACK_PROXY_COUNT": "2"}, "FEEDBACK_PROXY_COUNT needs FEEDBACK_CLIENT_IP_HEADER"),
        ({"FEEDBACK_CLIENT_IP_HEADER": "X-Forwarded-For: 1"}, "must be a header name"),
    ],
)
def test_proxy_settings_that_cannot_work_stop_start_up(tmp_path, overrides, message):
    """A proxy count of 0, a count without a header or a malformed header name is refused."""
    result = manage("check", env_overrides=overrides, tmp_path=tmp_path)
    assert result.returncode != 0
    assert message in result.stderr


def test_production_without_redis_warns_that_limits_are_per_process(tmp_path):
    """`check` in production with per-process counters names feedback.W001 and Redis."""
    result = manage(
        "check",
        env_overrides={**PRODUCTION, "NEWSROOM_CACHE_URL": "locmem://"},
        tmp_path=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "feedback.W001" in result.stderr and "NEWSROOM_CACHE_URL=redis://" in result.stderr


@pytest.mark.parametrize(
    "value, expected",
    [(None, "True 1"), ("true", "True 1"), ("false", "False None")],
)
def test_postgresql_statements_are_prepared_unless_switched_off(tmp_path, value, expected):
    """Server-side binding brings prepared statements (planned once); off for pgbouncer."""
    env = {"DATABASE_URL": "postgres://nobody@127.0.0.1:1/none"}
    if value is not None:
        env["DJANGO_DB_SERVER_SIDE_BINDING"] = value
    code = (
        "from django.conf import settings; o = settings.DATABASES['default']['OPTIONS']; "
        "print(o['server_side_binding'], o['prepare_threshold'])"
    )
    result = manage("shell", "-c", code, env_overrides=env, tmp_path=tmp_path)
    assert result.stdout.strip().splitlines()[-1] == expected, result.stderr
