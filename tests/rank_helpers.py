"""Small builders shared by the ranking tests.

`TopicEmbedder` is a fake embedder for tests about geometry (which story is closer to which interest):
one axis per topic word, so the expected order is obvious from the text. Tests of real behaviour on
real text (`digest rank` on a file, the dev pools) use the bundled MiniLM model instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np

from digest.config import Interest, ProfileConfig, RankConfig
from digest.models import Item, RankedStory, Story
from digest.profile import Featured, Profile, build_profile
from digest.rank import rank

TOPICS = ("agent", "quantization", "bread", "crypto", "safety", "vision")
T0 = datetime(2026, 2, 2, tzinfo=timezone.utc)  # Monday of 2026-W06
T1 = T0 + timedelta(days=7)
CFG = RankConfig(top_n=10, max_per_source=6, max_per_feed=3, diversity=0.0)


class TopicEmbedder:
    """A fake embedder, one axis per topic word. The ranking tests check arithmetic (which signal moves
    which score, by how much, with which reason) and need vectors whose cosines they can state exactly;
    MiniLM's cannot be. The real model is exercised by test_embed, test_cluster_real, test_pipeline,
    test_two_weeks and test_eval_rank."""

    model_id = "topic-fake"

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), len(TOPICS) + 1), dtype=np.float32)
        for r, t in enumerate(texts):
            low = t.lower()
            for c, word in enumerate(TOPICS):
                out[r, c] = low.count(word)
            out[r, -1] = 0.2  # a shared background so unrelated texts are not exactly orthogonal
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def item(key: str, title: str, source: str = "rss", url: str = "", day: int = 1, **kw: object) -> Item:
    return Item(
        key=key,
        source=source,
        url=url or f"https://{source}.example/{key.replace(':', '-')}",
        title=title,
        text=kw.pop("text", title),  # type: ignore[arg-type]
        published=T0 + timedelta(days=day),
        **kw,  # type: ignore[arg-type]
    )


def story(*items: Item, sid: str = "") -> Story:
    return Story(id=sid or items[0].key, items=tuple(items), lead=items[0], headline=items[0].title)


def vectors(stories: Sequence[Story]) -> np.ndarray:
    emb = TopicEmbedder()
    return emb.encode([f"{s.lead.title} {s.lead.text}" for s in stories])


def agent_profile(**kw: Any) -> Profile:
    """A profile interested in "agent" (plus `kw` of ProfileConfig), on TopicEmbedder vectors."""
    return build_profile(ProfileConfig(interests=(Interest("agent"),), **kw), TopicEmbedder(), [], [], {})


def rank_stories(
    stories: list[Story], profile: Profile | None = None, featured: list[Featured] | None = None
) -> list[RankedStory]:
    return rank(stories, vectors(stories), profile or agent_profile(), featured or [], CFG, T0, T1)
