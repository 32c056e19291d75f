"""Import explainers from the plain-text files the newsroom's tools produce.

A file looks like the page it came from (see ``explainers/demo/explainer-seed.txt``)::

    What is the story about?          <- optional lead-in, ignored
    A headline                        <- optional; see below when absent
    What's Happening?
    One paragraph per line.
    Why It's Important?
    ...
    What's Next?
    ...
    AI Generated Content              <- marks the explainer as AI generated
    Do you find this article useful?  <- page furniture, ignored

Without a headline line, the first sentence of What's Happening is the headline when it fits
whole in ``DERIVED_HEADLINE_LENGTH``; otherwise the explainer gets ``HEADLINE_PLACEHOLDER``,
the parse says so (``ParsedExplainer.headline_problem``), and it cannot be published until
an editor writes one. A sentence is never cut to make a headline.

Parsing never touches the database and reports every problem it finds at once, so an
editor can fix a file in one pass. ``import_parsed`` is the only function here that writes;
the admin's "Import from text" page and the ``import_explainers`` command both use it.
"""

import codecs
import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction

from . import workflow
from .models import HEADLINE_PLACEHOLDER, SECTIONS, Explainer
from .services import explainer_publish, explainer_sign_off, unique_slug
from .structured_data import HEADLINE_MAX
from .text import first_sentence

MAX_FILE_BYTES = 1024 * 1024
HEADLINE_MAX_LENGTH = Explainer._meta.get_field("headline").max_length
# Search engines cut longer headlines; a first sentence longer than this is no headline.
DERIVED_HEADLINE_LENGTH = HEADLINE_MAX

# Editors' tools save with LF, CRLF or (old Mac exports) a lone CR; str.splitlines() would
# also split at form feeds and U+2028, which would make line numbers disagree with editors.
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "`": "'"})
_WHITESPACE = re.compile(r"\s+")

_HEADING_KEYS = {
    "what's happening": "whats_happening",
    "why it's important": "why_its_important",
    "what's next": "whats_next",
}
_HEADINGS = {name: heading for name, heading, _ in SECTIONS}
_LEAD_IN = "what is the story about"
_AI_MARKER = "ai generated content"
_FURNITURE = "do you find this article useful"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a document, located as precisely as the parser can."""

    message: str
    line: int | None = None
    section: str | None = None

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line is not None else self.message


class ParseError(Exception):
    """A document that cannot be imported; ``problems`` lists everything wrong with it."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))


@dataclass(frozen=True)
class ParsedExplainer:
    headline: str
    headline_derived: bool
    whats_happening: str
    why_its_important: str
    whats_next: str
    ai_generated: bool
    digest: str
    # Why the explainer needs a headline from an editor, when none could be derived.
    headline_problem: Problem | None = None

    @property
    def slug_source(self) -> str:
        """What the address is made from: the headline, or the first sentence without one."""
        if self.headline == HEADLINE_PLACEHOLDER:
            return first_sentence(self.whats_happening)
        return self.headline


# Explainers are created at this version; any saved change to what readers see adds one.
IMPORTED_VERSION = 1


def changed_since_import(explainer: Explainer) -> bool:
    """Someone edited the explainer after it was imported: the file no longer shows it."""
    return explainer.version != IMPORTED_VERSION


@dataclass(frozen=True)
class Outcome:
    explainer: Explainer
    action: str  # "created", "unchanged" or "published"


def _key(line: str) -> str:
    """The spelling-insensitive form of a line, for recognising headings and markers."""
    key = _WHITESPACE.sub(" ", line.translate(_APOSTROPHES)).strip().casefold()
    if key[-1:] in ("?", ":"):
        key = key[:-1].rstrip()
    return key


def _clean(line: str) -> str:
    # Pages render paragraphs with runs of white space collapsed (text.paragraphs), so
    # storing them collapsed keeps the digest blind to differences no reader can see.
    return _WHITESPACE.sub(" ", line).strip()


