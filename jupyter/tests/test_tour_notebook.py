"""notebooks/tour.ipynb executed end to end by nbclient (what `jupyter nbconvert --execute` runs),
and its outputs checked: no error, the numbers there, every picture a whole PNG."""

import base64
import re

import nbformat
from nbclient import NotebookClient

from conftest import REPO
from pngcheck import decode_png

NOTEBOOK = REPO / "notebooks" / "tour.ipynb"
TOUR = REPO / "scripts" / "tour.vae"
NUMBER = r"-?\d+\.\d+"


def code_cells(notebook):
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def test_the_tour_runs_end_to_end_with_its_numbers_and_pictures():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(notebook, kernel_name="vaesh", timeout=300, resources={"metadata": {"path": str(REPO)}}).execute()
    cells = code_cells(notebook)
    outputs = [output for cell in cells for output in cell.outputs]
    assert not [output for output in outputs if output.output_type == "error"]
    assert all(cell.outputs for cell in cells), "every code cell shows something"
    assert [cell.execution_count for cell in cells] == list(range(1, len(cells) + 1))

    text = "".join(output.text for output in outputs if output.output_type == "stream" and output.name == "stdout")
    assert not [output for output in outputs if output.output_type == "stream" and output.name == "stderr"]
    for pattern in [rf"recon = E_q\[log p\(x\|z\)\] = {NUMBER} ± {NUMBER} nats/example", rf"KL\(q\(z\|x\) ‖ p\(z\)\) += +{NUMBER} ± {NUMBER} nats/example",
                    rf"log p\(x\) ≈ {NUMBER}\s+nats\s+per\s+image", rf"^ +2 +{NUMBER} +{NUMBER}",
                    rf"ELBO +recon − KL +{NUMBER}"]:
        assert re.search(pattern, text, re.MULTILINE), pattern
    fell = re.search(rf"The\s+test\s+loss\s+fell\s+from\s+({NUMBER})\s+to\s+({NUMBER})\s+nats\s+per\s+image", text)
    assert fell and float(fell.group(1)) > float(fell.group(2)) > 0

    pictures = [output for output in outputs if output.output_type == "display_data"]
    sizes = []
    for picture in pictures:
        width, height, rows = decode_png(base64.b64decode(picture.data["image/png"]))
        assert picture.data["text/plain"].endswith(f"{width}×{height} pixels)")
        assert len({value for row in rows for value in row}) > 2, "a picture, not a blank"
        sizes.append((width, height))
    # curves' three charts; 16 samples in two rows of eight; 8 test images above their
    # reconstructions; the test codes in colour (latent).
    assert sizes == [(900, 266), (242, 62), (242, 62), (604, 532)]


def test_the_notebook_runs_the_commands_of_tour_vae_in_order():
    """The notebook is the tour, not a copy drifting away from it: every command of
    scripts/tour.vae, in order; its plain `echo` lines became the markdown."""
    def commands(lines):
        return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")
                and not (line.startswith("echo ") and "{" not in line)]
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    in_notebook = commands("\n".join(cell.source for cell in code_cells(notebook)).splitlines())
    assert in_notebook == commands(TOUR.read_text().splitlines())


def test_the_notebook_is_committed_without_outputs():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(notebook)
    assert notebook.metadata.kernelspec.name == "vaesh"
    assert all(not cell.outputs and cell.execution_count is None for cell in code_cells(notebook))
