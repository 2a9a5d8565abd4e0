"""Where a run writes and how it is named, captured from Hydra once so that workers need no Hydra."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console

from winclip_lit.config.keys import run_name

console = Console(stderr=True, highlight=False, soft_wrap=True)
"""Where runs print their one-line summaries and notices (stderr, so stdout stays for tables)."""


@dataclass(frozen=True)
class RunContext:
    """Identity of one run (one Hydra job).

    Attributes:
        output_dir: The job's output folder (created).
        job_name: Entry point name (evaluate, train, predict, report, export).
        group: Sweep folder shared by the jobs of one multirun (W&B group), or None for a single run.
        name: Short run name (the job's result-defining overrides in a sweep, else the folder name).
        multirun: Whether the job is part of a sweep.
        overrides: The job's command-line overrides (``key=value``), as Hydra received them.
    """

    output_dir: Path
    job_name: str
    group: str | None = None
    name: str = ""
    multirun: bool = False
    overrides: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (for the DDP worker file)."""
        data = asdict(self)
        data["output_dir"] = str(self.output_dir)
        data["overrides"] = list(self.overrides)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunContext:
        """Inverse of ``to_dict``."""
        return cls(
            **{**data, "output_dir": Path(data["output_dir"]), "overrides": tuple(data.get("overrides", ()))}
        )


def hydra_context() -> RunContext:
    """The current Hydra job's context (call inside a ``@hydra.main`` function)."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    hc = HydraConfig.get()
    output_dir = Path(hc.runtime.output_dir)
    multirun = hc.mode == RunMode.MULTIRUN
    overrides = tuple(str(o) for o in hc.overrides.task)
    group = Path(hc.sweep.dir).name if multirun else None
    name = run_name(overrides) if multirun else output_dir.name
    return RunContext(
        output_dir, hc.job.name, f"{hc.job.name}-{group}" if group else None, name, multirun, overrides
    )


def process_rank() -> int:
    """Global rank of this process from the launcher's environment (0 outside distributed runs)."""
    for key in ("RANK", "SLURM_PROCID", "LOCAL_RANK"):
        if key in os.environ:
            return int(os.environ[key])
    return 0
