"""Embedding with the real bundled model; the cache by content hash and model id."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest

from digest.config import EmbedConfig
from digest.embed import (
    LEAD_CHARS,
    CachedEmbedder,
    Embedder,
    SentenceTransformerEmbedder,
    bundled_path,
    embed_items,
    item_text,
    load_embedder,
    text_hash,
)
from digest.errors import ModelError
from digest.models import Item
from digest.static_embed import distilled_dir, load_static_embedder
from digest.store import SQLiteStore

T0 = datetime(2026, 2, 5, tzinfo=timezone.utc)


def item(key: str, title: str, text: str = "") -> Item:
    return Item(key=key, source="rss", url="", title=title, text=text, published=T0)


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return load_embedder(EmbedConfig())


class CountingEmbedder:
    """The real model, counting the texts it is asked to encode."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.model_id = inner.model_id
        self.seen: list[str] = []

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.seen.extend(texts)
        return self.inner.encode(texts)


def test_bundled_model_gives_unit_vectors_that_know_paraphrases(embedder: Embedder) -> None:
    v = embedder.encode(
        [
            "Anthropic releases Claude Opus 4.6",
            "Claude Opus 4.6 is out from Anthropic",
            "Best sourdough recipe",
        ]
    )
    assert v.shape == (3, 384) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert v[0] @ v[1] > 0.8 > 0.2 > v[0] @ v[2]
    assert embedder.model_id == "all-MiniLM-L6-v2"


def test_embed_items_keeps_order_and_reuses_the_cache(embedder: Embedder, tmp_path: Path) -> None:
    counting = CountingEmbedder(embedder)
    cache = SQLiteStore(tmp_path / "e.db")  # the real cache: the store's embeddings table
    items = [
        item("a", "Short"),
        item("b", "A much longer title about mixture of experts routing"),
        item("c", "Short"),
    ]
    first = embed_items(items, counting, cache)
    assert first.shape == (3, 384)
    assert counting.seen.count("Short") == 1  # same text embedded once
    assert np.allclose(first[0], first[2])
    direct = embedder.encode([item_text(items[1])])[0]
    assert np.allclose(first[1], direct, atol=1e-5)
    counting.seen.clear()
    again = embed_items(items, counting, cache)
    assert counting.seen == [] and np.allclose(again, first)
    changed = embed_items([item("a", "Short", "now with a body")], counting, cache)
    assert len(counting.seen) == 1 and not np.allclose(changed[0], first[0])
    stored = cache.get_embeddings("all-MiniLM-L6-v2", [text_hash(item_text(i)) for i in items])
    assert len(stored) == 2 and not cache.get_embeddings("other-model", list(stored))
    cache.close()


def test_item_text_is_title_plus_a_bounded_lead() -> None:
    long_body = "First sentence of the abstract is here and it is long enough to count. " * 20
    text = item_text(item("a", "Title", long_body))
    assert text.startswith("Title. First sentence")
    assert len(text) <= len("Title. ") + LEAD_CHARS
    assert item_text(item("b", "", "an X post with no title")) == "an X post with no title"
    assert item_text(item("c", "  Only   a title ")) == "Only a title"
    assert text_hash("x") != text_hash("y")


def test_missing_model_is_one_clear_line(tmp_path: object) -> None:
    with pytest.raises(ModelError, match=r"embed.model: no model folder at ./no-such-model"):
        load_embedder(EmbedConfig(model="./no-such-model"))


def test_empty_input_embeds_to_an_empty_array(embedder: Embedder) -> None:
    assert embed_items([], embedder).shape[0] == 0


def test_loading_the_model_writes_nothing_to_stderr(capfd: pytest.CaptureFixture[str]) -> None:
    load_embedder(EmbedConfig())
    assert capfd.readouterr().err == ""


def test_lazy_embedder_loads_the_model_only_when_it_must_encode() -> None:
    lazy = load_embedder(EmbedConfig(), lazy=True)
    assert lazy.model_id == "all-MiniLM-L6-v2"
    assert isinstance(lazy, SentenceTransformerEmbedder)
    assert lazy._loaded is None  # a warm re-run never pays for torch
    assert lazy.encode(["hello"]).shape == (1, 384)


def test_cached_embedder_encodes_each_text_once_across_calls(embedder: Embedder, tmp_path: Path) -> None:
    counting = CountingEmbedder(embedder)
    cached = CachedEmbedder(counting, SQLiteStore(tmp_path / "e.db"))
    a = cached.encode(["large language models", "agents"])
    b = cached.encode(["agents", "large language models", "agents"])
    assert sorted(counting.seen) == ["agents", "large language models"]
    assert cached.encoded == 2 and np.allclose(a[0], b[1]) and np.allclose(a[1], b[0])


def tiny_static_model(folder: Path) -> Path:
    """A model2vec model with random vectors over MiniLM's tokenizer (the load path, not quality)."""
    from model2vec import StaticModel
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(Path(bundled_path()) / "tokenizer.json"))
    vecs = np.random.default_rng(0).normal(size=(tok.get_vocab_size(), 16)).astype(np.float32)
    StaticModel(vecs, tok, normalize=True).save_pretrained(str(folder))
    return folder


def test_static_model_from_a_folder_gives_unit_vectors_under_its_own_id(tmp_path: Path) -> None:
    folder = tiny_static_model(tmp_path / "tiny-m2v")
    static = load_static_embedder(EmbedConfig(static_model=str(folder)))
    assert static is not None and static.model_id == "m2v:tiny-m2v"
    v = static.encode(["a paper about agents", "another text"])
    assert v.shape == (2, 16) and np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert static.encode([]).shape == (0, 16)


def test_static_model_none_or_missing(tmp_path: Path) -> None:
    assert load_static_embedder(EmbedConfig(static_model="none")) is None
    with pytest.raises(ModelError, match=r"embed.static_model: no model2vec model at .*nothing-here"):
        load_static_embedder(EmbedConfig(static_model=str(tmp_path / "nothing-here")))


def test_distilled_model_lives_in_the_user_cache_keyed_by_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DIGEST_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    folder, model_id = distilled_dir(EmbedConfig())
    assert folder.parent == tmp_path / "digest" / "static"
    assert model_id == "all-MiniLM-L6-v2/m2v256"
    other, _ = distilled_dir(EmbedConfig(model=str(tmp_path)))
    assert other != folder
