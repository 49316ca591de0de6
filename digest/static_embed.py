"""The cheap first-stage embedder: a static (model2vec) model distilled from the transformer, cached on disk.

A static model looks each token up in a table and averages: ~50x faster than MiniLM on these texts, good
enough to tell which papers could matter this week, not good enough to decide the issue. The table is
distilled once from the configured transformer (offline, ~1-2 min on 2 cores) and kept in the user cache
dir (`$XDG_CACHE_HOME/digest/static/`, never the repo), keyed by the source model and the settings.
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from digest.config import EmbedConfig
from digest.errors import ModelError

PCA_DIMS = 256
_DISTILL_BATCH = 1024  # one-token sequences: big batches, or per-call overhead dominates the distillation


class StaticEmbedder:
    """A model2vec StaticModel behind the one-method Embedder seam; rows L2-normalised."""

    def __init__(self, model: Any, model_id: str) -> None:
        self._model = model
        self.model_id = model_id

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, int(self._model.dim)), dtype=np.float32)
        v = np.asarray(
            self._model.encode(list(texts), show_progress_bar=False, use_multiprocessing=False),
            dtype=np.float32,
        )
        norms = np.linalg.norm(v, axis=1, keepdims=True)
        return v / np.where(norms == 0, 1.0, norms)


def cache_root() -> Path:
    """`$DIGEST_CACHE_DIR`, else `$XDG_CACHE_HOME/digest`, else `~/.cache/digest`."""
    env = os.environ.get("DIGEST_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "digest"


def _source(cfg: EmbedConfig) -> tuple[str, str]:
    """(path or name to distil from, a stable id for it)."""
    from digest.embed import bundled_path

    if cfg.model == "bundled":
        return bundled_path(), "all-MiniLM-L6-v2"
    local = Path(cfg.model).expanduser()
    return (str(local), local.name) if local.exists() else (cfg.model, cfg.model)


def distilled_dir(cfg: EmbedConfig) -> tuple[Path, str]:
    """Where the static model distilled from `cfg.model` lives, and its model id."""
    import model2vec

    path, source_id = _source(cfg)
    key = hashlib.sha256(f"{path}|{source_id}|{PCA_DIMS}|{model2vec.__version__}".encode()).hexdigest()[:10]
    slug = "".join(c if c.isalnum() or c in "-_." else "_" for c in source_id)
    return cache_root() / "static" / f"{slug}-m2v{PCA_DIMS}-{key}", f"{source_id}/m2v{PCA_DIMS}"


def distill_static(cfg: EmbedConfig, folder: Path) -> None:
    """Distil `cfg.model` into a static model at `folder` (written to a temp dir, then renamed)."""
    path, _ = _source(cfg)
    os.environ["HF_HUB_OFFLINE"] = "1"
    try:
        import model2vec.distill.inference as m2v_inference
        from model2vec.distill import distill
    except ImportError as e:
        raise ModelError(f"embed.static_model = 'auto' needs model2vec[distill]: {e}") from None
    from digest.embed import quiet_loading

    quiet_loading()
    m2v_inference._DEFAULT_BATCH_SIZE = max(m2v_inference._DEFAULT_BATCH_SIZE, _DISTILL_BATCH)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=folder.name + ".", dir=folder.parent))
    try:
        # No progress bars: cron logs stay one line per event.
        if not isinstance(m2v_inference.tqdm, functools.partial):
            m2v_inference.tqdm = functools.partial(m2v_inference.tqdm, disable=True)
        model = distill(model_name=path, pca_dims=PCA_DIMS, device=cfg.device)
        model.save_pretrained(str(tmp))
        try:
            tmp.rename(folder)
        except OSError:  # another process finished first: theirs is as good
            pass
    except Exception as e:  # torch/transformers raise many types; the user needs one line
        raise ModelError(f"embed.static_model: cannot distil from {cfg.model!r}: {e}") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def load_static_embedder(cfg: EmbedConfig) -> StaticEmbedder | None:
    """The configured static embedder: None for "none"; "auto" distils on first use, then loads the cache."""
    choice = cfg.static_model.strip()
    if choice.lower() == "none":
        return None
    try:
        from model2vec import StaticModel
    except ImportError:
        raise ModelError("embed.static_model needs model2vec: pip install model2vec") from None
    if choice.lower() == "auto":
        folder, model_id = distilled_dir(cfg)
        if not (folder / "config.json").exists():
            distill_static(cfg, folder)
    else:
        folder = Path(choice).expanduser()
        model_id = f"m2v:{folder.name}"
        if not (folder / "config.json").exists():
            raise ModelError(f"embed.static_model: no model2vec model at {choice}")
    try:
        model = StaticModel.from_pretrained(str(folder))
    except Exception as e:  # a half-written or foreign folder
        raise ModelError(f"embed.static_model: cannot load {folder}: {e}") from None
    return StaticEmbedder(model, model_id)
