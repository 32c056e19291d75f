import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VARIABLE = re.compile(r"\b((?:DJANGO|NEWSROOM|FEEDBACK)_[A-Z_]+|DATABASE_(?:[A-Z]+_)?URL)\b")
# A newcomer reads the README whole; the rest lives in docs/.
README_MAX_BYTES = 12 * 1024
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)\s]*)?\)")
ANCHORED_LINK = re.compile(r"\]\(([^)#\s]*)#([^)\s]+)\)")
CODE_BLOCK = re.compile(r"^```.*?^```", re.M | re.S)


def headings(path: Path) -> set[str]:
    """The anchors GitHub gives the headings of a Markdown file."""
    text = CODE_BLOCK.sub("", path.read_text())
    titles = re.findall(r"^#+ (.+)$", text, re.M)
    return {re.sub(r"[^\w\- ]", "", title.strip().lower()).replace(" ", "-") for title in titles}


def documented() -> set[str]:
    table = ROOT.joinpath("docs", "configuration.md").read_text()
    return set(VARIABLE.findall(table))


def test_every_environment_variable_is_in_the_configuration_table():
    """docs/configuration.md lists every variable the project reads."""
    read = set()
    for path in [*ROOT.glob("newsroom/*.py"), *ROOT.glob("tests/**/*.py")]:
        for name in re.findall(r"environ(?:\.get)?[\[(]\s*\"([A-Z_]+)\"", path.read_text()):
            read.add(name)
        read |= set(re.findall(r"env_(?:bool|int|list)\(\s*\"([A-Z_]+)\"", path.read_text()))
    read -= {"DJANGO_SETTINGS_MODULE"}
    assert read - documented() == set()


def test_readme_stays_short():
    """README.md is at most 12 KB: what the project is, how to run and test it, and a map."""
    assert len(ROOT.joinpath("README.md").read_bytes()) <= README_MAX_BYTES


def test_every_file_the_readme_links_exists():
    """Every relative link in README.md (docs/*.md, bench/README.md, the picture) exists."""
    targets = {
        target
        for target in LINK.findall(ROOT.joinpath("README.md").read_text())
        if "://" not in target
    }
    assert {target for target in targets if target.startswith("docs/")}, "no docs/ link"
    assert {target for target in targets if not ROOT.joinpath(target).is_file()} == set()


def test_every_link_between_the_docs_leads_somewhere():
    """Relative links in the README, docs/ and bench/README.md reach files and headings."""
    broken = []
    for page in [ROOT / "README.md", ROOT / "bench" / "README.md", *ROOT.glob("docs/*.md")]:
        text = CODE_BLOCK.sub("", page.read_text())
        for target in LINK.findall(text):
            if "://" not in target and not (page.parent / target).exists():
                broken.append(f"{page.name}: {target}")
        for target, anchor in ANCHORED_LINK.findall(text):
            if "://" not in target and anchor not in headings(page.parent / (target or page.name)):
                broken.append(f"{page.name}: {target}#{anchor}")
    assert broken == []
