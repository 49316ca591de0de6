"""One story, one entry: link joins first, then hdbscan proposals verified pair by pair; pure.

1. Deterministic joins (union-find): same canonical URL, arXiv id or DOI, or one item links to another.
2. Similarity S = w·cosine(embeddings) + (1-w)·tf-idf cosine of title-focused tokens (IDF over the batch,
   so shared rare names such as "opus_4.6" weigh most). Topical closeness alone is not story identity.
3. Cannot-links, never overridden by similarity: same channel (two arXiv papers, two posts of one
   subreddit/feed/account), more than `max_days_apart` apart, the same product name with different
   versions ("GPT-5.2" vs "GPT-5.3"), or no shared distinctive token at all.
4. Allowed pairs with S >= threshold form a sparse graph; each component is handed to hdbscan (over the
   precomputed distance 1-S), whose groups and noise are then merged by constrained average linkage,
   so no two members of a story are far apart (the chaining guard), and finally trimmed to members
   close enough to the group's medoid. hdbscan "noise" is a story of its own, never a dropped item.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from digest.cluster_text import Features, build_features, cannot_link, channel, vouched
from digest.config import ClusterConfig, Config
from digest.errors import InputError
from digest.models import Item
from digest.models import Story

# Tuned on the UCI dev headlines and by eye on the W06 replay world (see the module docstring).
DEFAULT_SIMILARITY = 0.25
_PRIORITY = {"arxiv": 0, "rss": 1, "blog": 1, "hn": 2, "youtube": 3, "reddit": 4, "x": 5}


class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, a: int) -> int:
        while self.parent[a] != a:
            self.parent[a] = self.parent[self.parent[a]]
            a = self.parent[a]
        return a

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)

    def groups(self) -> list[list[int]]:
        out: dict[int, list[int]] = {}
        for i in range(len(self.parent)):
            out.setdefault(self.find(i), []).append(i)
        return list(out.values())


def link_joins(feats: Features, max_refs: int) -> _UnionFind:
    """Union items that share an identity (URL, arXiv id, DOI) or where one references another's."""
    n = len(feats.ids)
    uf = _UnionFind(n)
    owner: dict[str, int] = {}
    for i, own in enumerate(feats.ids):
        for key in own:
            if key in owner:
                uf.union(owner[key], i)
            else:
                owner[key] = i
    for i, refs in enumerate(feats.refs):
        # A roundup that points at many things is not any one of those stories.
        if len(refs) > max_refs:
            continue
        for key in refs:
            if key in owner:
                uf.union(owner[key], i)
    return uf


