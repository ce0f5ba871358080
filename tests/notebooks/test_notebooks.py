"""The notebooks run top to bottom in the project's kernel, and are committed clean.

Each notebook is executed from an in-memory copy (the committed file is never rewritten)
with notebooks/ as the working directory, as `jupyter lab notebooks/` would run it.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from router.privacy import scan_text
from router.training.data import default_router_data

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
NOTEBOOK_FILES = sorted(NOTEBOOKS.glob("*.ipynb"))
#: Folders that only exist on one machine; a committed notebook must not mention them.
MACHINE_PATHS = re.compile(r"(?<![\w.])/(?:root|work|home|tmp)\b")
#: Appended to the executed copy: which Python the kernel really runs.
WHICH_PYTHON = "import sys; print(sys.executable)"


def execute(name: str, monkeypatch: pytest.MonkeyPatch) -> tuple[list[str], int]:
    """Run a notebook; returns every text output and the number of figures drawn."""
    # The venv's kernelspec first, whatever kernels the user installed elsewhere.
    monkeypatch.setenv("JUPYTER_PATH", str(Path(sys.prefix) / "share" / "jupyter"))
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell(WHICH_PYTHON))
    client = NotebookClient(
        notebook, kernel_name="python3", timeout=600, resources={"metadata": {"path": str(NOTEBOOKS)}}
    )
    client.execute()  # raises CellExecutionError, with the cell and traceback, on any error
    texts, figures = [], 0
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            assert output.output_type != "error", output
            if output.output_type == "stream" and output.name == "stdout":
                texts.append(output.text)
            elif "data" in output:
                figures += "image/png" in output.data
                texts.append(output.data.get("text/plain", ""))
    assert texts[-1].strip() == sys.executable, "the notebook ran in another Python than the project's venv"
    return texts, figures


def test_there_are_notebooks():
    assert {path.name for path in NOTEBOOK_FILES} >= {"router_exploration.ipynb", "knowledge_exploration.ipynb"}


@pytest.mark.parametrize("path", NOTEBOOK_FILES, ids=lambda path: path.name)
def test_committed_clean(path: Path):
    """No outputs (so no stale errors or local paths), no machine paths, no secrets in the source."""
    text = path.read_text(encoding="utf-8")
    notebook = nbformat.reads(text, as_version=4)
    nbformat.validate(notebook)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{path.name}: strip the outputs"
    assert not MACHINE_PATHS.findall(text), f"{path.name} mentions a machine path"
    secrets = [f for f in scan_text(text) if f.kind in ("secret", "private_key")]
    assert not secrets, f"{path.name} holds something that looks like a secret: {secrets}"


@pytest.mark.skipif(not default_router_data().exists(), reason=f"shared router data not found at "
                    f"{default_router_data()} (set SHARED_DATA_DIR)")
def test_router_exploration_runs(monkeypatch: pytest.MonkeyPatch):
    texts, figures = execute("router_exploration.ipynb", monkeypatch)
    output = "".join(texts)
    assert figures == 3
    assert "private (e-mail address, phone number found) → local only" in output
    assert "NIK (Indonesian ID number)" in output
    assert "jane.doe" not in output  # findings are shown masked
    cpt50 = [float(value) for value in re.findall(r"CPT\(50%\)\s+([\d.]+)%", output)]
    assert len(cpt50) == 3 and cpt50[0] < cpt50[2]  # shipped weights beat the random router
    assert re.search(r"70% local / 30% GPT-4.1 mini\s+\$\s*\d+\.\d{3} per 1,000 messages", output)
    feedback = dict(re.findall(r"feedback, (router|random)\s+CPT50.+APGR ([\d.]+)", output))
    assert "300 labelled prompts from the stand-in file" in output
    assert float(feedback["router"]) > float(feedback["random"])  # a feedback file's APGR beside random


def test_knowledge_exploration_runs(monkeypatch: pytest.MonkeyPatch):
    texts, figures = execute("knowledge_exploration.ipynb", monkeypatch)
    output = "".join(texts)
    assert figures == 1
    assert "Indexed CAD.pdf: 7 pages" in output and "already in this project's knowledge" in output
    assert re.search(r"answer on page 2\)\n\s+1\. CAD\.pdf p\. 2\s+score 0\.\d+", output)
    assert "nothing relevant found" in output
    assert "scratch folder removed: True" in output
