import subprocess
import sys
from datetime import UTC, datetime
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError

from feedback import export_audit
from feedback.export import BOM
from tests.factories import ExplainerFactory
from tests.feedback.factories import RatingFactory

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
NOON = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def run(*args: str) -> tuple[str, str]:
    """Run the command, returning what it wrote to stdout and stderr."""
    stdout, stderr = StringIO(), StringIO()
    call_command("export_feedback", *args, stdout=stdout, stderr=stderr)
    return stdout.getvalue(), stderr.getvalue()


def run_failing(*args: str) -> str:
    """Run the command expecting it to fail, returning the error's message."""
    with pytest.raises(CommandError) as raised:
        call_command("export_feedback", *args, stdout=StringIO(), stderr=StringIO())
    return str(raised.value)


def test_writes_ratings_to_stdout():
    """By default the CSV goes to standard output, header first."""
    rating = RatingFactory(explainer=ExplainerFactory(published=True, slug="talks"))
    stdout, _ = run("--kind", "ratings")
    header, row = stdout.splitlines()
    assert header.startswith("id,created_at,")
    assert row.startswith(f"{rating.pk},")
    assert ',"talks",' in row


def test_nothing_on_stderr_when_not_a_terminal():
    """No progress bar is drawn when stderr is not a terminal."""
    RatingFactory()
    _, stderr = run("--kind", "ratings")
    assert stderr == ""


class Terminal(StringIO):
    def isatty(self):
        return True


def test_progress_bar_on_terminal():
    """On a terminal, stderr shows rows written out of the total, ending with a newline."""
    RatingFactory.create_batch(3)
    stderr = Terminal()
    call_command("export_feedback", "--kind", "ratings", stdout=StringIO(), stderr=stderr)
    assert stderr.getvalue().startswith("\r0 / 3 rows (0%)\r")
    assert stderr.getvalue().endswith("\r3 / 3 rows (100%)\n")


def test_writes_to_file(tmp_path):
    """-o writes the CSV to the file and nothing to stdout."""
    RatingFactory(created_at=NOON)
    target = tmp_path / "out.csv"
    stdout, _ = run("--kind", "daily", "-o", str(target))
    assert stdout == ""
    assert target.read_bytes().splitlines()[1].startswith(b'"2026-11-20",')
    assert [path.name for path in tmp_path.iterdir()] == ["out.csv"]


def fail_midway(monkeypatch, tmp_path, error: Exception) -> Path:
    """Make the export raise ``error`` after its first chunk; the file it is to replace."""
    RatingFactory()
    target = tmp_path / "out.csv"
    target.write_text("previous export")

    def failing_export(**kwargs):
        yield b"id,created_at\n"
        raise error

    monkeypatch.setattr(export_audit, "export_csv", failing_export)
    return target


def assert_left_alone(target: Path) -> None:
    assert target.read_text() == "previous export"
    assert [path.name for path in target.parent.iterdir()] == ["out.csv"]


def test_file_replaced_only_when_complete(tmp_path, monkeypatch):
    """An export that fails midway leaves an existing file untouched and no temporary file."""
    target = fail_midway(monkeypatch, tmp_path, RuntimeError("a bug"))
    with pytest.raises(RuntimeError):
        run("--kind", "ratings", "-o", str(target))
    assert_left_alone(target)


def test_a_database_failure_is_reported_without_a_traceback(tmp_path, monkeypatch):
    """A database error mid-export is a one-line error, and the file is left as it was."""
    error = DatabaseError("terminating connection due to administrator command")
    target = fail_midway(monkeypatch, tmp_path, error)
    message = run_failing("--kind", "ratings", "-o", str(target))
    assert message == (
        "The export failed: terminating connection due to administrator command. "
        f"{target} was left as it was."
    )
    assert_left_alone(target)


def test_bom_option(tmp_path):
    """--bom starts the file with a UTF-8 byte-order mark."""
    target = tmp_path / "out.csv"
    run("--kind", "summary", "--bom", "-o", str(target))
    assert target.read_bytes().startswith(BOM + b"explainer_id,")


