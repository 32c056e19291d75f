from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from explainers.importer import (
    MAX_FILE_BYTES,
    ParseError,
    Problem,
    import_parsed,
    parse_bytes,
    parse_text,
)
from explainers.models import HEADLINE_PLACEHOLDER, Explainer
from tests.factories import ExplainerFactory, UserFactory

# The example file attached to the issue, verbatim: a lead-in but no headline line, one long
# paragraph a section, no final line break. Kept here because the demo copy is edited by hand.
SEED = "\n".join(
    [
        "What is the story about?",
        "What's Happening?",
        (
            "Ahead of a meeting at the White House, U.S. special envoy Steve Witkoff announced "
            "that President Trump and Russian President Putin agreed to discuss 'robust security "
            "guarantees' for Ukraine. These guarantees, resembling NATO's Article 5, would be "
            "provided directly by the U.S. and European countries. European leaders, including "
            "French President Emmanuel Macron and British Prime Minister Keir Starmer, will join "
            "Ukrainian President Zelensky in Washington to present a united front. The meeting "
            "follows Trump's summit with Putin in Alaska, where Trump dropped his demand for a "
            "ceasefire, instead calling for a final peace deal. The discussions aim to address "
            "Ukraine's security needs amid ongoing conflict with Russia."
        ),
        "Why It's Important?",
        (
            "The potential security guarantees for Ukraine could significantly impact the "
            "country's defense capabilities and its position in the conflict with Russia. This "
            "development is crucial for Ukraine, which has been seeking support from allies since"
            " Russia's invasion. The involvement of European leaders highlights the importance of"
            " the meeting and the need for a coordinated approach to peace negotiations. The "
            "outcome could influence the geopolitical landscape, affecting relations between the "
            "U.S., Europe, and Russia. The discussions also reflect the complexities of "
            "international diplomacy, with stakeholders aiming to balance security needs and "
            "political interests."
        ),
        "What's Next?",
        (
            "The meeting is expected to further discuss the implementation of security "
            "guarantees, which could be a complex and lengthy process. European leaders will need"
            " to navigate the discussions carefully to ensure a united front and avoid potential "
            "tensions with Trump. The possibility of a trilateral meeting involving Trump, Putin,"
            " and Zelensky later in the week is also being considered. The outcome of these talks"
            " could influence future negotiations and the trajectory of the conflict. "
            "Stakeholders will be closely monitoring the developments, as they could have "
            "significant implications for regional security and international diplomacy."
        ),
        "AI Generated Content",
        "Do you find this article useful?",
    ]
)

DEMO = Path(__file__).resolve().parents[2] / "explainers" / "demo" / "explainer-seed.txt"

DOCUMENT = """\
What's Happening?
Leaders met in Washington. They agreed to talk.
A second paragraph.
Why It's Important?
The talks could shape the region's security.
What's Next?
A further meeting is expected next week.
"""


def problems(data: str | bytes) -> list[Problem]:
    """The problems parsing ``data`` reports; fails the test if it parses."""
    with pytest.raises(ParseError) as caught:
        parse_bytes(data) if isinstance(data, bytes) else parse_text(data)
    return caught.value.problems


# The seed file and the format.


def test_seed_file_first_sentence_is_too_long_to_be_its_headline():
    """The seed file's first sentence (190 characters) is never cut into a headline: the
    explainer gets the placeholder, and the parse says why and where."""
    parsed = parse_text(SEED)
    assert parsed.headline_derived
    assert parsed.headline == HEADLINE_PLACEHOLDER
    assert parsed.headline_problem.line == 2
    assert "190 characters" in parsed.headline_problem.message


def test_first_sentence_that_fits_is_the_whole_headline():
    """A first sentence of up to 110 characters is the headline, whole; none is needed."""
    sentence = "Leaders " + "very " * 19 + "met up."
    assert len(sentence) == 110
    parsed = parse_text(DOCUMENT.replace("Leaders met in Washington.", sentence))
    assert parsed.headline == sentence
    assert parsed.headline_problem is None
    longer = parse_text(DOCUMENT.replace("Leaders met in Washington.", "A" + sentence))
    assert longer.headline == HEADLINE_PLACEHOLDER


@pytest.mark.django_db
def test_headline_needed_keeps_a_slug_from_the_first_sentence():
    """An explainer imported with the placeholder is addressed by its first sentence."""
    (outcome,) = import_parsed(documents=[parse_text(SEED)])
    assert outcome.explainer.slug.startswith("ahead-of-a-meeting-at-the-white-house")


