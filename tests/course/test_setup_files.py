"""The set-up files agree with each other, and the open command keeps the server private."""
import os

import pytest
import yaml

from ketamine_course.cli import jupyter_lab_command
from ketamine_course.storage.paths import course_root

from conftest import REPO


def pins(lines):
    return {line.split("==")[0].lower(): line.split("==")[1] for line in lines
            if "==" in line and not line.strip().startswith("#")}


def test_environment_yml_pins_the_same_versions_as_requirements():
    requirements = pins(l.strip() for l in (REPO / "requirements.txt").read_text().splitlines())
    environment = yaml.safe_load((REPO / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in environment["dependencies"] if isinstance(d, dict))
    assert pins(pip_section) == requirements
    assert "python=3.11" in environment["dependencies"]


def test_every_requirement_is_pinned():
    for line in (REPO / "requirements.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            assert "==" in line, line


def test_jupyterlab_listens_on_loopback_with_a_token():
    command = jupyter_lab_command(REPO, 8888, open_browser=False)
    assert "--ServerApp.ip=127.0.0.1" in command
    assert not any("token=" in part and part.endswith("=") for part in command), "never an empty token"
    assert not any("disable_check_xsrf" in part or "password=''" in part for part in command)
    assert any(part.endswith("course/00_start_here.ipynb") for part in command)


def test_course_root_is_found_from_inside_the_course(tmp_path, monkeypatch):
    monkeypatch.delenv("KETAMINE_COURSE_ROOT", raising=False)
    assert course_root(REPO / "course") == REPO
    monkeypatch.setenv("KETAMINE_COURSE_ROOT", str(tmp_path))
    assert course_root() == tmp_path


def test_ci_runs_the_readme_test_command():
    readme = (REPO / "README.md").read_text()
    assert "./course.sh open" in readme and "./course.sh test" in readme
    assert "./course.sh test" in (REPO / ".ci" / "run").read_text()
    assert os.access(REPO / "course.sh", os.X_OK)


def test_nbgrader_commands_find_alembic_on_path():
    """nbgrader calls the `alembic` executable: the course's environment must put it on PATH."""
    from ketamine_course.runtime.nbgrader import environment_with_bin_on_path
    import shutil

    assert shutil.which("alembic", path=environment_with_bin_on_path()["PATH"])


def test_nbgrader_extensions_are_enabled():
    import subprocess
    import sys
    from pathlib import Path

    jupyter = str(Path(sys.executable).parent / "jupyter")
    server = subprocess.run([jupyter, "server", "extension", "list"], capture_output=True, text=True)
    listing = server.stdout + server.stderr
    for extension in ("formgrader", "assignment_list", "validate_assignment"):
        line = next(l for l in listing.splitlines() if f"nbgrader.server_extensions.{extension}" in l)
        assert "enabled" in line
    lab = subprocess.run([jupyter, "labextension", "list"], capture_output=True, text=True)
    line = next(l for l in (lab.stdout + lab.stderr).splitlines() if "@jupyter/nbgrader" in l)
    assert "enabled" in line and "OK" in line, "the nbgrader JupyterLab extension loads with this JupyterLab"


def test_no_test_module_imports_another():
    """Helpers live in conftest.py and in plainly named helper modules (lab_server.py, lab_browser.py,
    shared_course.py), never in a test module: importing one runs its module-level code again, under
    another name, and drags its fixtures and tests along."""
    import ast

    tests = REPO / "tests"
    test_modules = {path.stem for path in tests.rglob("test_*.py")}
    assert len(test_modules) == len(list(tests.rglob("test_*.py"))), "two test modules share a name"
    imports = {}
    for path in sorted(tests.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            else:
                continue
            found = {part for name in names for part in name.split(".") if part in test_modules}
            if found:
                imports.setdefault(str(path.relative_to(tests)), set()).update(found)
    assert imports == {}, f"test modules imported (move what they share to conftest.py or a helper module): {imports}"


KERNEL_TESTS = '''
import subprocess
import sys

import nbformat
import pytest
from nbclient import NotebookClient

RUN_A_CELL = (
    "import nbformat; from nbclient import NotebookClient; "
    "NotebookClient(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell('1 + 1')]), kernel_name='python3').execute()")


def test_unmarked_in_process():
    exec(RUN_A_CELL)


def test_unmarked_through_a_command():
    subprocess.run([sys.executable, "-c", RUN_A_CELL], check=True, capture_output=True)


@pytest.fixture(scope="module")
def kernel_in_a_fixture():
    exec(RUN_A_CELL)


def test_unmarked_through_a_fixture(kernel_in_a_fixture):
    pass


@pytest.mark.kernel
def test_marked():
    exec(RUN_A_CELL)


def test_without_a_kernel():
    import ketamine_course.widgets  # noqa: F401
'''


@pytest.mark.kernel
def test_a_test_that_starts_a_kernel_without_the_kernel_marker_fails(tmp_path):
    """The check in conftest.py, on a small suite of its own."""
    import subprocess
    import sys

    (tmp_path / "test_kernels.py").write_text(KERNEL_TESTS, encoding="utf-8")
    (tmp_path / "pytest.ini").write_text("[pytest]\nmarkers =\n    kernel: starts a kernel\n", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "tests"), str(REPO), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run([sys.executable, "-m", "pytest", "-p", "conftest", "-p", "no:cacheprovider", "-rA",
                             "--strict-markers", "test_kernels.py"], cwd=tmp_path, env=env, capture_output=True,
                            text=True, timeout=300)
    outcomes = {line.split(" ")[1].split("::")[-1]: line.split(" ")[0] for line in result.stdout.splitlines()
                if line.startswith(("PASSED ", "FAILED ", "ERROR "))}
    assert outcomes == {"test_unmarked_in_process": "FAILED", "test_unmarked_through_a_command": "FAILED",
                        "test_unmarked_through_a_fixture": "ERROR", "test_marked": "PASSED",
                        "test_without_a_kernel": "PASSED"}, result.stdout[-3000:]
    assert "test_unmarked_in_process started a Jupyter kernel but is not marked `kernel`" in result.stdout
