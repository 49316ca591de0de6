"""What the clusterer knows about an item besides its vector: ids, links, names, versions, channel.

Split from cluster.py to keep both small; pure functions of the items.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import numpy as np
from scipy import sparse

from digest.models import Item
from digest.urls import arxiv_ids, canonical_url, dois

LEAD_CHARS = 240
# Words that carry no story identity, on top of a small English stop list.
_STOP = frozenset(
    """a about after again against all also am an and any are as at be because been before being between
    both but by can could did do does doing down during each few for from further had has have having he
    her here hers him his how i if in into is it its itself just me more most my new no nor not now of off
    on once only or other our out over own same she should so some such than that the their them then there
    these they this those through to too under until up very was we were what when where which while who
    whom why will with would you your yours vs via get got one two first last week today year years day
    says said say using use used make makes made like just how what why new now i'm it's don't can't
    """.split()
)
_MONTHS = frozenset(
    "jan feb mar apr may jun jul aug sep sept oct nov dec january february march april june july august "
    "september october november december monday tuesday wednesday thursday friday saturday sunday".split()
)
_NOT_NAMES = _MONTHS | frozenset(
    "top day week part chapter section step level page season episode vol volume issue round phase no number "
    "the a an in on at of for and or with by to from".split()
)
_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9+#]*(?:[.\-_/][A-Za-z0-9+#]+)*")
_VERSION = re.compile(r"\b([A-Za-z][A-Za-z]+)[\s\-]?v?(\d+(?:\.\d+)*)(?![\d.]*%)")
_URL_IN_TEXT = re.compile(r"https?://[^\s<>\"')\]]+")
_NO_FEED_SINGLE = frozenset({"hn"})  # sources that are one front page: same source = same channel


@dataclass(frozen=True)
class Features:
    ids: list[set[str]]  # identity keys: canonical URL, arXiv id, DOI of the item itself
    refs: list[set[str]]  # keys the item points at (links, ids in its text)
    tfidf: sparse.csr_matrix  # l2-normalised, IDF over the batch
    names: list[frozenset[str]]  # name-like tokens (capitalised, digits, acronyms, CamelCase)
    words: list[frozenset[str]]  # every content token
    versions: list[dict[str, frozenset[str]]]  # "gpt" → {"5.3"}; a name with different versions differs
    channels: list[str]
    times: np.ndarray  # seconds since epoch
    df: dict[str, int]


def channel(item: Item) -> str:
    """Where in its source an item came from; two items of one channel never merge on similarity alone.

    arXiv papers are each their own work; a subreddit, feed, or account is one channel; "" = unknown.
    """
    if item.source == "arxiv":
        return "arxiv"
    if item.feed:
        return f"{item.source}:{item.feed.strip().lower()}"
    if item.source in _NO_FEED_SINGLE:
        return item.source
    if item.authors:
        return f"{item.source}@{item.authors[0].strip().lower()}"
    return ""


def _url_key(url: str) -> str:
    c = canonical_url(url)
    # A bare homepage is not a story.
    return "u:" + c if c and urlsplit(c).path.strip("/") else ""


def _identity(item: Item) -> tuple[set[str], set[str]]:
    ids: set[str] = set()
    refs: set[str] = set()
    key = _url_key(item.url)
    if key:
        ids.add(key)
    ids |= {"a:" + x for x in arxiv_ids(item.url)} | {"d:" + x for x in dois(item.url)}
    if item.source == "arxiv" and item.key.startswith("arxiv:"):
        ids |= {"a:" + x for x in arxiv_ids("arXiv:" + item.key.removeprefix("arxiv:"))}
    if item.source == "arxiv":
        # A paper citing another paper is not the same story; only its own ids count.
        return ids, set()
    body = f"{item.title}\n{item.text}"
    urls = list(item.links) + _URL_IN_TEXT.findall(body)
    for u in urls:
        k = _url_key(u)
        if k:
            refs.add(k)
        refs |= {"a:" + x for x in arxiv_ids(u)} | {"d:" + x for x in dois(u)}
    refs |= {"a:" + x for x in arxiv_ids(body)} | {"d:" + x for x in dois(body)}
    return ids, refs - ids


def _text(item: Item) -> str:
    title = " ".join(item.title.split())
    body = " ".join(_URL_IN_TEXT.sub(" ", item.text).split())
    if not title:
        return body[: LEAD_CHARS * 2]
    return f"{title}. {body[:LEAD_CHARS]}" if body else title


def tokens(text: str) -> tuple[list[str], set[str]]:
    """Content tokens (lower-cased, light plural stemming, name+version joined) and the name tokens."""
    out: list[str] = []
    names: set[str] = set()
    raw = _TOKEN.findall(text.replace("'s ", " ").replace("’s ", " "))
    for pos, tok in enumerate(raw):
        low = tok.lower()
        if low in _STOP or (len(low) < 2 and not low.isdigit()):
            continue
        if len(low) > 4 and low.endswith("s") and not low.endswith(("ss", "us", "is")) and low.isalpha():
            low = low[:-1]
        out.append(low)
        has_digit = any(ch.isdigit() for ch in tok)
        capital = tok[0].isupper() and low not in _NOT_NAMES
        acronym = tok.isupper() and len(tok) >= 2
        camel = any(ch.isupper() for ch in tok[1:]) and any(ch.islower() for ch in tok)
        if (has_digit and not tok.isdigit()) or capital or acronym or camel:
            names.add(low)
        if "-" in low or "/" in low:
            out.extend(p for p in re.split(r"[-/]", low) if len(p) > 1 and p not in _STOP)
    for m in _VERSION.finditer(text):
        name, ver = m.group(1).lower(), m.group(2)
        if name in _STOP or name in _NOT_NAMES:
            continue
        joined = f"{name}_{ver}"
        out.append(joined)
        names.add(joined)
    return out, names


def _versions(text: str) -> dict[str, frozenset[str]]:
    found: dict[str, set[str]] = {}
    for m in _VERSION.finditer(text):
        name = m.group(1)
        if not (name[0].isupper() or name.isupper()) or name.lower() in _NOT_NAMES or name.lower() in _STOP:
            continue
        found.setdefault(name.lower(), set()).add(m.group(2))
    return {k: frozenset(v) for k, v in found.items()}


def build_features(items: Sequence[Item]) -> Features:
    from sklearn.feature_extraction.text import TfidfVectorizer

    ids, refs, docs, names, versions = [], [], [], [], []
    for item in items:
        i, r = _identity(item)
        ids.append(i)
        refs.append(r)
        text = _text(item)
        toks, nm = tokens(text)
        docs.append(toks)
        names.append(frozenset(nm))
        versions.append(_versions(text))
    df: dict[str, int] = {}
    for d in docs:
        for t in set(d):
            df[t] = df.get(t, 0) + 1
    if any(docs):
        vec = TfidfVectorizer(analyzer=lambda d: d, sublinear_tf=True, norm="l2")
        tfidf = sparse.csr_matrix(vec.fit_transform(docs), dtype=np.float32)
    else:
        tfidf = sparse.csr_matrix((len(items), 1), dtype=np.float32)
    times = np.array([i.published.timestamp() for i in items], dtype=np.float64)
    words = [frozenset(d) for d in docs]
    return Features(ids, refs, tfidf, names, words, versions, [channel(i) for i in items], times, df)


RARE_SHARE = 0.05


def distinctive(feats: Features, a: int, b: int) -> bool:
    """Do a and b share a word few items have (a product, model, company, place, number)?"""
    shared = feats.words[a] & feats.words[b]
    if not shared:
        return False
    cap = max(3, int(RARE_SHARE * len(feats.ids)))
    return any(feats.df.get(t, 0) <= cap for t in shared)


def versions_clash(feats: Features, a: int, b: int) -> bool:
    """The same product name with disjoint versions ("Opus 4.5" vs "Opus 4.6") is two stories."""
    va, vb = feats.versions[a], feats.versions[b]
    return any(not (va[k] & vb[k]) for k in va.keys() & vb.keys())


def cannot_link(a: int, b: int, feats: Features, max_days: float) -> bool:
    """Pairs that similarity must never join: one channel, too far apart in time, clashing versions."""
    ca, cb = feats.channels[a], feats.channels[b]
    if ca and ca == cb:
        return True
    if max_days > 0 and abs(feats.times[a] - feats.times[b]) > max_days * 86400.0:
        return True
    return versions_clash(feats, a, b)


def vouched(a: int, b: int, feats: Features, cos: float, paraphrase: float) -> bool:
    """Is there evidence beyond topic that a and b are one story: a shared rare word or a paraphrase?

    Two groups merge only through at least one vouched pair; similarity alone is topic, not identity.
    """
    return cos >= paraphrase or distinctive(feats, a, b)