def test_filters_are_applied():
    """--since, --until, --explainer and --topic narrow the export."""
    ExplainerFactory(published=True, slug="other")
    wanted = ExplainerFactory(published=True, slug="wanted")
    rating = RatingFactory(explainer=wanted, created_at=NOON)
    RatingFactory(explainer=wanted, created_at=datetime(2026, 11, 21, tzinfo=UTC))
    stdout, _ = run(
        "--kind",
        "ratings",
        "--since",
        "2026-11-20",
        "--until",
        "2026-11-20",
        "--explainer",
        "wanted",
        "other",
    )
    assert [line.split(",")[0] for line in stdout.splitlines()[1:]] == [str(rating.pk)]


def test_reversed_range_fails_without_file(tmp_path):
    """until before since fails with a message and creates no file."""
    target = tmp_path / "out.csv"
    message = run_failing(
        "--kind", "ratings", "--since", "2026-11-20", "--until", "2026-11-01", "-o", str(target)
    )
    assert message == "--until: The end date (2026-11-01) is before the start date (2026-11-20)."
    assert list(tmp_path.iterdir()) == []


def test_bad_date_fails():
    """A date not written YYYY-MM-DD fails naming the option and the format."""
    assert run_failing("--kind", "ratings", "--since", "yesterday") == (
        "--since: Enter a valid date, written YYYY-MM-DD (e.g. 2026-11-26)."
    )


def test_date_in_another_format_fails():
    """Only YYYY-MM-DD is read, so that 11/01/2026 cannot be taken for the wrong day."""
    assert run_failing("--kind", "ratings", "--until", "11/01/2026").startswith(
        "--until: Enter a valid date"
    )


def test_unknown_explainer_fails():
    """An unknown explainer slug fails naming the slug."""
    assert run_failing("--kind", "ratings", "--explainer", "nope") == (
        "--explainer: No explainer has the slug 'nope'."
    )


def test_unknown_explainers_are_named_together():
    """Several unknown slugs are named in one message, in the order given."""
    ExplainerFactory(slug="known")
    assert run_failing("--kind", "ratings", "--explainer", "gone", "known", "missing") == (
        "--explainer: No explainers have the slugs 'gone', 'missing'."
    )


def test_unknown_topic_fails():
    """An unknown topic slug fails naming the slug."""
    assert run_failing("--kind", "daily", "--topic", "nope") == (
        "--topic: No topic has the slug 'nope'."
    )


def test_unknown_kind_fails():
    """A kind other than ratings, daily or summary fails naming the option and the value."""
    assert run_failing("--kind", "all") == (
        "--kind: Select a valid choice. all is not one of the available choices."
    )


def test_every_bad_option_is_reported_at_once():
    """Several bad options are all named in one error, in the order of the export form."""
    assert run_failing("--kind", "all", "--since", "soon", "--topic", "nope") == (
        "--kind: Select a valid choice. all is not one of the available choices. "
        "--since: Enter a valid date, written YYYY-MM-DD (e.g. 2026-11-26). "
        "--topic: No topic has the slug 'nope'."
    )


def test_missing_kind_fails():
    """--kind is required."""
    assert "--kind" in run_failing()


def test_output_in_missing_folder_fails(tmp_path):
    """-o into a folder that does not exist fails with a message."""
    message = run_failing("--kind", "ratings", "-o", str(tmp_path / "missing" / "out.csv"))
    assert message.startswith("Cannot write to ")


def test_output_to_a_folder_fails(tmp_path):
    """-o naming a folder fails with a message and leaves the folder alone."""
    message = run_failing("--kind", "ratings", "-o", str(tmp_path))
    assert message == f"{tmp_path} is a folder; give a file name to -o."
    assert list(tmp_path.iterdir()) == []


def test_command_line_bad_option_exits_non_zero(tmp_path):
    """From a shell, a bad option exits non-zero with the message on stderr, no traceback."""
    target = tmp_path / "out.csv"
    result = subprocess.run(
        [sys.executable, "manage.py", "export_feedback", "--kind", "ratings"]
        + ["--since", "2026-13-01", "-o", str(target)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"NEWSROOM_VAR_DIR": str(tmp_path / "var"), "PATH": "/usr/bin:/bin"},
        timeout=60,
    )
    assert result.returncode == 1
    assert "CommandError: --since: Enter a valid date, written YYYY-MM-DD" in result.stderr
    assert "Traceback" not in result.stderr
    assert not target.exists()
