"""One story, one entry: link joins first, then hdbscan proposals verified pair by pair; pure.

1. Deterministic joins (union-find): same canonical URL, arXiv id or DOI, or one item links to another
   (a roundup linking more than `max_refs` things joins nothing; a paper citing a paper is not joined).
2. Similarity S = w·cosine(embeddings) + (1-w)·tf-idf cosine of title-focused tokens (IDF over the batch),
   minus soft penalties: two posts of one subreddit/feed/account (unless both name one coherent
   versioned product, "Qwen3-Coder-Next", "Opus 4.6": a launch's threads), days apart beyond the
   first, a leak/rumour/teaser beside a post that is not one (cluster_link.penalty).
3. Cannot-links, never overridden: two arXiv papers, more than `max_days_apart` apart, one product
   name with different versions ("GPT-5.2" vs "GPT-5.3"); two entries of one feed under one title;
   two posts of one channel unless their own (penalised) S clears the threshold or both name one
   versioned product (a launch's threads, joined by the group's average; not a sibling product).
   Topic is not identity, so a merge also needs a vouched pair: a shared *coherent* word (its items
   are much more alike than the batch's posts: "opus_4.6", not "claude"; a paper has only its title's
   words there), a strong overlap of rare words (tf-idf cosine >= `lexical_vouch`) or a
   paraphrase-level cosine; a post joins a paper only if it has every part of the paper's own name.
4. Candidate pairs (sharing a coherent or rare word, or paraphrases; sparse, no n×n matrix) with
   S >= threshold form a graph; each component (cut to `max_group` items) goes to hdbscan over 1-S,
   whose proposals are verified by constrained average linkage (cluster_link.average_link: mean S >=
   threshold, groups of 2+ judged relative to their own cohesion (`spread`), no cannot-link, one
   vouched pair, no two groups with disjoint own names), then trimmed to units close enough to the
   group's medoid. hdbscan "noise" is a story of its own, never a dropped item.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from digest.cluster_joins import link_joins
from digest.cluster_link import (
    Rules,
    average_link,
    block_constraints,
    hdbscan_groups,
    medoid_trim,
    pair_constraints,
    penalty,
    same_product,
)
from digest.cluster_text import Features, build_features, channel
from digest.config import ClusterConfig
from digest.models import Item, Story
from digest.textfmt import truncate

# Tuned on the UCI dev headlines and by eye on the W06 replay world (see the module docstring).
DEFAULT_SIMILARITY = 0.225
_PRIORITY = {"arxiv": 0, "rss": 1, "blog": 1, "hn": 2, "youtube": 3, "reddit": 4, "x": 5}


def _candidate_pairs(
    feats: Features, vectors: np.ndarray, paraphrase: float, chunk: int = 1024
) -> np.ndarray:
    """Every pair that could be vouched for: it shares a coherent word, or its cosine is a paraphrase's.

    Exact (no top-k cut) and sparse: coherent words are rare by construction, and the cosine test runs
    in row chunks, so no n×n matrix is ever held.
    """
    parts = []
    for m in (feats.coherent, feats.rare):
        shared = sparse.triu(m @ m.T, k=1).tocoo()
        parts.append(np.stack([shared.row, shared.col], axis=1).astype(np.int64))
    n = vectors.shape[0]
    for start in range(0, n, chunk):
        block = vectors[start : start + chunk] @ vectors[start:].T
        r, c = np.nonzero(np.triu(block >= paraphrase, k=1))
        parts.append(np.stack([r + start, c + start], axis=1).astype(np.int64))
    pairs = np.concatenate(parts)
    return np.unique(pairs, axis=0) if len(pairs) else pairs.reshape(0, 2)


def _rules(cfg: ClusterConfig) -> Rules:
    return Rules(
        cfg.max_days_apart,
        cfg.paraphrase,
        cfg.lexical_vouch,
        cfg.channel_penalty,
        cfg.day_penalty,
        cfg.rumour_penalty,
    )


def _similarity(
    feats: Features, vectors: np.ndarray, a: np.ndarray, b: np.ndarray, cfg: ClusterConfig, chunk: int = 8192
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cosine, tf-idf cosine and combined (penalised) similarity of aligned pairs, chunked."""
    w = cfg.lexical_weight
    cos = np.empty(len(a), dtype=np.float32)
    lex = np.empty(len(a), dtype=np.float32)
    for k in range(0, len(a), chunk):
        x, y = a[k : k + chunk], b[k : k + chunk]
        cos[k : k + chunk] = np.einsum("ij,ij->i", vectors[x], vectors[y])
        lex[k : k + chunk] = np.asarray(feats.tfidf[x].multiply(feats.tfidf[y]).sum(axis=1)).ravel()
    s = w * cos + (1.0 - w) * lex - penalty(feats, a, b, _rules(cfg))
    return cos, lex, s.astype(np.float32)


