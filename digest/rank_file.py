"""`digest rank --input items.jsonl --output ranked.jsonl`: each item line ranked as a story of its own.

The file-level stage (no store, no clustering): likes come from `--likes`, `[profile] liked_file` and
`[profile] liked` ids among the items given; the output is the input lines, best first, with score and
reasons (see FORMATS).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta

import numpy as np

from digest.config import Config
from digest.models import Item, RankedStory
from digest.profile import build_profile
from digest.rank import item_story, rank


def _named_likes(refs: Sequence[str], items: Sequence[Item], input_path: str) -> list[Item]:
    """`[profile] liked` ids and URLs among the items `digest rank` was given (it has no store); a
    reference that names none of them is said once on stderr, not embedded as text."""
    from digest.errors import warn
    from digest.feedback import parse_target
    from digest.profile import item_ids

    found: list[Item] = []
    for ref in refs:
        target = parse_target(ref)
        hits = [i for i in items if target in item_ids(i)]
        if not hits:
            warn(f"profile.liked: {ref} is no item of {input_path} or the likes; give it with --likes FILE")
        found += hits
    return found


def run_rank_file(
    input_path: str, output_path: str, likes_path: str | None, top: int | None, cfg: Config
) -> int:
    """`digest rank`: one story per input item, ranked against the profile; writes JSONL, returns lines."""
    from digest.embed import embed_items, load_embedder
    from digest.itemfile import read_items, write_lines

    items = read_items(input_path)
    liked = read_items(likes_path) if likes_path else []
    if cfg.profile.liked_file:
        liked += read_items(str(cfg.resolve(cfg.profile.liked_file)))
    liked += _named_likes(cfg.profile.liked, [*items, *liked], input_path)
    embedder = load_embedder(cfg.embed)
    profile = build_profile(cfg.profile, embedder, liked, [], {})
    vectors = embed_items(items, embedder) if items else np.zeros((0, 0), dtype=np.float32)
    end = max((i.published for i in items), default=datetime.now().astimezone())
    ranked = rank(
        [item_story(i) for i in items], vectors, profile, [], cfg.rank, end - timedelta(days=7), end
    )
    if top is not None:
        ranked = ranked[: max(0, top)]

    def line(r: RankedStory) -> str:
        return json.dumps({**r.story.lead.to_line(), "score": r.score, "reasons": list(r.reasons)})

    write_lines(output_path, map(line, ranked))
    return len(ranked)
