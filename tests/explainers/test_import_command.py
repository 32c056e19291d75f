from io import StringIO
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from explainers import services
from explainers.models import HEADLINE_PLACEHOLDER, Explainer
from tests.explainers.test_importer import SEED
from tests.factories import editor, writer

pytestmark = pytest.mark.django_db

SEED_SLUG = (
    "ahead-of-a-meeting-at-the-white-house-us-special-envoy-steve-witkoff-announced-that-president"
)

DOCUMENT = """\
Envoy announces talks
What's Happening?
Leaders met in Washington.
Why It's Important?
The talks could shape the region's security.
What's Next?
A further meeting is expected next week.
"""


def run(*args: str) -> tuple[str, str]:
    """Run the command, returning what it wrote to stdout and stderr."""
    stdout, stderr = StringIO(), StringIO()
    call_command("import_explainers", *args, stdout=stdout, stderr=stderr)
    return stdout.getvalue(), stderr.getvalue()


def run_failing(*args: str) -> str:
    """Run the command expecting it to fail, returning what it wrote to stderr."""
    stderr = StringIO()
    with pytest.raises(CommandError):
        call_command("import_explainers", *args, stdout=StringIO(), stderr=stderr)
    return stderr.getvalue()


HEADLINE = "Trump and Putin agree to discuss ‘robust security guarantees’ for Ukraine"
NEEDS_HEADLINE = (
    "line 2: No headline: the first sentence of What's Happening? is 190 characters, too long "
    "for one (110 at most), so the explainer needs a headline before it can be published. "
    "Write it on a line of its own above this heading, or in the admin."
)


@pytest.fixture
def seed(tmp_path: Path) -> Path:
    """The issue's example file: no headline line, and a first sentence too long to be one."""
    path = tmp_path / "seed.txt"
    path.write_text(SEED, encoding="utf-8")
    return path


@pytest.fixture
def headed(tmp_path: Path) -> Path:
    """The same text with its headline, as the demo file has it."""
    path = tmp_path / "headed.txt"
    lead_in, rest = SEED.split("\n", 1)
    path.write_text(f"{lead_in}\n{HEADLINE}\n{rest}", encoding="utf-8")
    return path


def test_creates_draft(headed):
    """A new file becomes a draft explainer with the text of the file."""
    run(str(headed))
    explainer = Explainer.objects.get()
    assert explainer.status == Explainer.Status.DRAFT
    assert explainer.ai_generated
    assert explainer.headline == HEADLINE
    assert explainer.import_digest


def test_file_without_headline_is_a_draft_needing_one(seed):
    """No headline and no whole first sentence to use: a draft with the placeholder, and a
    warning naming the file and line."""
    stdout, stderr = run(str(seed))
    explainer = Explainer.objects.get()
    assert explainer.headline == HEADLINE_PLACEHOLDER
    assert "…" not in explainer.headline
    assert stderr.splitlines() == [f"{seed}: {NEEDS_HEADLINE}"]
    assert stdout.startswith("created ")


def test_draft_needing_a_headline_cannot_be_published(seed):
    """The imported draft's publication is refused until an editor writes a headline."""
    run(str(seed))
    explainer = Explainer.objects.get()
    boss = editor()
    services.explainer_sign_off(explainer=explainer, user=boss)
    with pytest.raises(ValidationError, match="no headline yet"):
        services.explainer_publish(explainer=explainer, user=boss)
    assert not Explainer.objects.get().is_public


def test_publish_option_refuses_a_file_without_headline(seed, headed):
    """--publish of a file without a usable headline imports nothing and says which file."""
    with pytest.raises(CommandError, match="1 file without a headline cannot be published"):
        run("--publish", "--reviewed-by", editor().username, str(seed), str(headed))
    assert not Explainer.objects.exists()


def test_reports_created_draft_with_public_path(seed):
    """The outcome line names the file, the explainer's address and its draft state."""
    stdout, _ = run(str(seed))
    slug = Explainer.objects.get().slug
    assert stdout.splitlines()[0] == f"created   {seed} -> /explainers/{slug}/ (draft)"


def test_slug_comes_from_headline(seed):
    """The slug is made from the derived headline, cut between words."""
    run(str(seed))
    assert Explainer.objects.get().slug == SEED_SLUG


def test_publish_option_publishes(headed):
    """With --publish and a reviewing editor, the new AI explainer is public straight away."""
    stdout, _ = run("--publish", "--reviewed-by", editor().username, str(headed))
    explainer = Explainer.objects.get()
    assert explainer.is_public and explainer.reviewed_by.username == "editor"
    assert stdout.splitlines()[0].endswith(f"-> /explainers/{explainer.slug}/ (published)")


def test_running_twice_changes_nothing(seed):
    """Importing the same file again leaves one explainer, not rewritten."""
    run(str(seed))
    before = Explainer.objects.get()
    stdout, _ = run(str(seed))
    after = Explainer.objects.get()
    assert after.updated_at == before.updated_at
    assert stdout.splitlines()[0] == (
        f"unchanged {seed} -> /explainers/{after.slug}/ (already imported)"
    )


def test_publish_publishes_draft_imported_earlier(headed):
    """--publish on a file imported earlier as a draft publishes that draft."""
    run(str(headed))
    stdout, _ = run("--publish", "--reviewed-by", editor().username, str(headed))
    explainer = Explainer.objects.get()
    assert explainer.is_public
    assert stdout.splitlines()[0] == f"published {headed} -> /explainers/{explainer.slug}/"


