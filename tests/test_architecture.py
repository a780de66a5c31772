"""The package's floors (docs/architecture.md): every import points down, and each floor keeps its promises.

One test reads every module of the package and checks each import of the course's own code against
the floor plan; others check what each floor may import from outside, that importing any module
draws no plot library, that notebooks call only `ui` and hidden tests only `grading`, and that the
module paths of release 0.1 still import.
"""

from __future__ import annotations

import ast
import importlib
import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import ketamine_course

from conftest import REPO

PACKAGE = REPO / "ketamine_course"

# Lower number, lower floor. A module imports from lower floors and from its own subpackage only.
FLOORS = {
    "core": 0,
    "content": 1,
    "storage": 2,
    "runtime": 3,
    "widgets": 4,
    "selfstudy": 5,
    "instructor": 5,
    "publish": 5,
    "workshop": 5,
    "ui": 6,
    "grading": 6,
    "cli": 6,
}

# What each floor may import from outside the standard library (None: anything).
OUTSIDE_ALLOWED = {
    "core": {"pydantic", "cryptography"},
    "content": {"pydantic", "yaml"},
    "storage": {"platformdirs", "filelock"},
    "runtime": {"nbgrader", "traitlets", "tqdm", "psutil"},
    "grading": set(),
}
NEVER_BELOW_WIDGETS = {"ipywidgets", "IPython", "matplotlib", "numpy"}

# Files, plots and processes are not for the pure core.
CORE_FORBIDDEN_CALLS = {"open", "read_text", "write_text", "read_bytes", "write_bytes", "mkdir", "unlink", "glob"}


def modules() -> list:
    """Every module of the package, as (dotted name, path)."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(REPO).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found.append((name, path))
    return found


def floor_of(dotted: str) -> str | None:
    """'ketamine_course.widgets.pk_explorer' -> 'widgets'; the package itself -> None."""
    parts = dotted.split(".")
    return parts[1] if len(parts) > 1 else None


def is_module(dotted: str) -> bool:
    path = REPO.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def imports_of(path: Path) -> list:
    """(imported module, line) for every import in the file, at any depth; relative imports made absolute."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path.name}:{node.lineno} uses a relative import; the course imports absolutely"
            base = node.module or ""
            found.append((base, node.lineno))
            if base == "ketamine_course" or base.startswith("ketamine_course."):
                found += [
                    (f"{base}.{alias.name}", node.lineno) for alias in node.names if is_module(f"{base}.{alias.name}")
                ]
    return found


MODULES = modules()


def test_every_module_is_on_a_known_floor():
    for name, path in MODULES:
        floor = floor_of(name)
        assert floor is None or floor in FLOORS, (
            f"{path.relative_to(REPO)} is on no floor of the plan: add it to FLOORS"
        )


@pytest.mark.parametrize("name, path", MODULES, ids=[name for name, _ in MODULES])
def test_imports_point_down(name, path):
    own = floor_of(name)
    for target, line in imports_of(path):
        if not (target == "ketamine_course" or target.startswith("ketamine_course.")):
            continue
        other = floor_of(target)
        where = f"{path.relative_to(REPO)}:{line} imports {target}"
        if own is None:  # the package's __init__ imports nothing of the course
            raise AssertionError(f"{where}: the package's __init__ must stay light")
        if other is None:
            raise AssertionError(f"{where}: import the module itself, not the package")
        if other == own:
            continue
        assert FLOORS[other] < FLOORS[own], f"{where}: {other} is not below {own}"


@pytest.mark.parametrize("name, path", MODULES, ids=[name for name, _ in MODULES])
def test_each_floor_imports_only_what_it_may_from_outside(name, path):
    own = floor_of(name)
    allowed = OUTSIDE_ALLOWED.get(own)
    for target, line in imports_of(path):
        top = target.split(".")[0]
        if top in ("ketamine_course", "__future__") or top in sys.stdlib_module_names:
            continue
        where = f"{path.relative_to(REPO)}:{line} imports {target}"
        if own is not None and FLOORS[own] < FLOORS["widgets"]:
            assert top not in NEVER_BELOW_WIDGETS, f"{where}: below widgets nothing draws or shows"
        if allowed is not None:
            assert top in allowed, f"{where}: {own} may import only {sorted(allowed) or 'the standard library'}"


