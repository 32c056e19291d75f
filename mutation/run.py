"""Mutation testing of the modules where a wrong answer is a security or editorial failure.

Run by ``make mutation`` (``MUTATION_MODULES="workflow guards"`` for some of them). For each
``mutation/<name>.toml`` (a cosmic-ray configuration) this copies the repository's tracked
files to ``var/mutation/<name>/tree``, so a run that is stopped half-way never leaves a mutant in
the working tree, lets cosmic-ray change the module one operator at a time and run that
module's own tests, and prints how many mutants the tests noticed and the diff of each one
they did not. docs/testing.md says which survivors are equivalent, and why.

``[cosmic-ray.filters.names] names`` limits a run to those top-level functions, classes and
assignments of the module (the formula rules of feedback/export.py, say, not all of it).
"""

import argparse
import ast
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from cosmic_ray.config import load_config, serialize_config
from cosmic_ray.work_db import WorkDB, WorkResultStorage, use_db
from cosmic_ray.work_item import TestOutcome, WorkerOutcome, WorkResult

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
VAR = ROOT / "var" / "mutation"
# Operators whose mutants say nothing here: decorators such as @dataclass and @transaction
# are structure, not rules; the variable operators need per-module configuration; and a
# binary operator turned into //, %, **, << or >> mostly raises TypeError on import or
# repeats what / and * already test, at the price of a test run each.
EXCLUDED_OPERATORS = [
    r"core/RemoveDecorator",
    r"core/VariableInserter",
    r"core/VariableReplacer",
    r"core/ReplaceBinaryOperator_\w+_(FloorDiv|Mod|Pow|LShift|RShift)$",
]


def copy_tree(tree: Path) -> None:
    """The files git tracks, as they are in the working tree (uncommitted changes too)."""
    if tree.exists():
        shutil.rmtree(tree)
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, check=True, capture_output=True
    ).stdout
    for name in filter(None, listed.decode().split("\0")):
        source = ROOT / name
        if source.is_file():
            target = tree / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


def named_lines(module: Path, names: list[str]) -> list[tuple[int, int]]:
    """The line ranges of the module's top-level definitions and assignments called ``names``."""
    ranges = []
    found = set()
    for node in ast.parse(module.read_text()).body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            node_names = {node.name}
        elif isinstance(node, ast.Assign):
            node_names = {t.id for t in node.targets if isinstance(t, ast.Name)}
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            node_names = {node.target.id}
        else:
            continue
        if node_names & set(names):
            found |= node_names & set(names)
            first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
            ranges.append((first, node.end_lineno))
    missing = set(names) - found
    if missing:
        sys.exit(f"{module}: no top-level {', '.join(sorted(missing))} to mutate.")
    return ranges


def skip(db: WorkDB, job_ids: list[str], why: str) -> None:
    if job_ids:
        db.set_multiple_results(
            job_ids, WorkResult(output=why, worker_outcome=WorkerOutcome.SKIPPED)
        )


def keep_only(db: WorkDB, ranges: list[tuple[int, int]]) -> None:
    """Skip every mutant outside ``ranges`` (and those of excluded operators)."""
    outside, excluded = [], []
    for item in db.pending_work_items:
        for mutation in item.mutations:
            if any(re.match(op, mutation.operator_name) for op in EXCLUDED_OPERATORS):
                excluded.append(item.job_id)
            elif ranges and not any(
                mutation.start_pos[0] <= end and start <= mutation.end_pos[0]
                for start, end in ranges
            ):
                outside.append(item.job_id)
    skip(db, outside, "outside the names mutated")
    skip(db, excluded, "operator excluded")


def run(name: str, *, quiet: bool, again: bool) -> tuple[int, int, list[str]]:
    """Mutate one module; (mutants run, mutants noticed, diffs of the survivors).

    ``again`` keeps the last run's results and tries only its survivors, against the tests
    as they are now: the quick check after adding a test that should notice them.
    """
    config = load_config(str(HERE / f"{name}.toml"))
    # The configurations say "python"; the run uses this interpreter, the project's.
    command = shlex.split(config["test-command"])
    if command[0] == "python":
        command[0] = sys.executable
    config["test-command"] = shlex.join(command)
    work = VAR / name
    tree = work / "tree"
    copy_tree(tree)
    generated = work / "config.toml"
    generated.write_text(serialize_config(config))
    session = work / "session.sqlite"
    cosmic_ray = [sys.executable, "-m", "cosmic_ray.cli"]
    if again and session.exists():
        with use_db(str(session), WorkDB.Mode.open) as db:
            survived = [
                item.job_id
                for item, result in db.completed_work_items
                if result.test_outcome == TestOutcome.SURVIVED
            ]
            # cosmic-ray's WorkDB has no call to forget a result; its table is plain.
            with db._session_maker.begin() as sql:
                for job_id in survived:
                    sql.query(WorkResultStorage).filter_by(job_id=job_id).delete()
    else:
        session.unlink(missing_ok=True)
        subprocess.run([*cosmic_ray, "init", str(generated), str(session)], cwd=tree, check=True)
        names = config.sub("filters", "names").get("names", [])
        ranges = named_lines(tree / config["module-path"], list(names)) if names else []
        with use_db(str(session)) as db:
            keep_only(db, ranges)
    verbosity = ["--verbosity", "WARNING"] if quiet else ["--verbosity", "INFO"]
    subprocess.run(
        [*cosmic_ray, *verbosity, "exec", str(generated), str(session)], cwd=tree, check=True
    )
    ran = noticed = 0
    survivors = []
    with use_db(str(session), WorkDB.Mode.open) as db:
        for item, result in db.completed_work_items:
            if result.worker_outcome == WorkerOutcome.SKIPPED:
                continue
            if result.test_outcome == TestOutcome.INCOMPETENT:
                # Not a mutant at all (the operator could not apply); counted by neither side.
                continue
            ran += 1
            if result.test_outcome == TestOutcome.KILLED:
                noticed += 1
            else:
                mutation = item.mutations[0]
                survivors.append(
                    f"{mutation.module_path}:{mutation.start_pos[0]} "
                    f"{mutation.operator_name} #{mutation.occurrence}\n{result.diff}"
                )
    return ran, noticed, survivors


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    available = sorted(path.stem for path in HERE.glob("*.toml"))
    parser.add_argument("modules", nargs="*", metavar="MODULE", help=", ".join(available))
    parser.add_argument("--quiet", action="store_true", help="no line per mutant")
    parser.add_argument(
        "--again", action="store_true", help="try only the last run's survivors, with these tests"
    )
    args = parser.parse_args()
    unknown = set(args.modules) - set(available)
    if unknown:
        parser.error(f"no mutation/<name>.toml for {', '.join(sorted(unknown))}")
    scores = []
    for name in args.modules or available:
        ran, noticed, survivors = run(name, quiet=args.quiet, again=args.again)
        for survivor in survivors:
            print(f"\nNot noticed: {survivor}")
        score = f"{noticed / ran:.0%}" if ran else "-"
        scores.append(f"{name:12} {ran:4} mutants run {noticed:4} noticed {score:>5}")
        print(f"\n{scores[-1]}\n", flush=True)
    print("\n".join(["", "Mutants noticed by the tests:", *scores]))
    for name, line in zip(args.modules or available, scores, strict=True):
        (VAR / name / "score.txt").write_text(line + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
