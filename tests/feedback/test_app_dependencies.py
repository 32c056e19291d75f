import ast
import importlib
from pathlib import Path

import explainers

EXPLAINERS = Path(explainers.__file__).resolve().parent


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def test_explainers_never_imports_feedback():
    """feedback uses explainers, never the reverse: no explainers module imports feedback."""
    offenders = {
        str(path.relative_to(EXPLAINERS))
        for path in EXPLAINERS.rglob("*.py")
        if any(name.split(".")[0] == "feedback" for name in imported_modules(path))
    }
    assert offenders == set()


def test_explainers_migrations_never_depend_on_feedback():
    """No explainers migration waits for a feedback one."""
    offenders = []
    for path in sorted((EXPLAINERS / "migrations").glob("0*.py")):
        migration = importlib.import_module(f"explainers.migrations.{path.stem}").Migration
        offenders += [path.stem for app, _ in migration.dependencies if app == "feedback"]
    assert offenders == []


def test_feedback_is_installed_after_explainers(settings):
    """feedback comes after the app it builds on, whose admin it registers again."""
    apps = settings.INSTALLED_APPS
    assert apps.index("explainers") < apps.index("feedback")