def test_seed_file_is_ai_generated():
    """The "AI Generated Content" line marks the seed file as AI generated."""
    assert parse_text(SEED).ai_generated


def test_seed_file_sections_hold_their_paragraphs():
    """Each seed section holds its one paragraph, without headings or page furniture."""
    parsed = parse_text(SEED)
    assert parsed.whats_happening.startswith("Ahead of a meeting at the White House, U.S.")
    assert parsed.why_its_important.startswith("The potential security guarantees")
    assert parsed.whats_next.startswith("The meeting is expected")
    assert parsed.whats_next.endswith("regional security and international diplomacy.")
    for section in (parsed.whats_happening, parsed.why_its_important, parsed.whats_next):
        assert "\n" not in section
        assert "useful" not in section
        assert "AI Generated" not in section


def test_demo_file_parses():
    """The demo file shipped with the app imports without problems."""
    assert parse_bytes(DEMO.read_bytes()).whats_happening


def test_lead_in_line_is_not_a_headline():
    """ "What is the story about?" before the headings is ignored, in any spelling."""
    parsed = parse_text("what is the story about:\n" + DOCUMENT)
    assert parsed.headline_derived


def test_each_line_is_a_paragraph():
    """Each non-blank line is a paragraph; paragraphs are joined with a blank line."""
    parsed = parse_text(DOCUMENT)
    assert parsed.whats_happening == (
        "Leaders met in Washington. They agreed to talk.\n\nA second paragraph."
    )


def test_document_without_marker_is_not_ai_generated():
    """Without the "AI Generated Content" line, the explainer is not marked AI generated."""
    assert not parse_text(DOCUMENT).ai_generated


def test_markers_are_recognised_in_any_case_and_spacing():
    """The AI marker and the "useful?" line are tolerant of case and surrounding spaces."""
    parsed = parse_text(DOCUMENT + "  ai generated CONTENT \n   do you find this ARTICLE useful?\n")
    assert parsed.ai_generated
    assert parsed.whats_next == "A further meeting is expected next week."


def test_headline_line_is_used():
    """A line before the first heading is the headline, not derived."""
    parsed = parse_text("What is the story about?\n  Envoy announces talks  \n\n" + DOCUMENT)
    assert parsed.headline == "Envoy announces talks"
    assert not parsed.headline_derived


def test_short_derived_headline_is_the_first_sentence():
    """A first sentence that fits is the derived headline as it stands."""
    assert parse_text(DOCUMENT).headline == "Leaders met in Washington."


def test_headings_in_any_order():
    """Sections may come in any order and still land in the right fields."""
    shuffled = (
        "What's Next?\nA further meeting is expected next week.\n"
        "Why It's Important?\nThe talks could shape the region's security.\n"
        "What's Happening?\nLeaders met in Washington. They agreed to talk.\nA second paragraph.\n"
    )
    assert parse_text(shuffled) == parse_text(DOCUMENT)


@pytest.mark.parametrize(
    "happening",
    [
        "WHAT'S HAPPENING?",
        "what’s happening",
        "What's Happening:",
        "   What’s  Happening ?   ",
        "What‘s happening:",
    ],
)
def test_heading_spelling_variants(happening):
    """Headings are recognised whatever the case, apostrophe, trailing ? or : and spacing."""
    variant = DOCUMENT.replace("What's Happening?", happening)
    assert parse_text(variant) == parse_text(DOCUMENT)


@pytest.mark.parametrize(
    "encode",
    [
        lambda text: text.replace("\n", "\r\n").encode(),
        lambda text: text.replace("\n", "\r").encode(),
        lambda text: b"\xef\xbb\xbf" + text.encode(),
        lambda text: b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode(),
    ],
    ids=["crlf", "cr", "bom", "bom-crlf"],
)
def test_line_endings_and_bom_do_not_change_digest(encode):
    """CRLF, lone CR and a UTF-8 BOM give the same content and digest as plain LF."""
    assert parse_bytes(encode(DOCUMENT)) == parse_bytes(DOCUMENT.encode())


def test_blank_lines_and_spaces_do_not_change_digest():
    """Blank lines and white space around or inside lines leave the digest alone."""
    spaced = "\n\n" + "\n\n".join(f"  {line.replace(' ', '  ')}\t" for line in DOCUMENT.split("\n"))
    assert parse_text(spaced).digest == parse_text(DOCUMENT).digest


def test_different_text_changes_digest():
    """Changing a word of a section gives a different digest."""
    changed = DOCUMENT.replace("next week", "next month")
    assert parse_text(changed).digest != parse_text(DOCUMENT).digest