def test_publishing_ai_text_needs_a_reviewer(headed):
    """--publish of an AI-generated file without --reviewed-by is refused, naming the file."""
    stderr = run_failing("--publish", str(headed))
    assert f"{headed}: AI-generated" in stderr
    assert not Explainer.objects.exists()


def test_reviewer_must_be_an_editor(seed):
    """--reviewed-by naming a writer, or nobody, is refused and imports nothing."""
    for username in (writer().username, "nobody"):
        with pytest.raises(CommandError, match="--reviewed-by"):
            run("--publish", "--reviewed-by", username, str(seed))
    assert not Explainer.objects.exists()


def test_human_text_publishes_without_a_reviewer(tmp_path):
    """A file not marked AI generated needs no sign-off to publish."""
    path = tmp_path / "human.txt"
    path.write_text(DOCUMENT)
    run("--publish", str(path))
    assert Explainer.objects.get().is_public


def test_same_content_in_another_encoding_is_unchanged(seed, tmp_path):
    """A copy saved with CRLF line ends and a BOM is recognised as already imported."""
    copy = tmp_path / "copy.txt"
    copy.write_bytes(b"\xef\xbb\xbf" + seed.read_bytes().replace(b"\n", b"\r\n"))
    run(str(seed))
    stdout, _ = run(str(copy))
    assert stdout.startswith("unchanged ")
    assert Explainer.objects.count() == 1


def test_different_content_gets_new_explainer_with_unique_slug(seed, tmp_path):
    """A file with other text under the same headline is a new explainer with its own slug."""
    edited = tmp_path / "edited.txt"
    edited.write_text(seed.read_text().replace("lengthy process", "long process"))
    run(str(seed))
    run(str(edited))
    slugs = sorted(Explainer.objects.values_list("slug", flat=True))
    assert slugs == [SEED_SLUG, f"{SEED_SLUG}-2"]


def test_summary_counts_outcomes(seed, tmp_path):
    """The last line counts files by outcome."""
    (tmp_path / "other.txt").write_text(DOCUMENT)
    run(str(seed))
    stdout, _ = run(str(tmp_path))
    assert stdout.splitlines()[-1] == "2 files: 1 created, 1 unchanged"


def test_bad_file_in_batch_imports_nothing(seed, tmp_path):
    """One bad file stops the whole batch, good files included."""
    bad = tmp_path / "bad.txt"
    bad.write_text(DOCUMENT + "What's Next?\nAgain.\n")
    run_failing(str(seed), str(bad))
    assert not Explainer.objects.exists()


def test_bad_file_is_listed_with_name_and_line(seed, tmp_path):
    """Each problem is written to stderr with the file's name and the line."""
    bad = tmp_path / "bad.txt"
    bad.write_text(DOCUMENT + "What's Next?\nAgain.\n")
    stderr = run_failing(str(seed), str(bad))
    assert stderr.splitlines() == [f"{bad}: line 8: What's Next? appears twice (first on line 6)."]


def test_every_bad_file_is_listed(tmp_path):
    """All bad files are listed, not only the first."""
    (tmp_path / "a.txt").write_bytes(b"")
    (tmp_path / "b.txt").write_bytes(b"What's Happening?\n\xff\n")
    stderr = run_failing(str(tmp_path))
    assert f"{tmp_path / 'a.txt'}: The file is empty." in stderr
    assert f"{tmp_path / 'b.txt'}: line 2: The file is not UTF-8" in stderr


def test_bad_batch_raises_command_error_naming_the_count(seed, tmp_path):
    """The command fails with a CommandError, which manage.py turns into a non-zero exit."""
    bad = tmp_path / "bad.txt"
    bad.write_text("no headings here\n")
    with pytest.raises(CommandError, match="1 path with problems; nothing was imported"):
        call_command("import_explainers", str(seed), str(bad), stdout=StringIO(), stderr=StringIO())


def test_folder_imports_txt_files_recursively_in_order(seed, tmp_path):
    """A folder imports every .txt file beneath it, sorted, and ignores other files."""
    nested = tmp_path / "more"
    nested.mkdir()
    (nested / "other.txt").write_text(DOCUMENT)
    (tmp_path / "notes.md").write_text("not an explainer")
    stdout, _ = run(str(tmp_path))
    assert Explainer.objects.count() == 2
    names = [line.split()[1] for line in stdout.splitlines()[:-1]]
    assert names == [str(nested / "other.txt"), str(seed)]


def test_file_named_twice_is_imported_once(seed, tmp_path):
    """A file named directly and found in a folder as well is read once."""
    stdout, _ = run(str(seed), str(tmp_path))
    assert stdout.splitlines()[-1] == "1 file: 1 created"


def test_nonexistent_path_is_an_error(seed, tmp_path):
    """A path that does not exist is reported and nothing is imported."""
    missing = tmp_path / "missing.txt"
    stderr = run_failing(str(seed), str(missing))
    assert stderr.splitlines() == [f"{missing}: no such file or folder."]
    assert not Explainer.objects.exists()


def test_folder_without_txt_files_is_an_error(tmp_path):
    """A folder holding no .txt file is reported rather than silently importing nothing."""
    (tmp_path / "notes.md").write_text("not an explainer")
    stderr = run_failing(str(tmp_path))
    assert stderr.splitlines() == [f"{tmp_path}: the folder holds no .txt files."]


def test_oversized_file_is_refused(tmp_path):
    """A file over 1 MiB is refused by name."""
    big = tmp_path / "big.txt"
    big.write_text(DOCUMENT + "x" * (1024 * 1024))
    stderr = run_failing(str(big))
    assert stderr.startswith(f"{big}: The file is larger than 1 MiB")