@pytest.mark.parametrize(
    "name, path",
    [(n, p) for n, p in MODULES if floor_of(n) == "core"],
    ids=[n for n, _ in MODULES if floor_of(n) == "core"],
)
def test_the_core_reads_and_writes_no_files(name, path):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            called = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            assert called not in CORE_FORBIDDEN_CALLS, f"{path.name}:{node.lineno} calls {called}(): the core is pure"


def test_the_command_modules_are_below_the_command_line():
    from ketamine_course import cli

    for module in cli.COMMAND_MODULES:
        assert FLOORS[module.split(".")[0]] < FLOORS["cli"]
        assert hasattr(importlib.import_module(f"ketamine_course.{module}"), "add_commands"), module


def test_importing_any_module_loads_no_plot_library_and_grading_no_widgets():
    """Plots load only when drawn: importing every module leaves matplotlib (and numpy) unloaded. Grading
    runs under nbgrader without a browser, so it does not load ipywidgets either."""
    names = [name for name, _ in MODULES if not name.endswith("jupyterhub_config")]
    code = (
        "import importlib, sys\n"
        "importlib.import_module('ketamine_course.grading')\n"
        "grading_alone = sorted(m for m in ('ipywidgets', 'matplotlib', 'numpy', 'IPython') if m in sys.modules)\n"
        f"for name in {names!r}: importlib.import_module(name)\n"
        "print(grading_alone, sorted(m for m in ('matplotlib', 'numpy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO).stdout
    assert out.strip() == "[] []"


def test_every_outside_import_is_a_declared_dependency():
    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    names = {
        d.split("[")[0].split("<")[0].split(">")[0].split("=")[0].strip().lower()
        for d in declared["dependencies"]
        + [d for group in declared.get("optional-dependencies", {}).values() for d in group]
    }
    import_to_distribution = {
        "yaml": "pyyaml",
        "IPython": "ipython",
        "jupyterhub_idle_culler": "jupyterhub-idle-culler",
        "ltiauthenticator": "jupyterhub-ltiauthenticator",
        "jwt": "pyjwt",
    }
    for name, path in MODULES:
        for target, line in imports_of(path):
            top = target.split(".")[0]
            if top in ("ketamine_course", "__future__") or top in sys.stdlib_module_names:
                continue
            distribution = import_to_distribution.get(top, top).lower()
            assert distribution in names, f"{path.relative_to(REPO)}:{line} imports {top}, not in pyproject.toml"


def code_cells(notebook: Path) -> list:
    return [cell for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"] if cell["cell_type"] == "code"]


def course_imports(source: str) -> set:
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("ketamine_course"):
            found |= {
                f"{node.module}.{a.name}" if node.module == "ketamine_course" else node.module for a in node.names
            }
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("ketamine_course")}
    return found


NOTEBOOKS = sorted(
    [*REPO.glob("course/*.ipynb"), *REPO.glob("solutions/*/*.ipynb"), *REPO.glob("assignments/*/*.ipynb")]
)


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[str(p.relative_to(REPO)) for p in NOTEBOOKS])
def test_notebooks_call_only_ui_and_hidden_tests_only_grading(notebook):
    allowed = (
        {"ketamine_course.ui"} if notebook.parts[-2] == "course" else {"ketamine_course.ui", "ketamine_course.grading"}
    )
    for cell in code_cells(notebook):
        source = "".join(cell["source"])
        visible, _, hidden = source.partition("### BEGIN HIDDEN TESTS")
        assert course_imports(visible) <= allowed, f"{notebook.name}: {source[:80]!r}"
        hidden = hidden.partition("### END HIDDEN TESTS")[0]
        if hidden:
            called = {
                ast.unparse(node.func.value)
                for node in ast.walk(ast.parse(hidden))
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            }
            assert called <= {"grading"}, f"{notebook.name}: hidden tests call {called - {'grading'}}"
            assert not course_imports(hidden) - {"ketamine_course.grading"}