def test_given_headline_changes_digest():
    """A headline line is part of the content the digest identifies."""
    assert parse_text("Envoy announces talks\n" + DOCUMENT).digest != parse_text(DOCUMENT).digest


def test_ai_marker_changes_digest():
    """Marking a document AI generated gives a different digest."""
    marked = DOCUMENT + "AI Generated Content\n"
    assert parse_text(marked).digest != parse_text(DOCUMENT).digest


def test_digest_is_sha256_hex():
    """The digest is 64 hexadecimal characters, the size of Explainer.import_digest."""
    digest = parse_text(DOCUMENT).digest
    assert len(digest) == 64
    assert int(digest, 16) >= 0


# Problems.


def test_missing_section_is_reported():
    """A missing section is named, without a line number."""
    text = DOCUMENT.replace(
        "Why It's Important?\nThe talks could shape the region's security.\n", ""
    )
    assert problems(text) == [
        Problem("Why It's Important? is missing.", section="Why It's Important?")
    ]


def test_duplicated_section_names_both_lines():
    """A repeated heading is reported with its line and the line of the first one."""
    text = DOCUMENT + "What's Next?\nAnother paragraph.\n"
    [problem] = problems(text)
    assert str(problem) == "line 8: What's Next? appears twice (first on line 6)."
    assert problem.section == "What's Next?"


def test_empty_section_is_reported_at_its_heading():
    """A heading with nothing under it before the next heading is reported at its line."""
    text = DOCUMENT.replace("The talks could shape the region's security.\n", "\n  \n")
    assert problems(text) == [
        Problem("Why It's Important? has no text under it.", line=4, section="Why It's Important?")
    ]


def test_section_holding_only_markers_is_empty():
    """The AI marker and the "useful?" line do not count as a section's text."""
    text = DOCUMENT.replace(
        "A further meeting is expected next week.\n",
        "AI Generated Content\nDo you find this article useful?\n",
    )
    assert [p.section for p in problems(text)] == ["What's Next?"]


def test_no_headings_is_one_problem():
    """Text without any heading is reported once, not as three missing sections."""
    [problem] = problems("Leaders met in Washington.\nThey agreed to talk.\n")
    assert problem.message.startswith("No section headings found.")


def test_all_problems_are_collected():
    """Every problem in a document is reported, in line order, not just the first."""
    text = "What's Happening?\n\nWhat's Next?\nSoon.\nWhat's Next?\nLater.\n"
    assert [str(p) for p in problems(text)] == [
        "line 1: What's Happening? has no text under it.",
        "line 5: What's Next? appears twice (first on line 3).",
        "Why It's Important? is missing.",
    ]


def test_second_line_before_headings_is_reported():
    """Only one line, the headline, may come before the first heading."""
    text = "Envoy announces talks\nA stray line\n" + DOCUMENT
    [problem] = problems(text)
    assert problem.line == 2
    assert "line 1" in problem.message


def test_long_headline_is_reported():
    """A headline line longer than 200 characters is reported at its line."""
    [problem] = problems("What is the story about?\n" + "x" * 201 + "\n" + DOCUMENT)
    assert problem.line == 2
    assert "201" in problem.message


@pytest.mark.parametrize("data", [b"", b"\xef\xbb\xbf", b"  \r\n\n\t\n"])
def test_empty_file_is_reported(data):
    """A file with no text at all, BOM and white space aside, is reported as empty."""
    assert problems(data) == [Problem("The file is empty.")]


def test_non_utf8_file_names_offset_and_line():
    """A byte that is not UTF-8 is reported with its offset and line."""
    data = DOCUMENT.replace("next week", "la semaine prochaine, déjà").encode("latin-1")
    [problem] = problems(data)
    assert problem.line == 7
    assert f"offset {data.index(bytes([0xE9]))}" in problem.message
    assert "UTF-8" in problem.message


def test_utf16_file_is_not_utf8():
    """A UTF-16 file (with its BOM) is refused as not UTF-8."""
    [problem] = problems(DOCUMENT.encode("utf-16"))
    assert "not UTF-8" in problem.message
    assert "UTF-16" in problem.message


def test_nul_bytes_are_reported():
    """NUL bytes, a sign of a binary or UTF-16 file, are reported at their first line."""
    [problem] = problems(DOCUMENT.replace("A second", "A\x00second").encode())
    assert problem.line == 3
    assert "NUL" in problem.message


def test_file_over_one_mib_is_refused():
    """A file larger than 1 MiB is refused before it is parsed."""
    data = DOCUMENT.encode() + b"x" * MAX_FILE_BYTES
    [problem] = problems(data)
    assert "1 MiB" in problem.message


