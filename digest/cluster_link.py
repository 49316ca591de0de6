"""Pair constraints and the constrained linkage that turns verified pairs into stories; pure.

Split from cluster.py and cluster_text.py to keep each small. Similarity S of a pair is
w·cosine + (1-w)·tf-idf cosine minus soft penalties (`penalty`); cannot-links (`block_constraints`)
are never overridden; a merge also needs a vouched pair (evidence beyond topic).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from digest.cluster_text import SHARED_NAMES, Features

# Small blocks are settled by constrained average linkage alone: hdbscan's proposals only matter in
# bigger ones (same results on the dev sets at 3 and at 8), and each call has a fixed cost.
HDBSCAN_MIN_BLOCK = 8


def versions_clash(feats: Features, a: int, b: int) -> bool:
    """The same product name with disjoint versions ("Opus 4.5" vs "Opus 4.6") is two stories."""
    va, vb = feats.versions[a], feats.versions[b]
    return any(not (va[k] & vb[k]) for k in va.keys() & vb.keys())


@dataclass(frozen=True)
class Rules:
    """The constraint knobs of ClusterConfig that the pair tests need."""

    max_days: float  # hard cut: further apart in time never merge
    paraphrase: float  # cosine that vouches on its own
    lexical_vouch: float  # tf-idf cosine (shared rare names and numbers) that vouches on its own
    channel_penalty: float  # subtracted from S for two posts of one subreddit/feed/account
    day_penalty: float  # subtracted from S per day apart beyond the first
    rumour_penalty: float  # subtracted from S when a leak/rumour/teaser precedes a post that is not one


def penalty(feats: Features, a: np.ndarray, b: np.ndarray, rules: Rules) -> np.ndarray:
    """Soft evidence against a pair (broadcasts like a - b): same channel, days apart beyond one,
    a leak, rumour or teaser posted before a post that is not one (the launch it anticipated).

    Two posts of one subreddit or account can be one story (a repost, a follow-up), but the bar is
    higher, unless both name one coherent versioned product (`Features.marks`: "qwen3-coder-next",
    "opus_4.6"): the threads a launch sets off in its own subreddit are the launch's story. A rumour and the
    launch a few days later drift apart gradually, not at a hard cutoff.
    """
    ca, cb = feats.channels[a], feats.channels[b]
    same = (ca == cb) & (ca >= 0)
    same &= ~same_product(feats, a, b, same)
    days = np.abs(feats.times[a] - feats.times[b]) / 86400.0
    ra, rb, ta, tb = feats.rumour[a], feats.rumour[b], feats.times[a], feats.times[b]
    rumour = (ra & ~rb & (ta < tb)) | (rb & ~ra & (tb < ta))
    return (
        rules.channel_penalty * same
        + rules.day_penalty * np.maximum(days - 1.0, 0.0)
        + rules.rumour_penalty * rumour
    )


def _share(m: sparse.csr_matrix, a: np.ndarray, b: np.ndarray, where: np.ndarray) -> np.ndarray:
    """Whether items a and b (broadcasting) have a column of m in common; only tested where `where`."""
    a, b = np.broadcast_arrays(a, b)
    out = np.zeros(a.shape, dtype=bool)
    if m.nnz == 0 or not where.any():
        return out
    x, y = a[where], b[where]
    out[where] = np.asarray(m[x].multiply(m[y]).sum(axis=1)).ravel() > 0
    return out


# Parts of a mark that name a size or quantisation of one release ("qwen3-30b-a3b" is Qwen3), not
# another product of the family ("qwen3-coder-next", "gpt-5.3-codex").
_SIZE = re.compile(r"^(?:a?\d+(?:\.\d+)?[bmk]?|q\d\w*|fp\d+|int\d+|gguf)$")


def same_product(feats: Features, a: np.ndarray, b: np.ndarray, where: np.ndarray) -> np.ndarray:
    """Pairs (broadcasting, tested where `where`) that name one versioned product: they share a mark,
    and neither names a family member the other does not ("Qwen3 TTS" vs "Qwen3-Coder-Next" share
    "qwen3"; "Qwen3 Coder Next", spelled with spaces, is the same product as "Qwen3-Coder-Next")."""
    out = _share(feats.marks, a, b, where)
    a, b = np.broadcast_arrays(a, b)
    for k in zip(*np.nonzero(out), strict=True):
        i, j = int(a[k]), int(b[k])
        out[k] = not (_member_of(feats, i, j) or _member_of(feats, j, i))
    return out


def _member_of(feats: Features, i: int, j: int) -> bool:
    """Whether item i names a family member ("qwen3-coder-next") of a mark both share that j lacks."""
    shared = feats.mark_terms[i] & feats.mark_terms[j]
    # "qwen3" prefixes "qwen3-coder-next"; a joined version "gpt_5.3" is spelled "gpt-5.3-codex" in a token
    prefixes = {m + "-" for m in shared} | {m.replace("_", "-") + "-" for m in shared}
    for term in feats.token_sets[i] - feats.token_sets[j]:
        for prefix in prefixes:
            if term.startswith(prefix):
                extra = [p for p in term[len(prefix) :].split("-") if p and not _SIZE.match(p)]
                if extra and not set(extra) <= feats.token_sets[j]:
                    return True
    return False


def _hard(feats: Features, a: np.ndarray, b: np.ndarray, max_days: float) -> np.ndarray:
    """Cannot-links that broadcast like a - b: two papers, more than `max_days` apart, or two entries
    of one feed under one title: a newsletter's recurring title ("not much happened today") on two
    days' issues is boilerplate, not one story told twice (a repost would share its URL)."""
    bad = feats.arxiv[a] & feats.arxiv[b]
    ta, tb = feats.feed_title[a], feats.feed_title[b]
    bad = bad | ((ta == tb) & (ta != -1) & (feats.channels[a] == feats.channels[b]))
    if max_days > 0:
        bad = bad | (np.abs(feats.times[a] - feats.times[b]) > max_days * 86400.0)
    return np.asarray(bad, dtype=bool)


