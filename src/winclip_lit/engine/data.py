"""Before any model is loaded: a missing dataset root fails with a CLI hint, or is fetched on request."""

from __future__ import annotations

from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from winclip_lit.config.errors import ConfigError


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
    from winclip_lit.data.download import DATASET_SOURCES, download_dataset

    source = DATASET_SOURCES.get(name)
    fetchable = source is not None and source.url is not None
    if not download:
        fetch = " or dataset.download=true to fetch it" if fetchable else ""
        raise ConfigError(
            f"dataset root {root} does not exist; pass dataset.root=/path/to/{Path(root).name} "
            f"(or set WINCLIP_DATA to the folder that holds it){fetch}"
        )
    if not fetchable:
        where = source.where if source is not None else "see docs/data.md for where to get it"
        raise ConfigError(
            f"dataset.download=true is not supported for dataset {name!r}; {where} and pass dataset.root=..."
        )
    try:
        download_dataset(name, root)
    except OSError as error:
        raise ConfigError(
            f"could not download {name} into {root} ({error}); download it by hand and pass dataset.root=..."
        ) from error
