"""Before any model is loaded: a missing dataset root fails with a CLI hint, or is fetched on request."""

from __future__ import annotations

from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from winclip_lit.config.errors import ConfigError


def _fetchers() -> dict:
    from winclip_lit.data import download

    return {
        name[len("download_") :]: getattr(download, name)
        for name in dir(download)
        if name.startswith("download_") and callable(getattr(download, name))
    }


def prepare_dataset(cfg: DictConfig) -> None:
    """Check ``dataset.root`` (and the other required dataset keys); download when ``dataset.download``."""
    missing = sorted(OmegaConf.missing_keys(cfg.dataset))
    if missing:
        key = missing[0] if missing[0].startswith("dataset.") else f"dataset.{missing[0]}"
        raise ConfigError(f"{key} is required for dataset={cfg.dataset.get('name')}; pass {key}=...")
    name, root = cfg.dataset.get("name"), cfg.dataset.get("root")
    download = bool(cfg.dataset.get("download", False))
    if root is None or Path(root).expanduser().is_dir():
        return
    fetchers = _fetchers()
    if not download:
        fetch = " or dataset.download=true to fetch it" if name in fetchers else ""
        raise ConfigError(
            f"dataset root {root} does not exist; pass dataset.root=/path/to/{Path(root).name} "
            f"(or set WINCLIP_DATA to the folder that holds it){fetch}"
        )
    if name not in fetchers:
        from winclip_lit.data.download import MANUAL_SOURCES

        where = MANUAL_SOURCES.get(name, "see docs/data.md for where to get it")
        raise ConfigError(
            f"dataset.download=true is not supported for dataset {name!r}; {where} and pass dataset.root=..."
        )
    try:
        fetchers[name](root)
    except OSError as error:
        raise ConfigError(
            f"could not download {name} into {root} ({error}); download it by hand and pass dataset.root=..."
        ) from error