def _digest(headline: str, ai_generated: bool, sections: dict[str, list[str]]) -> str:
    canonical = [headline, ai_generated, [sections[name] for name, _, _ in SECTIONS]]
    payload = json.dumps(canonical, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def parse_text(text: str) -> ParsedExplainer:
    """Parse one document; raise ``ParseError`` listing every problem found."""
    reader = _LineReader()
    for number, line in enumerate(_split_lines(text), 1):
        reader.read(number, _clean(line))
    if not reader.heading_lines:
        # Reported alone: "missing" three times and "extra headline" for every line of text
        # would bury the one thing to fix.
        raise ParseError(
            [
                Problem(
                    "No section headings found. What's Happening?, Why It's Important? and "
                    "What's Next? must each be on a line of their own."
                )
            ]
        )
    problems = reader.problems + _section_problems(reader)
    if problems:
        problems.sort(key=lambda p: (p.line is None, p.line or 0))
        raise ParseError(problems)

    sections = reader.sections
    headline, headline_problem = _headline(reader)
    return ParsedExplainer(
        headline=headline,
        headline_derived=not reader.headline,
        whats_happening="\n\n".join(sections["whats_happening"]),
        why_its_important="\n\n".join(sections["why_its_important"]),
        whats_next="\n\n".join(sections["whats_next"]),
        ai_generated=reader.ai_generated,
        digest=_digest(reader.headline, reader.ai_generated, sections),
        headline_problem=headline_problem,
    )


def _split_lines(text: str) -> list[str]:
    """The document's lines, numbered as editors number them; refuse what is not text."""
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise ParseError([Problem("The file is empty.")])
    lines = _LINE_BREAK.split(text)

    # A NUL almost always means a binary or UTF-16 file; every other message would be noise.
    nul_lines = [number for number, line in enumerate(lines, 1) if "\x00" in line]
    if nul_lines:
        raise ParseError(
            [
                Problem(
                    "The file contains NUL bytes, so it is not plain text "
                    "(is it UTF-16 or a word-processor file?). Save it as UTF-8 text.",
                    line=nul_lines[0],
                )
            ]
        )
    return lines


@dataclass
class _LineReader:
    """What a document's lines, read top to bottom, have said so far."""

    headline: str = ""
    headline_line: int | None = None
    ai_generated: bool = False
    sections: dict[str, list[str]] = field(default_factory=dict)
    heading_lines: dict[str, int] = field(default_factory=dict)
    current: str | None = None
    problems: list[Problem] = field(default_factory=list)

    def read(self, number: int, paragraph: str) -> None:
        """Take in line ``number``, already cleaned; blank lines say nothing."""
        if not paragraph:
            return
        key = _key(paragraph)
        if key == _AI_MARKER:
            self.ai_generated = True
        elif key == _FURNITURE:
            pass
        elif key in _HEADING_KEYS:
            self._read_heading(number, _HEADING_KEYS[key])
        elif self.current is not None:
            self.sections[self.current].append(paragraph)
        elif self.heading_lines:
            pass  # under a repeated heading, already reported; don't pad the first one
        elif key == _LEAD_IN:
            pass
        else:
            self._read_headline(number, paragraph)

    def _read_heading(self, number: int, name: str) -> None:
        if name in self.heading_lines:
            self.problems.append(
                Problem(
                    f"{_HEADINGS[name]} appears twice (first on line {self.heading_lines[name]}).",
                    line=number,
                    section=_HEADINGS[name],
                )
            )
            self.current = None
        else:
            self.heading_lines[name] = number
            self.sections[name] = []
            self.current = name

    def _read_headline(self, number: int, paragraph: str) -> None:
        """A line of text before the first heading: the headline, if it is the only one."""
        if self.headline_line is not None:
            self.problems.append(
                Problem(
                    "Only one line, the headline, may come before the first heading; "
                    f"the headline is on line {self.headline_line}.",
                    line=number,
                )
            )
            return
        self.headline, self.headline_line = paragraph, number
        if len(paragraph) > HEADLINE_MAX_LENGTH:
            self.problems.append(
                Problem(
                    f"The headline is {len(paragraph)} characters long; "
                    f"the limit is {HEADLINE_MAX_LENGTH}.",
                    line=number,
                )
            )


def _section_problems(reader: _LineReader) -> list[Problem]:
    """Each section missing, or found with no text under it."""
    problems = []
    for name, heading, _ in SECTIONS:
        if name not in reader.heading_lines:
            problems.append(Problem(f"{heading} is missing.", section=heading))
        elif not reader.sections[name]:
            problems.append(
                Problem(
                    f"{heading} has no text under it.",
                    line=reader.heading_lines[name],
                    section=heading,
                )
            )
    return problems


def _headline(reader: _LineReader) -> tuple[str, Problem | None]:
    """The headline written, else the first sentence if it fits, else the placeholder and why."""
    if reader.headline:
        return reader.headline, None
    first = first_sentence(reader.sections["whats_happening"][0])
    if len(first) <= DERIVED_HEADLINE_LENGTH:
        return first, None
    return HEADLINE_PLACEHOLDER, Problem(
        f"No headline: the first sentence of What's Happening? is {len(first)} "
        f"characters, too long for one ({DERIVED_HEADLINE_LENGTH} at most), so the "
        "explainer needs a headline before it can be published. Write it on a line "
        "of its own above this heading, or in the admin.",
        line=min(reader.heading_lines.values()),
    )


def parse_bytes(data: bytes) -> ParsedExplainer:
    """Parse one uploaded or read file: at most 1 MiB of UTF-8, with or without a BOM."""
    if len(data) > MAX_FILE_BYTES:
        raise ParseError([Problem("The file is larger than 1 MiB, the most one import accepts.")])
    body, offset = data, 0
    if data.startswith(codecs.BOM_UTF8):
        body, offset = data[len(codecs.BOM_UTF8) :], len(codecs.BOM_UTF8)
    try:
        decoded = body.decode("utf-8")
    except UnicodeDecodeError as error:
        line = len(_LINE_BREAK.split(body[: error.start].decode("utf-8")))
        hint = ""
        if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            hint = " It looks like UTF-16."
        raise ParseError(
            [
                Problem(
                    f"The file is not UTF-8 text: byte 0x{body[error.start]:02X} at offset "
                    f"{error.start + offset} cannot be read.{hint} Save the file as UTF-8.",
                    line=line,
                )
            ]
        ) from None
    return parse_text(decoded)


@transaction.atomic
def import_parsed(
    *,
    documents: Sequence[ParsedExplainer],
    publish: bool = False,
    user: AbstractBaseUser | None = None,
    reviewed_by: AbstractBaseUser | None = None,
) -> list[Outcome]:
    """Create a draft explainer for each document not imported before; publish if asked.

    Documents are identified by their digest, so importing the same text again changes
    nothing, and an existing explainer is never overwritten: editors may have improved it
    since. Publishing goes through the workflow services, so AI-generated text needs
    ``reviewed_by``, an editor who signs it off; a draft edited since its import is never
    published (or signed off) from the file, which no longer shows what would be published.
    One transaction, so a batch lands whole or not at all.
    """
    outcomes = []
    for document in documents:
        # Locking the row keeps two concurrent imports from both publishing the same draft.
        existing = (
            Explainer.objects.select_for_update().filter(import_digest=document.digest).first()
        )
        if existing is None:
            explainer = Explainer.objects.create(
                headline=document.headline,
                slug=unique_slug(document.slug_source),
                whats_happening=document.whats_happening,
                why_its_important=document.why_its_important,
                whats_next=document.whats_next,
                ai_generated=document.ai_generated,
                import_digest=document.digest,
                created_by=user,
                updated_by=user,
            )
            if publish:
                _publish(explainer, user=user, reviewed_by=reviewed_by)
            outcomes.append(Outcome(explainer, "created"))
        elif publish and existing.status == Explainer.Status.DRAFT:
            if changed_since_import(existing):
                raise ValidationError(
                    "“%(headline)s” was changed in the admin since it was imported, so this "
                    "file no longer shows what would be published. Review and publish it in "
                    "the admin.",
                    code="changed_since_import",
                    params={"headline": existing.headline},
                )
            _publish(existing, user=user, reviewed_by=reviewed_by)
            outcomes.append(Outcome(existing, "published"))
        else:
            outcomes.append(Outcome(existing, "unchanged"))
    return outcomes


def _publish(
    explainer: Explainer, *, user: AbstractBaseUser | None, reviewed_by: AbstractBaseUser | None
) -> None:
    if reviewed_by is not None and workflow.allows(explainer, reviewed_by, "sign_off"):
        explainer_sign_off(explainer=explainer, user=reviewed_by)
    explainer_publish(explainer=explainer, user=reviewed_by or user)
