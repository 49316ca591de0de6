"""Deterministic joins, before any similarity: union-find over the identities items carry (canonical
URL, arXiv id, DOI) and the ones they point at. Pure; the keys come from `cluster_text.Features`."""

from __future__ import annotations

from digest.cluster_text import Features


class UnionFind:
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


def link_joins(feats: Features, max_refs: int) -> UnionFind:
    """Union items that share an identity (URL, arXiv id, DOI) or where one references another's."""
    n = len(feats.ids)
    uf = UnionFind(n)
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
