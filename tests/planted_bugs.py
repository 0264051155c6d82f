"""Planted bugs: do the tests fail when the engine is wrong?

Not part of the test suite: a script that copies ``src/`` to a scratch directory,
plants one known bug in the copy (the patches are the data below), and runs three
checks against the copy:

* the unit tests alone (``tests/unit``): number of failed tests;
* the conformance runner (``tests.conformance.runner``): number of failed requests;
* the differential CI run (``tests/differential/test_vs_cedarpy.py``): number of
  generated cases where cedarlang and cedarpy disagree.

Each bug must be caught by the unit tests alone, and by the conformance runner or
the differential run.  Usage (from the repository root; a few minutes per bug)::

    /work/main/.venv/bin/python tests/planted_bugs.py            # all bugs, table at the end
    /work/main/.venv/bin/python tests/planted_bugs.py --bug like-escaped-star --skip differential
    /work/main/.venv/bin/python tests/planted_bugs.py --baseline --unit tests/unit/test_ops.py

The exit status is 1 when a bug escapes (unit tests, or conformance and differential
both, find nothing) or a patch no longer applies (the source moved: update it).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Bug:
    name: str
    description: str
    # (file under src/cedarlang, exact old text (must occur once), new text)
    patches: tuple[tuple[str, str, str], ...]


BUGS: tuple[Bug, ...] = (
    Bug(
        "forbid-no-override",
        "a satisfied forbid does not override a satisfied permit",
        (
            (
                "authorizer.py",
                "    if forbids:\n        return Response(_DENY, frozenset(forbids), tuple(errors))",
                "    if forbids and not permits:\n        return Response(_DENY, frozenset(forbids), tuple(errors))",
            ),
            (
                "authorizer.py",
                "        if forbids:\n            return _new_tuple(Response, (_DENY, frozenset(forbids), tuple(errors)))",
                "        if forbids and not permits:\n"
                "            return _new_tuple(Response, (_DENY, frozenset(forbids), tuple(errors)))",
            ),
            (
                "authorizer.py",
                'for decision, group in (("_DENY", forbids), ("_ALLOW", permits)):',
                'for decision, group in (("_ALLOW", permits), ("_DENY", forbids)):',
            ),
        ),
    ),
    Bug(
        "like-escaped-star",
        "`like` treats an escaped `\\*` as a wildcard",
        (
            (
                "lexical.py",
                '        elif esc == "*" and pattern:\n            buf.append("*")\n            i += 2\n            continue\n',
                '        elif esc == "*" and pattern:\n            i, decoded = start + 2, "*"\n',
            ),
        ),
    ),
    Bug(
        "decimal-lessThan-le",
        "decimal `lessThan` computes `<=`",
        (
            (
                "extensions/decimal.py",
                "    def less_than(self, other: Decimal) -> bool:\n        return self.value < other.value",
                "    def less_than(self, other: Decimal) -> bool:\n        return self.value <= other.value",
            ),
        ),
    ),
    Bug(
        "ancestors-depth-2",
        "the entity hierarchy closure stops at grandparents",
        (
            (
                "entities.py",
                "                    extra.update(parent_entity.ancestors)",
                "                    extra.update(parent_entity.parents)",
            ),
        ),
    ),
    Bug(
        "unless-swallows-missing-attr",
        "a missing-attribute error inside `unless` is swallowed (policy skipped, no error)",
        (
            (
                "compiler.py",
                "    checks += [gen.boolean(part) for part in conditions]",
                "    gen.namespace['_swallow'] = _swallow\n"
                "    checks += [\n"
                "        gen.boolean(part) if c.is_when else f'_swallow(lambda: {gen.boolean(part)})'\n"
                "        for part, c in zip(conditions, policy_ast.conditions)\n"
                "    ]",
            ),
            (
                "compiler.py",
                "def _interpreted(parts: tuple[Expr, ...]) -> PolicyFunction:",
                "def _swallow(thunk: Any) -> Any:\n"
                "    try:\n"
                "        return thunk()\n"
                "    except EvaluationError as err:\n"
                "        if err.kind in ('EntityAttrDoesNotExist', 'RecordAttrDoesNotExist'):\n"
                "            return False\n"
                "        raise\n\n\n"
                "def _interpreted(parts: tuple[Expr, ...]) -> PolicyFunction:",
            ),
        ),
    ),
)

CHECKS = ("unit", "conformance", "differential")


def plant(bug: Bug | None, dest: Path) -> Path:
    """A copy of ``src`` in ``dest`` with ``bug`` applied; returns the copy's src dir."""
    src = dest / "src"
    shutil.copytree(ROOT / "src", src, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for rel, old, new in bug.patches if bug else ():
        path = src / "cedarlang" / rel
        text = path.read_text()
        if text.count(old) != 1:
            raise SystemExit(f"{bug.name if bug else ''}: patch for {rel} does not apply (source changed?)")
        path.write_text(text.replace(old, new))
    return src


def _run(src: Path, args: list[str], extra_env: dict[str, str] | None = None) -> str:
    env = {**os.environ, "PYTHONPATH": f"{src}{os.pathsep}{ROOT}", **(extra_env or {})}
    proc = subprocess.run(
        ["nice", "-n", "10", sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    return proc.stdout + proc.stderr


def _pytest_failed(out: str) -> int:
    m = re.search(r"(\d+) failed", out)
    if m:
        return int(m.group(1))
    if re.search(r"\d+ passed", out):
        return 0
    raise RuntimeError("could not read the pytest result:\n" + out[-3000:])


def check(src: Path, which: str, unit: list[str]) -> int:
    pytest = ["-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly"]
    if which == "unit":
        return _pytest_failed(_run(src, [*pytest, *unit]))
    if which == "conformance":
        out = _run(src, ["-m", "tests.conformance.runner"])
        m = re.search(r"conformance: (\d+) / (\d+) requests passed, (\d+) files raised", out)
        if not m:
            raise RuntimeError("could not read the conformance result:\n" + out[-3000:])
        return int(m.group(2)) - int(m.group(1)) + int(m.group(3))
    out = _run(
        src,
        [*pytest, "tests/differential/test_vs_cedarpy.py"],
        {"CEDAR_DIFF_MINIMIZE_SECONDS": "0"},
    )
    m = re.search(r"(\d+) mismatching cases", out)
    if not m:
        raise RuntimeError("could not read the differential result:\n" + out[-3000:])
    return int(m.group(1))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bug", action="append", choices=[b.name for b in BUGS], help="only these bugs")
    ap.add_argument("--skip", action="append", choices=CHECKS, default=[], help="skip a check")
    ap.add_argument("--baseline", action="store_true", help="also run the checks on the unpatched source")
    ap.add_argument(
        "--unit",
        nargs="+",
        default=["tests/unit"],
        help="the unit test files/folders to run (default: tests/unit)",
    )
    args = ap.parse_args(argv)
    bugs: list[Bug | None] = [b for b in BUGS if not args.bug or b.name in args.bug]
    if args.baseline:
        bugs.insert(0, None)
    checks = [c for c in CHECKS if c not in args.skip]
    rows = []
    escaped = False
    for bug in bugs:
        name = bug.name if bug else "(no bug)"
        with tempfile.TemporaryDirectory(prefix="planted-") as tmp:
            src = plant(bug, Path(tmp))
            counts = {}
            for c in checks:
                counts[c] = check(src, c, args.unit)
                print(f"{name}: {c} -> {counts[c]}", flush=True)
        rows.append((name, counts))
        if bug is not None:
            if counts.get("unit") == 0:
                escaped = True
            if (
                "conformance" in counts
                and "differential" in counts
                and not (counts["conformance"] or counts["differential"])
            ):
                escaped = True
    heads = {
        "unit": "unit tests (failed)",
        "conformance": "conformance (failed requests)",
        "differential": "differential CI (mismatching cases)",
    }
    print()
    print("| bug | " + " | ".join(heads[c] for c in checks) + " |")
    print("|---|" + "---|" * len(checks))
    for name, counts in rows:
        print(f"| {name} | " + " | ".join(str(counts[c]) for c in checks) + " |")
    return 1 if escaped else 0


if __name__ == "__main__":
    sys.exit(main())
