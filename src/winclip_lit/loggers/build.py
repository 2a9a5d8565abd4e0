"""Lightning loggers built from ``conf/logger/`` (``_target_`` + arguments, several at once), the W&B
offline fallback, and what the run sends them besides ``self.log`` values: config, results table,
dashboard panels and artifacts.

A new logger is one YAML file in ``conf/logger/`` naming any ``lightning.pytorch.loggers.Logger``
subclass (or a factory returning one); the run fills in where it saves (``save_dir``) and, for W&B, the
sweep group, run name and job type.
"""

from __future__ import annotations

import contextlib
import inspect
import netrc
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from omegaconf import DictConfig, OmegaConf

from winclip_lit.config.errors import ConfigError
from winclip_lit.engine.context import RunContext, console

OFFLINE_NOTICE = "W&B: {reason}, logging offline; upload later with `wandb sync {dir}`"


def wandb_logged_in() -> bool:
    """Whether W&B credentials exist (API key in the environment or ~/.netrc); no network access."""
    if os.environ.get("WANDB_API_KEY") or os.environ.get("WANDB_IDENTITY_TOKEN_FILE"):
        return True
    host = urlparse(os.environ.get("WANDB_BASE_URL", "https://api.wandb.ai")).hostname
    try:
        return netrc.netrc().authenticators(host) is not None
    except (OSError, netrc.NetrcParseError):
        return False


def wandb_mode(requested: str) -> tuple[str, str | None]:
    """The W&B mode to use and, when falling back to offline, the reason to print."""
    forced = os.environ.get("WANDB_MODE")
    if forced:
        return forced, None
    if requested != "auto":
        return requested, None
    if wandb_logged_in():
        return "online", None
    return "offline", "not logged in"


def wandb_logger(
    project: str = "winclip-lit",
    entity: str | None = None,
    mode: str = "auto",
    tags: Sequence[str] = (),
    save_dir: str | None = None,
    **kwargs: Any,
) -> Any:
    """A Lightning ``WandbLogger`` whose run has started; offline (with one line) when W&B is unreachable.

    Args:
        project: W&B project.
        entity: W&B entity (user or team); None = the account's default.
        mode: ``auto`` (online when logged in, else offline), ``online``, ``offline`` or ``disabled``.
        tags: Run tags.
        save_dir: Where the run's files go (the run folder).
        **kwargs: More ``wandb.init`` arguments (``group``, ``name``, ``job_type``, ...).
    """
    import wandb
    from lightning.pytorch.loggers import WandbLogger

    mode, reason = wandb_mode(str(mode))
    init = dict(
        project=project,
        entity=entity,
        tags=list(tags or []),
        save_dir=save_dir,
        reinit="create_new",
        settings=wandb.Settings(silent=True),
        **kwargs,
    )
    logger = WandbLogger(mode=mode, **init)
    try:
        run = logger.experiment
    except Exception as error:  # any failure to reach W&B: keep the run, go offline
        if mode != "online":
            raise
        reason = f"online start failed ({type(error).__name__}: {' '.join(str(error).split())[:120]})"
        logger = WandbLogger(mode="offline", **init)
        run = logger.experiment
    if reason:
        console.print(OFFLINE_NOTICE.format(reason=reason, dir=Path(run.dir).parent if run.dir else save_dir))
    elif mode == "online":
        console.print(f"W&B run: {run.url}")
    return logger


def _accepts(target: Any, name: str) -> bool:
    try:
        parameters = inspect.signature(target).parameters
    except (TypeError, ValueError):
        return False
    return name in parameters or any(p.kind is p.VAR_KEYWORD for p in parameters.values())


