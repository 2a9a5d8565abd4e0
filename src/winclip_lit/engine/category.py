"""What the model needs for one category: prompts and references, or a checkpoint's saved state.

The one place that sets a category up, for evaluate, train, predict and export.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from winclip_lit.lit_module import CategoryInputs

if TYPE_CHECKING:
    from winclip_lit.data import AnomalyDataModule
    from winclip_lit.engine.checkpoint import Checkpoint


def category_inputs(
    category: str, datamodule: AnomalyDataModule | None = None, checkpoint: Checkpoint | None = None
) -> tuple[CategoryInputs, list[str]]:
    """The inputs of ``category`` and the reference files to record with its results.

    Args:
        category: Category name (also the prompt class name, through the class-name map).
        datamodule: Source of the seeded reference images (None: zero-shot, e.g. predict on a folder).
        checkpoint: A train.py checkpoint whose saved state (text embeddings, reference memory) is used.
    """
    if checkpoint is not None:
        return CategoryInputs(category, state=checkpoint.state(category)), checkpoint.references.get(
            category, []
        )
    if datamodule is None:
        return CategoryInputs(category), []
    files = datamodule.reference_files(category)
    inputs = CategoryInputs(category, datamodule.reference_images(category), [str(f) for f in files])
    return inputs, datamodule.reference_names(category)