def block_constraints(
    feats: Features, members: np.ndarray, cos: np.ndarray, lex: np.ndarray, rules: Rules
) -> tuple[np.ndarray, np.ndarray]:
    """For every pair of `members`: cannot-link (never merge) and vouched (evidence beyond topic).

    Cannot-link: two papers, more than `max_days` apart, or clashing versions. Vouched: a
    near-paraphrase (cosine >= `paraphrase`), a strong overlap of rare words (tf-idf cosine >=
    `lexical_vouch`) or a shared coherent word; a post and a paper also need the post to name the paper.
    """
    bad = _hard(feats, members[:, None], members[None, :], rules.max_days)
    with_versions = [x for x, i in enumerate(members) if feats.versions[int(i)]]
    for p, x in enumerate(with_versions):
        for y in with_versions[p + 1 :]:
            if versions_clash(feats, int(members[x]), int(members[y])):
                bad[x, y] = bad[y, x] = True
    c = feats.coherent[members]
    ok = (c @ c.T).toarray() > 0
    ok |= lex >= rules.lexical_vouch
    w = feats.words[members]
    p = feats.paper_names[members]
    named = (p @ w.T).toarray() >= np.maximum(np.asarray(p.sum(axis=1)), 1)  # every part of the name
    ax = feats.arxiv[members]
    paper_post = ax[:, None] & ~ax[None, :]
    ok &= ~paper_post | named
    ok &= ~paper_post.T | named.T
    e = feats.names[members]
    ok |= ((e @ e.T).toarray() >= SHARED_NAMES) & ~ax[:, None] & ~ax[None, :]
    ok |= cos >= rules.paraphrase
    np.fill_diagonal(bad, False)
    return bad, ok


