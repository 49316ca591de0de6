"""`digest cluster --input items.jsonl --output stories.jsonl`: the dedup stage on a file.

The file-level stage (no store): embed the items, cluster them, and write one {"id","story"} line per
input item (see FORMATS). The clustering itself is `cluster.cluster`, a pure function.
"""

from __future__ import annotations

import json

import numpy as np

from digest.cluster import cluster
from digest.config import Config
from digest.itemfile import read_items, write_lines


def run_cluster_file(input_path: str, output_path: str, cfg: Config) -> int:
    """`digest cluster`: embed and cluster an item file; one {"id","story"} line per input item."""
    from digest.embed import embed_items, load_embedder

    items = read_items(input_path)
    vectors = embed_items(items, load_embedder(cfg.embed)) if items else np.zeros((0, 0), np.float32)
    story_of = {key: s.id for s in cluster(items, vectors, cfg.cluster) for key in s.item_keys}
    write_lines(
        output_path, (json.dumps({"id": i.key, "story": story_of[i.key]}, ensure_ascii=False) for i in items)
    )
    return len(items)
