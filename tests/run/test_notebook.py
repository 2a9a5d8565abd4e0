"""The quickstart notebook runs top to bottom (nbclient, kernel of this Python) so it cannot rot."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from run_support import REPO

pytestmark = pytest.mark.slow


def test_quickstart_notebook_executes(tmp_path: Path) -> None:
    notebook = nbformat.read(REPO / "notebooks" / "quickstart.ipynb", as_version=4)
    NotebookClient(
        notebook, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert any("image/png" in o.get("data", {}) for o in outputs)  # the maps figure
    text = "".join(o.get("text", "") for o in outputs)
    assert "154 normal and 88 anomalous prompts" in text and "2-shot" in text