def _dense_block(
    members: np.ndarray, feats: Features, vectors: np.ndarray, cfg: ClusterConfig
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exact similarity, cannot-link and vouched matrices for one bounded block."""
    v = vectors[members]
    t = feats.tfidf[members]
    w = cfg.lexical_weight
    cos = v @ v.T
    lex = (t @ t.T).toarray()
    rules = _rules(cfg)
    sim = w * cos + (1.0 - w) * lex - penalty(feats, members[:, None], members[None, :], rules)
    bad, ok = block_constraints(feats, members, cos, lex, rules)
    return sim.astype(np.float64), bad, ok


def _semantic_groups(
    atoms: list[list[int]], feats: Features, vectors: np.ndarray, items: Sequence[Item], cfg: ClusterConfig
) -> list[list[int]]:
    """Merge link-joined atoms by verified similarity; returns groups of item indices."""
    n = len(items)
    tau = cfg.similarity or DEFAULT_SIMILARITY
    atom_of = np.empty(n, dtype=np.int64)
    for k, atom in enumerate(atoms):
        atom_of[atom] = k
    pairs = _candidate_pairs(feats, vectors, cfg.paraphrase)
    a, b = pairs[:, 0], pairs[:, 1]
    cross = atom_of[a] != atom_of[b]
    a, b = a[cross], b[cross]
    cos, lex, s = _similarity(feats, vectors, a, b, cfg)
    keep = s >= tau
    a, b, s, cos, lex = a[keep], b[keep], s[keep], cos[keep], lex[keep]
    ok = pair_constraints(feats, a, b, cos, lex, _rules(cfg))
    a, b, s = a[ok], b[ok], s[ok]
    sizes = np.array([len(x) for x in atoms], dtype=np.int64)
    out: list[list[int]] = []
    for comp_atoms in _bounded_components(atom_of[a], atom_of[b], s, sizes, cfg.max_group):
        if len(comp_atoms) == 1:
            out.append(list(atoms[comp_atoms[0]]))
        elif len(comp_atoms) == 2 and sizes[comp_atoms].sum() == 2:
            # Two single items joined by an edge that already passed every check: one story.
            out.append([atoms[comp_atoms[0]][0], atoms[comp_atoms[1]][0]])
        else:
            out.extend(_verify_block(comp_atoms.tolist(), atoms, feats, vectors, cfg, tau))
    return out


def _bounded_components(
    ea: np.ndarray, eb: np.ndarray, es: np.ndarray, sizes: np.ndarray, cap: int
) -> list[np.ndarray]:
    """Connected components of the candidate graph, none holding more than `cap` items.

    An oversized component loses its weaker half of edges until it falls apart; the strongest
    evidence stays together, and dense work per block stays bounded.
    """
    todo = [(np.arange(len(sizes)), ea, eb, es)]
    done: list[np.ndarray] = []
    while todo:
        sub, a, b, s = todo.pop()
        local = np.full(len(sizes), -1, dtype=np.int64)
        local[sub] = np.arange(len(sub))
        graph = sparse.coo_matrix((np.ones(len(a)), (local[a], local[b])), shape=(len(sub), len(sub)))
        _, comp = connected_components(graph, directed=False)
        order = np.argsort(comp, kind="stable")
        bounds = np.flatnonzero(np.diff(comp[order])) + 1
        edge_comp = comp[local[a]]
        for group in np.split(order, bounds):
            members = sub[group]
            if sizes[members].sum() <= cap or len(members) == 1:
                done.append(members)
                continue
            mask = edge_comp == comp[group[0]]
            ca, cb, cs = a[mask], b[mask], s[mask]
            keep = cs > np.median(cs)
            todo.append((members, ca[keep], cb[keep], cs[keep]))
    return done


def _verify_block(
    block: list[int],
    atoms: list[list[int]],
    feats: Features,
    vectors: np.ndarray,
    cfg: ClusterConfig,
    tau: float,
) -> list[list[int]]:
    members = np.array([i for k in block for i in atoms[k]], dtype=np.int64)
    local = {int(i): x for x, i in enumerate(members)}
    sim, bad, ok = _dense_block(members, feats, vectors, cfg)
    # Two posts of one channel share a story only if they are close on their own (penalty included),
    # never carried in by a group's average: one subreddit's many posts on a topic stay apart.
    ch = feats.channels[members]
    same = (ch[:, None] == ch[None, :]) & (ch[:, None] >= 0)
    # ... unless both name one versioned product: a launch's threads in its own subreddit ("Qwen3-30B-A3B
    # is magic", "Qwen 3 !!!") are its story, joined by the group's average like any other source's.
    same &= ~same_product(feats, members[:, None], members[None, :], same & (sim < tau))
    bad |= same & (sim < tau)
    np.fill_diagonal(sim, 1.0)
    np.fill_diagonal(bad, False)
    names, name_df = None, None
    if cfg.name_guard:
        rare = feats.rare[members].toarray() > 0
        cols = np.flatnonzero(rare.sum(axis=0) >= 2)
        names, name_df = rare[:, cols], feats.rare_df[cols]
    extra = (cfg.spread, names, name_df)
    # Link-joined atoms are fixed units; similarity inside them is not questioned.
    units = [[local[i] for i in atoms[k]] for k in block]
    for u in units:
        bad[np.ix_(u, u)] = False
        ok[np.ix_(u, u)] = True
        sim[np.ix_(u, u)] = np.maximum(sim[np.ix_(u, u)], 1.0)
    unit_of = np.empty(len(members), dtype=np.int64)
    for k, u in enumerate(units):
        unit_of[u] = k
    proposals = hdbscan_groups(sim, bad, cfg.min_cluster_size)
    # Each hdbscan group is verified from its units upward; then groups and noise may still merge.
    verified: list[list[int]] = []
    for prop in proposals:
        prop_units = sorted({int(unit_of[x]) for x in prop})
        verified.extend(
            average_link([units[u] for u in prop_units], sim, bad, ok, tau, cfg.pair_floor, *extra)
        )
    seen: set[int] = set()
    starts = []
    for grp in verified:
        us = sorted({int(unit_of[x]) for x in grp} - seen)
        if us:
            seen.update(us)
            starts.append([x for u in us for x in units[u]])
    merged = average_link(starts, sim, bad, ok, tau, cfg.pair_floor, *extra)
    out: list[list[int]] = []
    for grp in merged:
        for part in medoid_trim(grp, sim, unit_of, cfg.medoid_floor):
            out.append([int(members[x]) for x in part])
    return out


def _lead(
    members: Sequence[Item], inlinks: dict[str, int], linkers: set[str], central: dict[str, float]
) -> Item:
    """The primary source: never an item that links to another member when some member links to none
    (a blog entry linking an HN post's article, or a thread linking another thread, is about it); then
    paper over thread and lab post over repost, then the most linked-to; among posts of one kind, the
    one that best stands for the rest (highest mean cosine to them: "Qwen 3 release imminent", not "Qwen
    time" or "It's happening!"), then the earliest."""
    pool = [i for i in members if i.key not in linkers] or list(members)
    return min(
        pool,
        key=lambda i: (
            _PRIORITY.get(i.source, 6),
            -inlinks.get(i.key, 0),
            -round(central.get(i.key, 0.0), 3),
            i.published,
            i.key,
        ),
    )


def _centrality(group: list[int], vectors: np.ndarray, items: Sequence[Item]) -> dict[str, float]:
    """Each member's mean cosine to the other members (0 for a story of one)."""
    if len(group) < 2:
        return {}
    v = vectors[group]
    total = v.sum(axis=0)
    mean = (v @ total - 1.0) / (len(group) - 1)
    return {items[i].key: float(m) for i, m in zip(group, mean, strict=True)}


def headline(item: Item) -> str:
    """A story's heading from its lead: the title, else the start of the text, at most 140 characters."""
    text = item.title.strip() or " ".join(item.text.split())
    return truncate(text, 140)


def story_id(lead: Item) -> str:
    return "s-" + hashlib.sha1(lead.key.encode("utf-8")).hexdigest()[:12]


def cluster(items: Sequence[Item], vectors: np.ndarray, cfg: ClusterConfig) -> list[Story]:
    """Group items into stories; every item lands in exactly one story, singletons included."""
    if not items:
        return []
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.shape[0] != len(items):
        raise ValueError(f"cluster: {len(items)} items but {vectors.shape[0]} vectors")
    feats = build_features(items, vectors)
    uf = link_joins(feats, cfg.max_refs)
    atoms = uf.groups()
    groups = _semantic_groups(atoms, feats, vectors, items, cfg)
    stories = []
    for grp in groups:
        members = [items[i] for i in sorted(grp, key=lambda i: (items[i].published, items[i].key))]
        ordered = sorted(grp)
        lead = _lead(members, *_inlinks(ordered, feats, items), _centrality(ordered, vectors, items))
        stories.append(Story(id=story_id(lead), items=tuple(members), lead=lead, headline=headline(lead)))
    stories.sort(key=lambda s: (-len(s.items), s.lead.published, s.id))
    return stories


def _inlinks(group: list[int], feats: Features, items: Sequence[Item]) -> tuple[dict[str, int], set[str]]:
    """How many members of other channels link to each member (a feed cannot vouch for its own
    entries), and which members link to another member."""
    counts: dict[str, int] = {}
    linkers: set[str] = set()
    for i in group:
        for j in group:
            if i != j and feats.ids[i] & feats.refs[j]:
                linkers.add(items[j].key)
                if not (feats.channels[i] >= 0 and feats.channels[i] == feats.channels[j]):
                    counts[items[i].key] = counts.get(items[i].key, 0) + 1
    return counts, linkers


__all__ = ["DEFAULT_SIMILARITY", "channel", "cluster", "headline", "link_joins", "story_id"]
