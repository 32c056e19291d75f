"""``manage.py export_feedback --kind ratings|daily|summary [...]``: reader feedback as CSV."""

import codecs
import os
import tempfile
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from feedback.export import KINDS, count_rows
from feedback.export_audit import audited_export, export_filters
from feedback.forms import ExportForm

# Parts a large ratings export on PostgreSQL runs at once, each on a database connection of
# its own, unless --jobs says otherwise; as with pg_dump --jobs, more parts than the database
# server has cores gain nothing.
DEFAULT_JOBS = 2
MAX_JOBS = 16

# The command-line option behind each of ExportForm's fields, to name it in an error.
OPTIONS = {
    "kind": "--kind",
    "bom": "--bom",
    "since": "--since",
    "until": "--until",
    "explainers": "--explainer",
    "topic": "--topic",
}


class Command(BaseCommand):
    help = (
        "Export reader feedback as CSV: every vote (ratings), votes per explainer per UTC day "
        "(daily) or per explainer (summary). Writes to standard output unless -o is given; "
        "a file is only replaced once the export has succeeded."
    )
    # A read-only export, often run from cron: the system checks (admin, URLs, models) are
    # for commands that serve or change the site, and would cost a tenth of a second a run.
    requires_system_checks = []

    def add_arguments(self, parser):
        # Values are checked by ExportForm, as on the admin's export page; argparse only
        # reads them.
        parser.add_argument(
            "--kind", required=True, metavar="{" + ",".join(KINDS) + "}", help="What one row is."
        )
        parser.add_argument(
            "--since", metavar="DATE", help="First UTC day included, YYYY-MM-DD (inclusive)."
        )
        parser.add_argument(
            "--until", metavar="DATE", help="Last UTC day included, YYYY-MM-DD (inclusive)."
        )
        parser.add_argument(
            "--explainer",
            dest="explainers",
            metavar="SLUG",
            nargs="+",
            action="extend",
            default=[],
            help="Only these explainers, by slug; repeat the option or list several.",
        )
        parser.add_argument("--topic", metavar="SLUG", help="Only explainers of this topic.")
        parser.add_argument(
            "--bom", action="store_true", help="Start with a UTF-8 byte-order mark, for Excel."
        )
        parser.add_argument(
            "-o", "--output", metavar="FILE", help="Write to FILE instead of standard output."
        )
        parser.add_argument(
            "-j",
            "--jobs",
            metavar="N",
            default=str(DEFAULT_JOBS),
            help=(
                "PostgreSQL: copy a large ratings export in N parts at once, on N database "
                f"connections (default {DEFAULT_JOBS}; 1 for a single connection)."
            ),
        )

    def handle(self, *args, kind, since, until, explainers, topic, bom, output, jobs, **options):
        jobs = parse_jobs(jobs)
        form = ExportForm(
            {
                "kind": kind,
                "bom": bom,
                "since": since,
                "until": until,
                "explainers": explainers,
                "topic": topic,
            }
        )
        if not form.is_valid():
            raise CommandError(errors_by_option(form))
        export_options = form.cleaned_data["options"]

        progress = None
        if self.stderr.isatty():
            total = count_rows(kind=kind, options=export_options)
            progress = ProgressLine(self.stderr, total)
        chunks = audited_export(
            kind=kind,
            filters=export_filters(form.cleaned_data),
            options=export_options,
            bom=bom,
            progress=progress,
            via=f"export_feedback command to {output or 'standard output'}",
            jobs=jobs,
        )
        try:
            if output:
                _write_file(Path(output), chunks)
            else:
                self._write_stdout(chunks)
        except DatabaseError as error:
            # Not the user's input: the database went away or refused. Say so in one line.
            left = f" {output} was left as it was." if output else ""
            raise CommandError(f"The export failed: {str(error).strip()}.{left}") from None
        finally:
            chunks.close()
            if progress is not None:
                progress.end()

    def _write_stdout(self, chunks):
        binary = getattr(self.stdout, "buffer", None)
        if binary is None:
            # A text stream (call_command(stdout=StringIO())): decode, never splitting a
            # character that straddles two chunks.
            decoder = codecs.getincrementaldecoder("utf-8")()
            for chunk in chunks:
                self.stdout.write(decoder.decode(chunk), ending="")
            self.stdout.write(decoder.decode(b"", final=True), ending="")
            return
        try:
            for chunk in chunks:
                binary.write(chunk)
            binary.flush()
        except BrokenPipeError:
            # The reader went away (`| head`). Point the descriptor at /dev/null so that the
            # interpreter's final flush does not fail again, and say why the export stopped.
            os.dup2(os.open(os.devnull, os.O_WRONLY), binary.fileno())
            raise CommandError("Standard output was closed before the export finished.") from None


def parse_jobs(value: str) -> int:
    """``--jobs``'s value as a number from 1 to MAX_JOBS, or a CommandError saying why not."""
    # Digits only: int() would also take " 3" and "1_0".
    jobs = int(value) if value.isascii() and value.isdigit() else 0
    if not 1 <= jobs <= MAX_JOBS:
        raise CommandError(f"--jobs: give a whole number from 1 to {MAX_JOBS}, not {value!r}.")
    return jobs


def errors_by_option(form: ExportForm) -> str:
    """The form's messages on one line, each after the option it is about."""
    return " ".join(
        f"{OPTIONS[field]}: {message}" if field in OPTIONS else message
        for field, messages in form.errors.items()
        for message in messages
    )


def _write_file(path: Path, chunks) -> None:
    """Write ``chunks`` to a temporary file next to ``path`` and rename it only on success.

    Whatever goes wrong (a database error, a full disk, Ctrl-C), ``path`` is either untouched
    or complete, and no temporary file is left behind.
    """
    if path.is_dir():
        raise CommandError(f"{path} is a folder; give a file name to -o.")
    try:
        descriptor, name = tempfile.mkstemp(
            dir=path.parent, prefix=f".{path.name}.", suffix=".part"
        )
    except OSError as error:
        raise CommandError(f"Cannot write to {path.parent}: {error.strerror}.") from None
    temporary = Path(name)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            for chunk in chunks:
                handle.write(chunk)
        # mkstemp's file is private (0600); give the result the usual umask-based mode.
        umask = os.umask(0)
        os.umask(umask)
        temporary.chmod(0o666 & ~umask)
        os.replace(temporary, path)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise CommandError(f"Cannot write {path}: {error.strerror or error}.") from None
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


class ProgressLine:
    """``12,000 / 1,000,000 rows (1%)`` on one line of a terminal, rewritten in place.

    Redrawn at most ten times a second: an export reports progress per 64 KiB chunk.
    """

    INTERVAL = 0.1

    def __init__(self, stream, total: int):
        self.stream = stream
        self.total = total
        self.written = 0
        self.shown_at = 0.0
        self.show()

    def __call__(self, written: int) -> None:
        self.written = written
        if time.monotonic() - self.shown_at >= self.INTERVAL:
            self.show()

    def show(self) -> None:
        percent = min(100, 100 * self.written // self.total) if self.total else 100
        # str as the style: plain text, not stderr's default error colour.
        self.stream.write(
            f"\r{self.written:,} / {self.total:,} rows ({percent}%)", style_func=str, ending=""
        )
        self.stream.flush()
        self.shown_at = time.monotonic()

    def end(self) -> None:
        """Show the final count and move to a new line."""
        self.show()
        self.stream.write("", style_func=str)