def pair_constraints(
    feats: Features, a: np.ndarray, b: np.ndarray, cos: np.ndarray, lex: np.ndarray, rules: Rules
) -> np.ndarray:
    """`block_constraints` for aligned pair lists: True where the pair may merge and is vouched."""
    bad = _hard(feats, a, b, rules.max_days)
    for k in np.flatnonzero(~bad):
        if feats.versions[int(a[k])] and feats.versions[int(b[k])]:
            bad[k] = versions_clash(feats, int(a[k]), int(b[k]))

    def shared(m1: sparse.csr_matrix, m2: sparse.csr_matrix) -> np.ndarray:
        return np.asarray(m1.multiply(m2).sum(axis=1)).ravel() > 0

    ok = shared(feats.coherent[a], feats.coherent[b]) | (lex >= rules.lexical_vouch)
    xa, xb = feats.arxiv[a], feats.arxiv[b]
    ok &= ~(xa & ~xb) | names_paper(feats, b, a)
    ok &= ~(xb & ~xa) | names_paper(feats, a, b)
    ok |= _share_names(feats, a, b) & ~xa & ~xb
    ok |= cos >= rules.paraphrase
    return ok & ~bad


def names_paper(feats: Features, post: np.ndarray, paper: np.ndarray) -> np.ndarray:
    """Aligned pairs where the post has every part of the paper's own name ("Vibe AIGC: …" is not
    named by a post on vibe coding)."""
    p = feats.paper_names[paper]
    parts = np.asarray(p.sum(axis=1)).ravel()
    found = np.asarray(p.multiply(feats.words[post]).sum(axis=1)).ravel()
    return (parts > 0) & (found >= parts)


