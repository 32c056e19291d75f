from pathlib import Path

import audit
from tests.feedback.test_app_dependencies import imported_modules

AUDIT = Path(audit.__file__).resolve().parent


def test_audit_imports_neither_explainers_nor_feedback():
    """Both apps call audit; audit depends on neither, so neither depends on the other."""
    offenders = {
        str(path.relative_to(AUDIT))
        for path in AUDIT.rglob("*.py")
        if any(name.split(".")[0] in {"explainers", "feedback"} for name in imported_modules(path))
    }
    assert offenders == set()