@pytest.mark.parametrize("old, new", sorted(ketamine_course.MOVED.items()))
def test_the_module_paths_of_release_0_1_still_import(old, new):
    moved = importlib.import_module(f"ketamine_course.{old}")
    assert moved is importlib.import_module(f"ketamine_course.{new}")
    assert moved.__spec__.name == f"ketamine_course.{new}"


def test_an_old_style_import_line_still_runs():
    code = "from ketamine_course import grading, monitoring_sim, ui; print(monitoring_sim.step_card.__module__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO).stdout
    assert out.strip() == "ketamine_course.widgets.monitoring_explorer"


def test_the_tests_mirror_the_package():
    """A test module sits in the folder of the floor it tests (tests/core, tests/widgets, ...); tests/course
    holds the checks of the whole course, and this file, which checks every floor, stays at the top."""
    tests = REPO / "tests"
    folders = {p.name for p in tests.iterdir() if p.is_dir() and p.name not in ("fixtures", "__pycache__")}
    assert folders <= set(FLOORS) | {"course"}, (
        f"test folders with no floor: {sorted(folders - set(FLOORS) - {'course'})}"
    )
    assert [p.name for p in tests.glob("test_*.py")] == ["test_architecture.py"]


# Standard-library modules that exist on POSIX systems only (Windows has none of them).
POSIX_ONLY = {
    "fcntl",
    "pwd",
    "grp",
    "termios",
    "tty",
    "pty",
    "resource",
    "posix",
    "syslog",
    "crypt",
    "spwd",
    "nis",
    "readline",
}
# The workshop server is Linux-only (Unix accounts, JupyterHub); the rest of the package runs on every laptop.
LEARNER_ENTRY_POINTS = ["ketamine_course.ui", "ketamine_course.grading", "ketamine_course.cli"]


def learner_modules() -> dict:
    """Every module of the package a learner's laptop loads, with the module that first leads to it: the
    imports of ui, grading and cli followed to the end, with the command modules cli loads everywhere."""
    from ketamine_course import cli

    paths = {name: path for name, path in MODULES}
    everywhere = [f"ketamine_course.{m}" for m in cli.COMMAND_MODULES if m not in cli.POSIX_ONLY_COMMAND_MODULES]
    reached = dict.fromkeys(LEARNER_ENTRY_POINTS, "an entry point")
    reached.update(dict.fromkeys(everywhere, "ketamine_course.cli"))
    waiting = list(reached)
    while waiting:
        name = waiting.pop()
        for target, _ in imports_of(paths[name]):
            if target in paths and target not in reached:
                reached[target] = name
                waiting.append(target)
    return reached


def test_nothing_a_learner_runs_is_posix_only():
    """The course runs on Windows too: no module on a learner's path imports a POSIX-only module, at any
    depth, and none of them loads the workshop server."""
    paths = {name: path for name, path in MODULES}
    reached = learner_modules()
    assert {"ketamine_course.storage.json_files", "ketamine_course.selfstudy.grade_my_work"} <= set(reached)
    workshop = sorted(f"{name} (from {by})" for name, by in reached.items() if floor_of(name) == "workshop")
    assert not workshop, f"learner modules load the Linux-only workshop server: {workshop}"
    for name in reached:
        for target, line in imports_of(paths[name]):
            assert target.split(".")[0] not in POSIX_ONLY, (
                f"{paths[name].relative_to(REPO)}:{line} imports {target}, which Windows does not have"
            )