def _share_names(feats: Features, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Aligned pairs whose headlines share SHARED_NAMES rare names (names are rare: a tiny product)."""
    both = sparse.coo_matrix(feats.names @ feats.names.T)
    hit = both.data >= SHARED_NAMES
    n = np.int64(feats.names.shape[0])
    keys = both.row[hit].astype(np.int64) * n + both.col[hit]
    return np.isin(a.astype(np.int64) * n + b, keys)


def average_link(
    groups: list[list[int]],
    sim: np.ndarray,
    bad: np.ndarray,
    ok: np.ndarray,
    tau: float,
    floor: float,
    spread: float = 0.0,
    names: np.ndarray | None = None,
    name_df: np.ndarray | None = None,
) -> list[list[int]]:
    """Constrained average linkage over starting groups (Lance-Williams updates on group sums).

    A merge needs score >= tau, every cross pair >= floor (no chains of strangers), no cannot-link
    between the groups, and at least one vouched pair. Two groups of 2+ items are scored by their mean
    cross similarity over (cohesion_a · cohesion_b)^(spread/2), cohesion = mean similarity within a
    group, self pairs included: spread=0 is plain average linkage, spread=1 the cosine of the group
    centroids ("is B as close to A as A's own members are to each other"), so two halves of a big,
    loosely worded story can meet without lowering the bar for single items. With `names` (item ×
    rare word, bool) and `name_df` (each word's count in the batch), two groups of 2+ items whose own
    names (words in half their members and mostly found in this group) appear nowhere in the other are
    two stories ("American Eagle" vs "Dick's" earnings; "profit", common to both, is not a name).
    """
    g = len(groups)
    if g < 2:
        return [list(x) for x in groups]
    size = np.array([len(x) for x in groups], dtype=np.float64)
    order = np.array([i for grp in groups for i in grp], dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(size[:-1])]).astype(np.int64)

    def reduce(mat: np.ndarray, op: np.ufunc) -> np.ndarray:
        sub = mat[np.ix_(order, order)]
        return np.asarray(op.reduceat(op.reduceat(sub, starts, axis=0), starts, axis=1))

    tot = reduce(sim, np.add)
    gb = reduce(bad.astype(np.int64), np.add) > 0
    gv = reduce(ok.astype(np.int64), np.add) > 0
    gm = reduce(sim, np.minimum)
    counts = None
    df = name_df if name_df is not None else np.zeros(0)
    if names is not None and name_df is not None:
        counts = np.add.reduceat(names[order].astype(np.int64), starts, axis=0)
    alive = np.ones(g, dtype=bool)
    members = [list(x) for x in groups]

    def scores(rows: np.ndarray) -> np.ndarray:
        coh = np.clip(np.diag(tot) / (size * size), 1e-3, None) ** (spread / 2.0)
        out = tot[rows] / np.outer(size[rows], size)
        both = np.outer(size[rows] > 1, size > 1)
        out = np.where(both, out / np.outer(coh[rows], coh), out)
        blocked = gb[rows] | ~gv[rows] | (gm[rows] < floor) | ~alive[None, :] | ~alive[rows, None]
        out[blocked] = -np.inf
        out[np.arange(len(rows)), rows] = -np.inf
        return out

    gs = scores(np.arange(g))
    while True:
        a, b = divmod(int(np.argmax(gs)), g)
        if not np.isfinite(gs[a, b]) or gs[a, b] < tau:
            break
        if counts is not None and _names_clash(counts[a], counts[b], size[a], size[b], df):
            gb[a, b] = gb[b, a] = True
            gs[a, b] = gs[b, a] = -np.inf
            continue
        inner = tot[a, a] + tot[b, b] + 2.0 * tot[a, b]
        tot[a] += tot[b]
        tot[:, a] = tot[a]
        tot[a, a] = inner
        for m in (gb, gv):
            m[a] |= m[b]
            m[:, a] = m[a]
        gm[a] = np.minimum(gm[a], gm[b])
        gm[:, a] = gm[a]
        if counts is not None:
            counts[a] += counts[b]
        size[a] += size[b]
        alive[b] = False
        members[a].extend(members[b])
        gs[b] = gs[:, b] = -np.inf
        gs[a] = scores(np.array([a]))[0]  # symmetric; only pairs with `a` changed
        gs[:, a] = gs[a]
    return [members[k] for k in range(g) if alive[k]]


def _names_clash(ca: np.ndarray, cb: np.ndarray, na: float, nb: float, df: np.ndarray) -> bool:
    """Both groups (2+ items) have own names, and neither group's names occur in the other."""
    if na < 2 or nb < 2:
        return False
    own_a = (ca >= na / 2.0) & (ca * 2 > df)
    own_b = (cb >= nb / 2.0) & (cb * 2 > df)
    if not own_a.any() or not own_b.any():
        return False
    return not (own_a & (cb > 0)).any() and not (own_b & (ca > 0)).any()


def medoid_trim(group: list[int], sim: np.ndarray, unit_of: np.ndarray, floor: float) -> list[list[int]]:
    """Split off link-joined units with no member close enough to the group's medoid (own stories then)."""
    if len(group) < 3:
        return [group]
    sub = sim[np.ix_(group, group)]
    medoid = int(np.argmax(sub.sum(axis=1)))
    close: dict[int, bool] = {}
    for k, x in enumerate(group):
        u = int(unit_of[x])
        close[u] = close.get(u, False) or k == medoid or bool(sub[medoid, k] >= floor)
    keep = [x for x in group if close[int(unit_of[x])]]
    rest: dict[int, list[int]] = {}
    for x in group:
        if not close[int(unit_of[x])]:
            rest.setdefault(int(unit_of[x]), []).append(x)
    return [keep, *rest.values()]


def hdbscan_groups(sim: np.ndarray, bad: np.ndarray, min_size: int) -> list[list[int]]:
    """hdbscan proposals over 1-S (cannot-links pushed far apart); noise points come back as singletons."""
    m = sim.shape[0]
    if m < HDBSCAN_MIN_BLOCK:
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
