"""Committed notebooks: stored clean, thin and hidden where they only build widgets; each runs top to bottom."""
import re
import shutil

import nbformat
import pytest
from nbclient import NotebookClient

from ketamine_course import content

from conftest import REPO, all_notebooks

NOTEBOOKS = all_notebooks()
ids = [str(p.relative_to(REPO)) for p in NOTEBOOKS]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_stored_without_outputs_and_with_generic_kernel(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.kernelspec.name == "python3"
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None, f"{path.name}: outputs committed"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_code_is_hidden_from_learners(path):
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type == "code":
            assert cell.metadata.get("jupyter", {}).get("source_hidden"), f"{path.name}: visible code cell"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_every_widget_call_names_existing_content(path):
    source = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")
    for qid in re.findall(r'ui\.quiz\("([^"]+)"\)', source):
        content.question(qid)
    for iid in re.findall(r'ui\.item\("([^"]+)"\)', source):
        content.graded_item(iid)
    for vid in re.findall(r'ui\.vignette\("([^"]+)"\)', source):
        content.vignette(vid)


@pytest.mark.kernel
@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_notebook_runs_top_to_bottom(path, tmp_path):
    work = tmp_path / path.parent.name
    shutil.copytree(path.parent, work, ignore=shutil.ignore_patterns("answers*.json", ".answers*"))
    nb = nbformat.read(work / path.name, as_version=4)
    client = NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(work)}})
    client.execute()
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            assert output.output_type != "error", f"{path.name}: {output.get('ename')}: {output.get('evalue')}"
            assert not (output.output_type == "stream" and output.name == "stderr"), \
                f"{path.name}: wrote to stderr (nbgrader scores such cells 0): {output.text[:300]}"
