"""Process launching for multi-device runs that works inside Hydra sweeps.

Lightning's own DDP launcher re-executes ``sys.argv``, which under ``-m`` re-runs the whole sweep in
every child. Instead, this module starts the extra ranks itself: ``python -m winclip_lit.engine.distributed
<config.yaml>`` with ``LOCAL_RANK``/``WORLD_SIZE``/``MASTER_*`` set, each given the parent's resolved
job config; Lightning sees ``LOCAL_RANK`` and joins them (``creates_processes_externally``). The parent
is rank 0. This works for single runs and for every job of a sweep (basic or joblib launcher).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import torch
import yaml
from omegaconf import DictConfig, OmegaConf

from winclip_lit.engine.context import RunContext
from winclip_lit.engine.devices import num_processes
from winclip_lit.engine.errors import ConfigError

Task = Callable[[DictConfig, RunContext], Any]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _externally_launched() -> bool:
    """Whether a scheduler (torchrun, SLURM with several tasks) already created the ranks."""
    return "LOCAL_RANK" in os.environ or int(os.environ.get("SLURM_NTASKS", "1")) > 1


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _destroy_process_group() -> None:
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()


def _watch(children: list[subprocess.Popen], done: threading.Event) -> None:
    """Stop the whole run when a child rank dies, instead of leaving rank 0 waiting in a collective."""
    while not done.wait(1.0):
        if any(child.poll() not in (None, 0) for child in children):
            for child in children:
                if child.poll() is None:
                    child.kill()
            os.kill(os.getpid(), signal.SIGTERM)
            return


def launch(task: Task, cfg: DictConfig, run: RunContext) -> Any:
    """Run ``task(cfg, run)`` on every rank that ``cfg.trainer`` asks for; returns rank 0's result.

    Args:
        task: A module-level function (children import it by name).
        cfg: The job's config (resolved here so children need no Hydra).
        run: The job's context.
    """
    world = num_processes(cfg.trainer) * int(cfg.trainer.get("num_nodes", 1))
    if world == 1 or _externally_launched():
        return task(cfg, run)
    if str(cfg.trainer.strategy) != "ddp":
        raise ConfigError(f"trainer.devices={world} needs trainer.strategy=ddp (use trainer=ddp)")
    if int(cfg.trainer.get("num_nodes", 1)) != 1:
        raise ConfigError("multi-node runs need a scheduler that starts the ranks (SLURM, torchrun)")
    spec = {
        "task": f"{task.__module__}:{task.__name__}",
        "config": OmegaConf.to_container(cfg, resolve=True),
        "run": run.to_dict(),
    }
    worker_file = run.output_dir / ".ddp" / "job.yaml"
    worker_file.parent.mkdir(parents=True, exist_ok=True)
    worker_file.write_text(yaml.safe_dump(spec, sort_keys=False))
    env = {
        "MASTER_ADDR": "127.0.0.1",
        "MASTER_PORT": str(_free_port()),
        "WORLD_SIZE": str(world),
        "NODE_RANK": "0",
    }
    children = [
        subprocess.Popen(
            [sys.executable, "-m", "winclip_lit.engine.distributed", str(worker_file)],
            env={**os.environ, **env, "LOCAL_RANK": str(rank), "RANK": str(rank)},
        )
        for rank in range(1, world)
    ]
    done = threading.Event()
    threading.Thread(target=_watch, args=(children, done), daemon=True).start()
    try:
        with _environment({**env, "LOCAL_RANK": "0", "RANK": "0"}):
            result = task(cfg, run)
    except BaseException:
        for child in children:
            child.kill()
        raise
    finally:
        done.set()
        _destroy_process_group()
    failed = [code for code in (child.wait() for child in children) if code != 0]
    if failed:
        raise RuntimeError(f"{len(failed)} DDP worker process(es) failed (exit codes {failed})")
    return result


def _worker(worker_file: str) -> None:
    """Entry of a child rank: load the parent's resolved job and run its task."""
    import importlib
    import logging

    logging.basicConfig(
        filename=Path(worker_file).with_name(f"rank{os.environ.get('LOCAL_RANK', 'x')}.log"),
        level=logging.INFO,
    )
    spec = yaml.safe_load(Path(worker_file).read_text())
    module, name = spec["task"].split(":")
    task = getattr(importlib.import_module(module), name)
    task(OmegaConf.create(spec["config"]), RunContext.from_dict(spec["run"]))
    _destroy_process_group()


@contextlib.contextmanager
def gpu_slot(lock_dir: Path, num_gpus: int, poll_seconds: float = 2.0) -> Iterator[int]:
    """Hold one of ``num_gpus`` GPUs exclusively among concurrent jobs (file locks in ``lock_dir``).

    Used when a parallel launcher runs several one-GPU jobs at once: each job gets a GPU of its own,
    whatever its job number and whichever worker process runs it.
    """
    lock_dir.mkdir(parents=True, exist_ok=True)
    while True:
        for index in range(num_gpus):
            handle = open(lock_dir / f"gpu{index}.lock", "w")  # noqa: SIM115 - held for the whole job
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                handle.close()
                continue
            try:
                yield index
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
                handle.close()
            return
        time.sleep(poll_seconds)


if __name__ == "__main__":
    _worker(sys.argv[1])
