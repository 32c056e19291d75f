"""The tests are filed by feature: a newcomer finds a behaviour's tests under its name."""

import re
from pathlib import Path

TESTS = Path(__file__).resolve().parent
# A file named after when or how its tests were found, not after what they test.
NOT_A_FEATURE = re.compile(r"^(?:round|attacks?)\d*$")
DATE = re.compile(r"\d{4}-\d{2}")


def misnamed(name: str) -> bool:
    stem = name.removesuffix(".py")
    return bool(DATE.search(stem)) or any(NOT_A_FEATURE.match(part) for part in stem.split("_"))


def test_no_test_file_is_named_after_a_round_an_attack_batch_or_a_date():
    """Every file under tests/ is named by feature: none by round, attack batch or date."""
    names = [path.relative_to(TESTS).as_posix() for path in TESTS.rglob("*.py")]
    assert "newsroom/test_readme.py" in names  # the walk sees the tests
    assert [name for name in names if misnamed(Path(name).name)] == []


def test_the_layout_rule_knows_a_round_file_from_a_feature_file():
    """test_attacks_round9.py, test_round2.py and a dated file are caught; feature names pass."""
    for name in ("test_attacks.py", "test_attacks_round9.py", "test_round2.py", "test_2026-12.py"):
        assert misnamed(name), name
    for name in ("test_background.py", "test_rate_limits.py", "test_surroundings.py"):
        assert not misnamed(name), name