def test_file_of_exactly_one_mib_is_accepted():
    """1 MiB itself is within the limit."""
    data = DOCUMENT.encode()
    data += b" " * (MAX_FILE_BYTES - len(data))
    assert parse_bytes(data) == parse_text(DOCUMENT)


def test_problem_without_line_prints_message_only():
    """A problem without a line number prints as its message."""
    assert str(Problem("What's Next? is missing.", section="What's Next?")) == (
        "What's Next? is missing."
    )


def test_parse_error_message_lists_every_problem():
    """The ParseError's text holds one problem a line."""
    error = ParseError([Problem("First.", line=1), Problem("Second.")])
    assert str(error) == "line 1: First.\nSecond."


# import_parsed, the one writer.


@pytest.mark.django_db
def test_import_creates_draft_with_digest():
    """A new document becomes a draft carrying its digest and derived headline."""
    document = parse_text(DOCUMENT)
    [outcome] = import_parsed(documents=[document])
    explainer = Explainer.objects.get()
    assert outcome.action == "created"
    assert outcome.explainer == explainer
    assert explainer.status == Explainer.Status.DRAFT
    assert explainer.import_digest == document.digest
    assert explainer.slug == "leaders-met-in-washington"
    assert explainer.whats_happening == document.whats_happening


@pytest.mark.django_db
def test_import_stamps_user():
    """The importing user is recorded as creator and last editor."""
    user = UserFactory()
    [outcome] = import_parsed(documents=[parse_text(DOCUMENT)], user=user)
    assert outcome.explainer.created_by == user
    assert outcome.explainer.updated_by == user


@pytest.mark.django_db
def test_import_with_publish_publishes_new_explainer():
    """With publish=True a new explainer is created and published at once."""
    [outcome] = import_parsed(documents=[parse_text(DOCUMENT)], publish=True)
    assert outcome.action == "created"
    assert outcome.explainer.is_public


@pytest.mark.django_db
def test_reimport_writes_nothing():
    """Importing the same content again neither inserts nor updates a row."""
    import_parsed(documents=[parse_text(DOCUMENT)])
    with CaptureQueriesContext(connection) as queries:
        [outcome] = import_parsed(documents=[parse_text(DOCUMENT)])
    assert outcome.action == "unchanged"
    writes = [
        q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE"))
    ]
    assert writes == []


@pytest.mark.django_db
def test_identical_documents_in_one_batch():
    """The second of two identical documents in one batch is unchanged."""
    document = parse_text(DOCUMENT)
    outcomes = import_parsed(documents=[document, document])
    assert [o.action for o in outcomes] == ["created", "unchanged"]
    assert outcomes[0].explainer == outcomes[1].explainer
    assert Explainer.objects.count() == 1


@pytest.mark.django_db
def test_reimport_with_publish_publishes_earlier_draft():
    """With publish=True a draft imported earlier is published."""
    import_parsed(documents=[parse_text(DOCUMENT)])
    [outcome] = import_parsed(documents=[parse_text(DOCUMENT)], publish=True)
    assert outcome.action == "published"
    assert Explainer.objects.get().is_public


@pytest.mark.django_db
def test_import_never_overwrites_an_edited_explainer():
    """An explainer edited since its import keeps its text when the file is imported again."""
    [outcome] = import_parsed(documents=[parse_text(DOCUMENT)])
    Explainer.objects.filter(pk=outcome.explainer.pk).update(whats_next="Edited by a person.")
    import_parsed(documents=[parse_text(DOCUMENT)], publish=True)
    assert Explainer.objects.get().whats_next == "Edited by a person."


@pytest.mark.django_db
def test_import_takes_a_free_slug():
    """A headline whose slug is taken gets the next free one."""
    ExplainerFactory(slug="leaders-met-in-washington")
    [outcome] = import_parsed(documents=[parse_text(DOCUMENT)])
    assert outcome.explainer.slug == "leaders-met-in-washington-2"


class SlugTrouble(Exception):
    pass


@pytest.mark.django_db
def test_failed_batch_imports_nothing(monkeypatch):
    """A batch that fails part-way leaves no explainer behind."""
    slugs = iter(["first"])

    def one_slug_only(headline: str) -> str:
        try:
            return next(slugs)
        except StopIteration:
            raise SlugTrouble from None

    monkeypatch.setattr("explainers.importer.unique_slug", one_slug_only)
    documents = [parse_text(DOCUMENT), parse_text(DOCUMENT.replace("next week", "soon"))]
    with pytest.raises(SlugTrouble):
        import_parsed(documents=documents)
    assert not Explainer.objects.exists()
