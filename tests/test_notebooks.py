"""The notebooks in notebooks/ run top to bottom (tiny configuration, as CI runs them)."""

import os

import pytest

NOTEBOOKS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "notebooks")


@pytest.mark.slow
def test_fine_tuning_notebook_executes(tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("matplotlib")
    monkeypatch.setenv("KERAS_BERT_NOTEBOOK_TINY", "1")  # the kernel inherits this environment
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "3")
    nb = nbformat.read(os.path.join(NOTEBOOKS, "fine_tuning.ipynb"), as_version=4)
    # Executes every cell in a fresh kernel; a cell that raises fails the test with its traceback.
    nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    text = "".join(o.get("text", "") for o in outputs)
    assert "tiny configuration" in text and "test accuracy" in text and "exported:" in text
    assert any("image/png" in o.get("data", {}) for o in outputs)  # the attention heatmap was drawn
