"""Plain-text helpers shared by the pages, the admin and the importer.

Sections are stored as plain text with paragraphs separated by blank lines; nothing
here produces HTML, so templates keep escaping everything.
"""

import re

_PARAGRAPH_BREAK = re.compile(r"\n[ \t\r\f\v]*\n")
# A sentence ends at . ! or ? (optionally closed by a quote or bracket) before white space.
_SENTENCE_END = re.compile(r"[.!?]+[\"'”’)\]]*(?=\s)")
# Abbreviations that end in a full stop without ending the sentence ("U.S.", "Mr.").
_ABBREVIATION = re.compile(
    r"(?:\b(?:[A-Za-z]\.)+[A-Za-z]?|\b(?:Mr|Mrs|Ms|Dr|Prof|St|Jr|Sr|Gen|Sen|Rep|Gov|Lt|Col"
    r"|Capt|Sgt|No|Inc|Ltd|Co|Corp|vs|etc|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec))"
    r"\.$"
)


def unix_newlines(text: str) -> str:
    """``text`` with its line breaks written as LF, as the site stores them (a browser sends a
    textarea's as CRLF)."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def paragraphs(text: str) -> list[str]:
    """Split section text at blank lines; a single line break inside a paragraph is a space."""
    text = unix_newlines(text or "")
    # str.split() breaks at the white space \s matches, without a regular expression.
    return [" ".join(chunk.split()) for chunk in _PARAGRAPH_BREAK.split(text) if chunk.strip()]


def first_sentence(text: str) -> str:
    """Return the first sentence of ``text``, not fooled by abbreviations such as "U.S."."""
    return split_first_sentence(text)[0]


def split_first_sentence(text: str) -> tuple[str, str]:
    """The first sentence of ``text`` (white space collapsed) and the text after it, as is."""
    text = text or ""
    # Every card and page asks for it: only the sentence found is flattened, and only the end
    # of each candidate is tested for an abbreviation (the longest word one is five letters; a
    # run of initials longer than the window still matches within it).
    for match in _SENTENCE_END.finditer(text):
        end = match.end()
        if not _ABBREVIATION.search(text, max(0, end - 40), end):
            return " ".join(text[:end].split()), text[end:]
    return " ".join(text.split()), ""


# XML 1.0 cannot carry these control characters at all; a vertical tab is what a word
# processor's line break pastes as.
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_safe(text: str) -> str:
    """``text`` with each character XML 1.0 cannot carry sent as a space, for feeds and
    sitemaps: one such character would make the whole document unreadable."""
    return _NOT_XML.sub(" ", text)
