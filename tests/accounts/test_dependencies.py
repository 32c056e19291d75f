from pathlib import Path

import newsroom
from tests.feedback.test_app_dependencies import imported_modules

NEWSROOM = Path(newsroom.__file__).resolve().parent


def test_the_project_package_never_imports_accounts():
    """newsroom names accounts only in settings strings; accounts imports what it needs."""
    offenders = {
        str(path.relative_to(NEWSROOM))
        for path in NEWSROOM.rglob("*.py")
        if any(name.split(".")[0] == "accounts" for name in imported_modules(path))
    }
    assert offenders == set()
