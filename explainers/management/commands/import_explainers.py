"""``manage.py import_explainers [--publish] PATH...``: import explainers from text files."""

from collections import Counter
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError

from explainers import workflow
from explainers.importer import (
    MAX_FILE_BYTES,
    Outcome,
    ParsedExplainer,
    ParseError,
    changed_since_import,
    import_parsed,
    parse_bytes,
)
from explainers.models import Explainer

# The order actions are counted in the summary line.
ACTIONS = ("created", "published", "unchanged")


class Command(BaseCommand):
    help = (
        "Import explainers from plain-text files, or from every *.txt file under a folder. "
        "All files are checked first: if any has a problem, nothing is imported. A file "
        "imported before is left alone, so running the command twice is harmless."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "paths", nargs="+", metavar="PATH", help="A text file, or a folder searched for *.txt."
        )
        parser.add_argument(
            "--publish",
            action="store_true",
            help="Publish the imported explainers, including drafts imported earlier.",
        )
        parser.add_argument(
            "--reviewed-by",
            metavar="USERNAME",
            help="With --publish: the editor who reviewed AI-generated texts and signs them off. "
            "Required when any file is AI generated.",
        )

    def handle(self, *args, paths, publish, reviewed_by, verbosity, **options):
        reviewer = _reviewer(reviewed_by) if reviewed_by else None
        files, errors = _collect(paths)
        documents, parse_errors = _parse(files)
        self._refuse_problems(errors + parse_errors)
        # A file the explainer needs a headline for is imported (as a draft to finish), but
        # the editor is told which, and where it goes.
        for path, document in documents:
            if document.headline_problem is not None:
                self.stderr.write(f"{path}: {document.headline_problem}")
        if publish:
            self._check_publishable(documents, reviewer)
        try:
            outcomes = import_parsed(
                documents=[document for _, document in documents],
                publish=publish,
                reviewed_by=reviewer,
            )
        except (ValidationError, PermissionDenied) as error:
            messages = error.messages if isinstance(error, ValidationError) else [str(error)]
            raise CommandError(" ".join(messages) + " Nothing was imported.") from None
        if verbosity >= 1:
            self._report(documents, outcomes)

    def _refuse_problems(self, errors: list[tuple[Path, str]]) -> None:
        """List every problem, then refuse the whole run if there was any."""
        if not errors:
            return
        for path, message in errors:
            self.stderr.write(f"{path}: {message}")
        bad = len({path for path, _ in errors})
        raise CommandError(f"{bad} {_plural(bad, 'path')} with problems; nothing was imported.")

    def _check_publishable(self, documents: list[tuple[Path, ParsedExplainer]], reviewer) -> None:
        """Refuse the run unless every explainer it would publish may be published now."""
        headless = [
            path
            for path, document in documents
            if document.headline_problem is not None and _would_publish(document)
        ]
        if headless:
            raise CommandError(
                f"{len(headless)} {_plural(len(headless), 'file')} without a headline cannot "
                "be published: add one, or import without --publish and write it in the "
                "admin. Nothing was imported."
            )
        edited = [path for path, document in documents if _edited_draft(document)]
        if edited:
            for path in edited:
                self.stderr.write(
                    f"{path}: the explainer imported from this file was changed in the "
                    "admin since, so the file no longer shows what would be published; "
                    "review and publish it there."
                )
            raise CommandError(
                f"{len(edited)} {_plural(len(edited), 'file')} refused; nothing was imported."
            )
        if reviewer is not None:
            return
        unreviewed = [path for path, document in documents if _needs_sign_off(document)]
        if unreviewed:
            for path in unreviewed:
                self.stderr.write(f"{path}: AI-generated; publishing it needs a sign-off.")
            raise CommandError(
                "AI-generated text is published only after an editor's review: add "
                "--reviewed-by USERNAME naming that editor, or import without --publish."
            )

    def _report(
        self, documents: list[tuple[Path, ParsedExplainer]], outcomes: list[Outcome]
    ) -> None:
        """One line per file saying what became of it, then the totals."""
        for (path, _), outcome in zip(documents, outcomes, strict=True):
            explainer = outcome.explainer
            if outcome.action == "created":
                note = f" ({explainer.get_status_display().lower()})"
            elif outcome.action == "unchanged":
                note = " (already imported)"
            else:
                note = ""
            self.stdout.write(f"{outcome.action:<9} {path} -> {explainer.get_absolute_url()}{note}")
        counts = Counter(outcome.action for outcome in outcomes)
        summary = ", ".join(f"{counts[action]} {action}" for action in ACTIONS if counts[action])
        self.stdout.write(f"{len(outcomes)} {_plural(len(outcomes), 'file')}: {summary}")


def _parse(
    files: list[Path],
) -> tuple[list[tuple[Path, ParsedExplainer]], list[tuple[Path, str]]]:
    """Each file read and parsed; and every problem found, with the file it is in."""
    documents: list[tuple[Path, ParsedExplainer]] = []
    errors: list[tuple[Path, str]] = []
    for path in files:
        try:
            # One byte past the limit is enough for the parser to refuse an oversized
            # file without reading all of it into memory.
            with path.open("rb") as handle:
                data = handle.read(MAX_FILE_BYTES + 1)
            documents.append((path, parse_bytes(data)))
        except OSError as error:
            errors.append((path, f"cannot be read ({error.strerror or error})."))
        except ParseError as error:
            errors.extend((path, str(problem)) for problem in error.problems)
    return documents, errors


def _collect(names: list[str]) -> tuple[list[Path], list[tuple[Path, str]]]:
    """The files named, and found under the folders named, each once; and the bad paths."""
    files: dict[Path, Path] = {}
    errors: list[tuple[Path, str]] = []
    for name in names:
        path = Path(name)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*.txt") if p.is_file())
            if not found:
                errors.append((path, "the folder holds no .txt files."))
            for file in found:
                files.setdefault(file.resolve(), file)
        elif path.is_file():
            files.setdefault(path.resolve(), path)
        else:
            errors.append((path, "no such file or folder."))
    return list(files.values()), errors


def _reviewer(username: str):
    """The named editor, who must be allowed to sign off AI text and publish."""
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None:
        raise CommandError(f"--reviewed-by: there is no active user {username!r}.")
    if not (workflow.may(user, "sign_off") and workflow.may(user, "publish")):
        raise CommandError(
            f"--reviewed-by: {username!r} is not an editor (may not sign off AI text and publish)."
        )
    return user


def _edited_draft(document: ParsedExplainer) -> bool:
    """A draft this run would publish, but that was edited since it came from the file."""
    existing = Explainer.objects.filter(import_digest=document.digest).first()
    return (
        existing is not None
        and existing.status == Explainer.Status.DRAFT
        and changed_since_import(existing)
    )


def _would_publish(document: ParsedExplainer) -> bool:
    """With --publish, this run publishes the document: it is new, or a draft imported earlier."""
    existing = Explainer.objects.filter(import_digest=document.digest).first()
    return existing is None or existing.status == Explainer.Status.DRAFT


def _needs_sign_off(document: ParsedExplainer) -> bool:
    """AI text that this run would publish."""
    return document.ai_generated and _would_publish(document)


def _plural(count: int, word: str) -> str:
    return word if count == 1 else f"{word}s"