def build_loggers(specs: DictConfig | None, run: RunContext) -> list[Any]:
    """Instantiate every logger of the ``logger`` node (a mapping name -> ``_target_`` config; empty: none)."""
    from hydra.utils import get_method, instantiate

    specs = specs or {}
    loggers = []
    for name, spec in specs.items():
        if not OmegaConf.is_dict(spec) or "_target_" not in spec:
            raise ConfigError(
                f"logger.{name} has no _target_; a logger config names a Lightning logger class "
                "(see conf/logger/csv.yaml)"
            )
        spec = OmegaConf.to_container(spec, resolve=True)
        try:
            target = get_method(spec["_target_"])
        except Exception as error:
            raise ConfigError(
                f"logger.{name}._target_={spec['_target_']} cannot be imported ({error})"
            ) from None
        extra: dict[str, Any] = {}
        wandb_target = "wandb" in spec["_target_"].lower()
        if "mlflow" in spec["_target_"].lower():
            from winclip_lit.loggers.mlflow import mlflow_arguments

            if not spec.get("tracking_uri"):  # the local file store; MLflow 3 asks for an opt-in to it
                os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
            extra.update(mlflow_arguments(spec, run))
        elif _accepts(target, "save_dir") and "save_dir" not in spec:
            extra["save_dir"] = str(run.output_dir)
        if wandb_target:
            extra.update({"group": run.group, "name": run.name, "job_type": run.job_name})
        try:
            loggers.append(instantiate({**spec, **extra}))
        except ModuleNotFoundError as error:
            package = error.name or name
            raise ConfigError(
                f"logger={name} needs the `{package}` package: pip install {package} "
                '(or pip install "winclip-lit[loggers]"), or choose another logger'
            ) from None
    return loggers


def log_config(loggers: Sequence[Any], config: Mapping[str, Any]) -> None:
    """Send the resolved config to every logger as hyper-parameters."""
    for logger in loggers:
        logger.log_hyperparams(dict(config))


def log_mean(loggers: Sequence[Any], mean: Mapping[str, float | None], step: int = 0) -> None:
    """Log ``mean/<metric>`` to every logger (W&B: also the run summary)."""
    values = {f"mean/{k}": v for k, v in mean.items() if v is not None}
    for logger in loggers:
        logger.log_metrics(values, step=step)
        run = _wandb_run(logger)
        if run is not None:
            run.summary.update(values)


def _wandb_run(logger: Any) -> Any | None:
    """The W&B run behind a logger, or None for other loggers."""
    if type(logger).__name__ != "WandbLogger":
        return None
    return logger.experiment


def wandb_runs(loggers: Sequence[Any]) -> list[Any]:
    """The W&B runs among ``loggers``."""
    return [run for run in (_wandb_run(logger) for logger in loggers) if run is not None]


def log_artifacts(loggers: Sequence[Any], name: str, kind: str, files: Sequence[Path]) -> list[Any]:
    """Log ``files`` (those that exist) as one W&B artifact of each W&B run; returns the artifacts."""
    existing = [f for f in files if Path(f).is_file()]
    runs = wandb_runs(loggers)
    if not existing or not runs:
        return []
    import wandb

    logged = []
    for run in runs:
        artifact = wandb.Artifact(name=name, type=kind)
        for path in existing:
            artifact.add_file(str(path))
        logged.append(run.log_artifact(artifact))
    return logged


LOGGER_SET_ENVIRONMENT = ("MLFLOW_TRACKING_URI",)
"""Variables a logger sets in ``os.environ`` for its own subprocesses (``mlflow.set_tracking_uri``, called by
Lightning's ``MLFlowLogger``). A session puts them back as they were, so that the next run in the same
process (a notebook, Hydra's basic launcher) resolves ``${oc.env:MLFLOW_TRACKING_URI,null}`` to the user's
value, not to the previous run's store."""


@contextlib.contextmanager
def logging_session(loggers: Sequence[Any]) -> Iterator[Sequence[Any]]:
    """Finalise every logger when the block ends; a W&B run is marked failed when an error escapes.
    Environment variables that the loggers set (``LOGGER_SET_ENVIRONMENT``) are restored."""
    saved = {name: os.environ.get(name) for name in LOGGER_SET_ENVIRONMENT}
    try:
        yield loggers
    except BaseException:
        _finish(loggers, failed=True)
        raise
    else:
        _finish(loggers, failed=False)
    finally:
        _restore_environment(saved)


def _restore_environment(saved: Mapping[str, str | None]) -> None:
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def _finish(loggers: Sequence[Any], failed: bool) -> None:
    for logger in loggers:
        with contextlib.suppress(Exception):
            logger.finalize("failed" if failed else "success")
        close = getattr(logger, "close", None)  # loggers that stay open across trainer.test calls
        if callable(close):
            with contextlib.suppress(Exception):
                close("failed" if failed else "success")
        run = _wandb_run(logger)
        if run is not None:
            with contextlib.suppress(Exception):
                run.finish(exit_code=1 if failed else 0)
