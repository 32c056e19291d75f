"""Helpers shared by the ratings export's tests."""

from io import StringIO

from django.core.management import call_command

from feedback import export, parallel_copy
from feedback.export import export_csv
from feedback.models import Rating
from tests.factories import ExplainerFactory


def bulk_ratings(count: int, comment: str = "A comment long enough to fill chunks. " * 5) -> None:
    """``count`` ratings of one explainer, inserted at once, each with ``comment``."""
    explainer = ExplainerFactory(published=True)
    Rating.objects.bulk_create(
        Rating(
            explainer=explainer,
            reader=f"{n:064x}",
            useful=bool(n % 3),
            comment=comment,
            explainer_version=1,
        )
        for n in range(count)
    )


def spy_on_parts(monkeypatch) -> list[list[str]]:
    """Record the statements of every parallel copy."""
    calls = []
    real = parallel_copy.copy_in_parts

    def recording(statements, **kwargs):
        calls.append(list(statements))
        return real(statements, **kwargs)

    monkeypatch.setattr(parallel_copy, "copy_in_parts", recording)
    return calls


def body(**kwargs) -> bytes:
    return b"".join(export_csv(kind="ratings", **kwargs))


def python_body(monkeypatch, **kwargs) -> bytes:
    """The export written by the Python path (SQLite's), whatever the database."""
    with monkeypatch.context() as patched:
        patched.setattr(export, "_use_copy", lambda: False)
        return body(**kwargs)


def run_command(*args: str) -> None:
    call_command(
        "export_feedback", "--kind", "ratings", *args, stdout=StringIO(), stderr=StringIO()
    )
