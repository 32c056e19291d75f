import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VARIABLE = re.compile(r"\b((?:DJANGO|NEWSROOM|FEEDBACK)_[A-Z_]+|DATABASE_(?:[A-Z]+_)?URL)\b")


def documented() -> set[str]:
    table = ROOT.joinpath("README.md").read_text().split("## Configuration", 1)[1]
    table = table.split("\n## ", 1)[0]
    return set(VARIABLE.findall(table))


def test_every_environment_variable_is_in_the_readme_table():
    """The README's configuration table lists every variable the project reads."""
    read = set()
    for path in [*ROOT.glob("newsroom/*.py"), *ROOT.glob("tests/**/*.py")]:
        for name in re.findall(r"environ(?:\.get)?[\[(]\s*\"([A-Z_]+)\"", path.read_text()):
            read.add(name)
        read |= set(re.findall(r"env_(?:bool|int|list)\(\s*\"([A-Z_]+)\"", path.read_text()))
    read -= {"DJANGO_SETTINGS_MODULE"}
    assert read - documented() == set()