def _top_pairs(vectors: np.ndarray, k: int, floor: float, chunk: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    """The k nearest neighbours of every row above a cosine floor, in chunks (no n×n matrix)."""
    n = vectors.shape[0]
    k = min(k, n - 1)
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    if k <= 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    for start in range(0, n, chunk):
        block = vectors[start : start + chunk] @ vectors.T
        idx = np.arange(start, min(start + chunk, n))
        block[idx - start, idx] = -1.0
        top = np.argpartition(-block, k - 1, axis=1)[:, :k] if k < n - 1 else np.argsort(-block, axis=1)[:, :k]
        vals = np.take_along_axis(block, top, axis=1)
        keep = vals >= floor
        rows.append(np.repeat(idx, k)[keep.ravel()])
        cols.append(top.ravel()[keep.ravel()])
    r, c = np.concatenate(rows), np.concatenate(cols)
    lo, hi = np.minimum(r, c), np.maximum(r, c)
    pairs = np.unique(np.stack([lo, hi], axis=1), axis=0)
    return pairs[:, 0], pairs[:, 1]


def _similarity(feats: Features, vectors: np.ndarray, a: np.ndarray, b: np.ndarray, w: float) -> np.ndarray:
    cos = np.einsum("ij,ij->i", vectors[a], vectors[b])
    lex = np.asarray(feats.tfidf[a].multiply(feats.tfidf[b]).sum(axis=1)).ravel()
    return (w * cos + (1.0 - w) * lex).astype(np.float32)


def _dense_block(
    members: np.ndarray, feats: Features, vectors: np.ndarray, cfg: ClusterConfig
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exact similarity, cannot-link and vouched matrices for one bounded block."""
    v = vectors[members]
    t = feats.tfidf[members]
    w = cfg.lexical_weight
    cos = v @ v.T
    sim = w * cos + (1.0 - w) * (t @ t.T).toarray()
    m = len(members)
    bad = np.zeros((m, m), dtype=bool)
    ok = np.zeros((m, m), dtype=bool)
    for x in range(m):
        for y in range(x + 1, m):
            a, b = int(members[x]), int(members[y])
            bad[x, y] = bad[y, x] = cannot_link(a, b, feats, cfg.max_days_apart)
            ok[x, y] = ok[y, x] = vouched(a, b, feats, float(cos[x, y]), cfg.paraphrase)
    return sim.astype(np.float64), bad, ok


def _average_link(
    groups: list[list[int]], sim: np.ndarray, bad: np.ndarray, ok: np.ndarray, tau: float
) -> list[list[int]]:
    """Constrained average linkage over starting groups (Lance-Williams updates on group means).

    A merge needs mean similarity >= tau, no cannot-link between the groups, and one vouched pair.
    """
    g = len(groups)
    size = np.array([len(x) for x in groups], dtype=np.float64)
    gs = np.array([[sim[np.ix_(a, b)].mean() for b in groups] for a in groups], dtype=np.float64)
    gb = np.array([[bool(bad[np.ix_(a, b)].any()) for b in groups] for a in groups])
    gv = np.array([[bool(ok[np.ix_(a, b)].any()) for b in groups] for a in groups])
    alive = np.ones(g, dtype=bool)
    members = [list(x) for x in groups]
    np.fill_diagonal(gs, -np.inf)
    while True:
        score = np.where(gb | ~gv | ~alive[:, None] | ~alive[None, :], -np.inf, gs)
        a, b = divmod(int(np.argmax(score)), g)
        if not np.isfinite(score[a, b]) or score[a, b] < tau:
            break
        gs[a] = (size[a] * gs[a] + size[b] * gs[b]) / (size[a] + size[b])
        gs[:, a] = gs[a]
        gs[a, a] = -np.inf
        gb[a] |= gb[b]
        gb[:, a] = gb[a]
        gv[a] |= gv[b]
        gv[:, a] = gv[a]
        size[a] += size[b]
        alive[b] = False
        members[a].extend(members[b])
    return [members[k] for k in range(g) if alive[k]]


def _medoid_trim(group: list[int], sim: np.ndarray, floor: float) -> list[list[int]]:
    """Split off members not close enough to the group's medoid; each becomes its own story."""
    if len(group) < 3:
        return [group]
    sub = sim[np.ix_(group, group)]
    medoid = int(np.argmax(sub.sum(axis=1)))
    keep = [x for k, x in enumerate(group) if k == medoid or sub[medoid, k] >= floor]
    rest = [[x] for x in group if x not in keep]
    return [keep, *rest]


def _hdbscan_groups(sim: np.ndarray, bad: np.ndarray, min_size: int) -> list[list[int]]:
    """hdbscan proposals over 1-S (cannot-links pushed far apart); noise points come back as singletons."""
    m = sim.shape[0]
    if m < 3:
        return [[k] for k in range(m)]
    import hdbscan  # lazy: a heavy import most commands never need

    dist = np.clip(1.0 - sim, 0.0, 2.0)
    dist[bad] = 2.0
    np.fill_diagonal(dist, 0.0)
    labels = hdbscan.HDBSCAN(
        min_cluster_size=max(2, min_size), min_samples=1, metric="precomputed"
    ).fit_predict(dist)
    out: dict[int, list[int]] = {}
    singles: list[list[int]] = []
    for k, lab in enumerate(labels):
        if lab < 0:
            singles.append([k])
        else:
            out.setdefault(int(lab), []).append(k)
    return list(out.values()) + singles


def _semantic_groups(
    atoms: list[list[int]], feats: Features, vectors: np.ndarray, items: Sequence[Item], cfg: ClusterConfig
) -> list[list[int]]:
    """Merge link-joined atoms by verified similarity; returns groups of item indices."""
    n = len(items)
    tau = cfg.similarity or DEFAULT_SIMILARITY
    atom_of = np.empty(n, dtype=np.int64)
    for k, atom in enumerate(atoms):
        atom_of[atom] = k
    a, b = _top_pairs(vectors, cfg.neighbours, cfg.cosine_floor)
    cross = atom_of[a] != atom_of[b]
    a, b = a[cross], b[cross]
    s = _similarity(feats, vectors, a, b, cfg.lexical_weight)
    keep = s >= tau
    a, b, s = a[keep], b[keep], s[keep]
    cos = np.einsum("ij,ij->i", vectors[a], vectors[b])
    ok = np.array(
        [
            vouched(int(x), int(y), feats, float(c), cfg.paraphrase)
            and not cannot_link(int(x), int(y), feats, cfg.max_days_apart)
            for x, y, c in zip(a, b, cos, strict=True)
        ],
        dtype=bool,
    )
    if len(ok):
        a, b, s = a[ok], b[ok], s[ok]
    na = len(atoms)
    graph = sparse.coo_matrix((s, (atom_of[a], atom_of[b])), shape=(na, na))
    ncomp, comp = connected_components(graph, directed=False)
    out: list[list[int]] = []
    for c in range(ncomp):
        comp_atoms = np.flatnonzero(comp == c)
        if len(comp_atoms) == 1:
            out.append(list(atoms[comp_atoms[0]]))
            continue
        for block in _blocks(comp_atoms, atoms, items, cfg.max_group):
            out.extend(_verify_block(block, atoms, feats, vectors, items, cfg, tau))
    return out


def _blocks(comp_atoms: np.ndarray, atoms: list[list[int]], items: Sequence[Item], cap: int) -> list[list[int]]:
    """Cut an oversized component into time-ordered blocks so dense work stays bounded."""
    order = sorted(comp_atoms.tolist(), key=lambda k: min(items[i].published for i in atoms[k]))
    blocks: list[list[int]] = [[]]
    count = 0
    for k in order:
        if count + len(atoms[k]) > cap and blocks[-1]:
            blocks.append([])
            count = 0
        blocks[-1].append(k)
        count += len(atoms[k])
    return blocks


def _verify_block(
    block: list[int],
    atoms: list[list[int]],
    feats: Features,
    vectors: np.ndarray,
    items: Sequence[Item],
    cfg: ClusterConfig,
    tau: float,
) -> list[list[int]]:
    members = np.array([i for k in block for i in atoms[k]], dtype=np.int64)
    local = {int(i): x for x, i in enumerate(members)}
    sim, bad, ok = _dense_block(members, feats, vectors, cfg)
    # Link-joined atoms are fixed units; similarity inside them is not questioned.
    units = [[local[i] for i in atoms[k]] for k in block]
    for u in units:
        bad[np.ix_(u, u)] = False
        ok[np.ix_(u, u)] = True
        sim[np.ix_(u, u)] = np.maximum(sim[np.ix_(u, u)], 1.0)
    unit_of = np.empty(len(members), dtype=np.int64)
    for k, u in enumerate(units):
        unit_of[u] = k
    proposals = _hdbscan_groups(sim, bad, cfg.min_cluster_size)
    # Each hdbscan group is verified from its units upward; then groups and noise may still merge.
    verified: list[list[int]] = []
    for prop in proposals:
        prop_units = sorted({int(unit_of[x]) for x in prop})
        verified.extend(_average_link([units[u] for u in prop_units], sim, bad, ok, tau))
    seen: set[int] = set()
    starts = []
    for grp in verified:
        us = sorted({int(unit_of[x]) for x in grp} - seen)
        if us:
            seen.update(us)
            starts.append([x for u in us for x in units[u]])
    merged = _average_link(starts, sim, bad, ok, tau)
    out: list[list[int]] = []
    for grp in merged:
        floor = cfg.medoid_floor or tau
        for part in _medoid_trim(grp, sim, floor):
            out.append([int(members[x]) for x in part])
    return out


def _lead(members: Sequence[Item], inlinks: dict[str, int]) -> Item:
    """The primary source: paper over thread, lab post over repost, then the most linked-to, earliest."""
    return min(
        members,
        key=lambda i: (_PRIORITY.get(i.source, 6), -inlinks.get(i.key, 0), i.published, i.key),
    )


def _headline(item: Item) -> str:
    text = item.title.strip() or " ".join(item.text.split())
    return text if len(text) <= 140 else text[:139].rsplit(" ", 1)[0] + "…"


def story_id(lead: Item) -> str:
    return "s-" + hashlib.sha1(lead.key.encode("utf-8")).hexdigest()[:12]


def cluster(items: Sequence[Item], vectors: np.ndarray, cfg: ClusterConfig) -> list[Story]:
    """Group items into stories; every item lands in exactly one story, singletons included."""
    if not items:
        return []
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.shape[0] != len(items):
        raise ValueError(f"cluster: {len(items)} items but {vectors.shape[0]} vectors")
    feats = build_features(items)
    uf = link_joins(feats, cfg.max_refs)
    atoms = uf.groups()
    groups = _semantic_groups(atoms, feats, vectors, items, cfg)
    stories = []
    for grp in groups:
        members = [items[i] for i in sorted(grp, key=lambda i: (items[i].published, items[i].key))]
        inlinks = _inlinks(sorted(grp), feats, items)
        lead = _lead(members, inlinks)
        stories.append(Story(id=story_id(lead), items=tuple(members), lead=lead, headline=_headline(lead)))
    stories.sort(key=lambda s: (-len(s.items), s.lead.published, s.id))
    return stories


def _inlinks(group: list[int], feats: Features, items: Sequence[Item]) -> dict[str, int]:
    out: dict[str, int] = {}
    for i in group:
        for j in group:
            if i != j and feats.ids[i] & feats.refs[j]:
                out[items[i].key] = out.get(items[i].key, 0) + 1
    return out


def read_items(path: str) -> list[Item]:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{p}: file not found") from None
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"{p}: cannot read: {e}") from None
    items: list[Item] = []
    seen: set[str] = set()
    for n, raw in enumerate(text.splitlines(), 1):
        if not raw.strip():
            continue
        try:
            line = json.loads(raw)
        except json.JSONDecodeError as e:
            raise InputError(f"{p}:{n}: not JSON: {e.msg}") from None
        if not isinstance(line, dict):
            raise InputError(f"{p}:{n}: expected a JSON object")
        item = Item.from_line(line, f"{p}:{n}")
        if item.key in seen:
            raise InputError(f"{p}:{n}: duplicate id {item.key!r}")
        seen.add(item.key)
        items.append(item)
    return items


def run_cluster_file(input_path: str, output_path: str, cfg: Config) -> int:
    """`digest cluster`: embed and cluster an item file; one {"id","story"} line per input item."""
    from digest.embed import embed_items, load_embedder

    items = read_items(input_path)
    vectors = embed_items(items, load_embedder(cfg.embed)) if items else np.zeros((0, 0), np.float32)
    story_of = {key: s.id for s in cluster(items, vectors, cfg.cluster) for key in s.item_keys}
    out = Path(output_path)
    tmp = out.with_name(out.name + ".tmp")
    try:
        with tmp.open("w", encoding="utf-8") as f:
            for item in items:
                f.write(json.dumps({"id": item.key, "story": story_of[item.key]}, ensure_ascii=False) + "\n")
        tmp.replace(out)
    except OSError as e:
        raise InputError(f"{out}: cannot write: {e.strerror}") from None
    return len(items)


__all__ = ["DEFAULT_SIMILARITY", "channel", "cluster", "link_joins", "run_cluster_file", "story_id"]
