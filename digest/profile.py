"""The reader's profile, their feedback and the featured ledger, and building the profile from config.

A profile is what the ranking knows about one reader, as vectors and counts, built once per run:
interest texts and negatives (embedded), liked and disliked examples (embedded, recency-weighted),
the authors and arXiv categories of liked papers (for track record), muted keywords/sources/domains.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np

from digest.config import ProfileConfig
from digest.errors import ConfigError
from digest.models import Item
from digest.urls import site

if TYPE_CHECKING:
    from digest.embed import Embedder

# Enough likes and dislikes to fit a classifier instead of plain similarity (each class).
MIN_CLASS_EXAMPLES = 8
# Featured stories a new one is compared with for novelty: about ten issues of ten.
SENT_HISTORY = 100


@dataclass(frozen=True)
class Feedback:
    """One judgement by the reader: like, dislike or mute, on an item key, URL, arXiv id or keyword."""

    kind: str  # "like" | "dislike" | "mute"
    target: str
    at: datetime


@dataclass(frozen=True)
class Featured:
    """A story an earlier issue carried: the ledger that stops repeats.

    `keys` are version-free identities (item keys, "arxiv:<id>", canonical URLs); `fingerprint` lists
    the sources and domains the story had then, so a later week can tell a material update (a new
    source or domain, e.g. a lab blog post or an HN thread about the paper) from the same story again.
    """

    week: str
    story_id: str
    keys: tuple[str, ...]
    title: str
    fingerprint: str


@dataclass(frozen=True)
class Mutes:
    """What the reader silenced, normalised for matching: keywords, sources and domains in lower case,
    domains without "www."; a source given as "r/X" keeps its "r/" (that subreddit only)."""

    keywords: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()  # a source kind ("hn"), a subreddit or a feed's name
    domains: tuple[str, ...] = ()
    feeds: tuple[str, ...] = ()  # feeds muted by muting one of their posts
    keys: frozenset[str] = frozenset()  # identities of muted items: their stories never come back


@dataclass(frozen=True)
class Profile:
    interest_texts: tuple[str, ...]
    interest_vecs: np.ndarray  # (k, d), rows L2-normalised
    interest_weights: np.ndarray  # (k,)
    negative_texts: tuple[str, ...]
    negative_vecs: np.ndarray
    negative_weights: np.ndarray
    liked_vecs: np.ndarray  # (n, d), newest last
    liked_weights: np.ndarray  # (n,), recency weights summing to 1 (empty when no likes)
    liked_titles: tuple[str, ...]
    disliked_vecs: np.ndarray
    disliked_titles: tuple[str, ...] = ()  # one per row of disliked_vecs, for the reason
    liked_keys: frozenset[str] = frozenset()
    disliked_keys: frozenset[str] = frozenset()  # the ids of disliked items: their stories are left out
    liked_authors: Mapping[str, int] = field(default_factory=dict)  # normalised name → liked papers
    liked_categories: Mapping[str, int] = field(default_factory=dict)  # arXiv category → liked papers
    liked_with_record: int = 0  # likes whose full record (authors, categories) is known
    mutes: Mutes = field(default_factory=Mutes)
    classifier: tuple[np.ndarray, float] | None = None  # (w, b) over embeddings: like vs dislike
    title_examples: tuple[str, ...] = ()  # the `title_history` most recent liked titles, oldest first
    liked_records: tuple[Item, ...] = ()  # of those, the liked papers whose record is known (authors)
    sent: tuple[Featured, ...] = ()  # the `SENT_HISTORY` most recently featured stories, with a title
    sent_vecs: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))  # their titles

    @property
    def has_likes(self) -> bool:
        return len(self.liked_vecs) > 0


def author_key(name: str) -> str:
    """'Jane Q. Doe', 'Doe, Jane Q.' and 'jane q doe' → 'jane q doe'.

    The full name, not surname plus initial: with initials, common surnames ("Wang Z.") would give
    half the pool a track record it does not have.
    """
    if "," in name:  # "Doe, Jane"
        surname, _, first = name.partition(",")
        name = f"{first} {surname}"
    return " ".join(re.findall(r"[^\W\d_]+", name.lower()))


def item_ids(item: Item) -> set[str]:
    """The identities an item goes by: its key, version-free arXiv ids, its canonical URL."""
    from digest.urls import arxiv_ids, canonical_url

    out = {item.key}
    for aid in arxiv_ids(item.url) | arxiv_ids(item.key):
        out.add(f"arxiv:{aid}")
    if item.key.startswith("arxiv:"):
        out.add("arxiv:" + item.key.split(":", 1)[1].split("v")[0])
    url = canonical_url(item.url)
    if url:
        out.add(url)
    return out


def profile_text(item: Item) -> str:
    """What a liked item looks like to the embedder; the same text the pipeline embeds for stories."""
    from digest.embed import item_text

    return item_text(item)


def _recency_weights(n: int) -> np.ndarray:
    """zotero-arxiv-daily's decay: the newest like weighs most, 1/log10(age rank + 10), summing to 1."""
    if n == 0:
        return np.zeros(0, dtype=np.float32)
    w = 1.0 / np.log10(np.arange(n)[::-1] + 10.0)
    return (w / w.sum()).astype(np.float32)


def _encode(embedder: Embedder, texts: Sequence[str], dim: int) -> np.ndarray:
    if not texts:
        return np.zeros((0, dim), dtype=np.float32)
    v = np.asarray(embedder.encode(list(texts)), dtype=np.float32)
    norms = np.linalg.norm(v, axis=1, keepdims=True)
    return v / np.where(norms == 0, 1.0, norms)


def _fit_classifier(pos: np.ndarray, neg: np.ndarray) -> tuple[np.ndarray, float] | None:
    if len(pos) < MIN_CLASS_EXAMPLES or len(neg) < MIN_CLASS_EXAMPLES:
        return None
    from sklearn.linear_model import LogisticRegression

    x = np.vstack([pos, neg])
    y = np.r_[np.ones(len(pos)), np.zeros(len(neg))]
    clf = LogisticRegression(C=1.0, class_weight="balanced", max_iter=1000).fit(x, y)
    return clf.coef_[0].astype(np.float32), float(clf.intercept_[0])


def mute_terms(fb: Feedback, feedback_items: Mapping[str, Item]) -> tuple[str, str, str]:
    """(keyword, domain, feed) a mute stands for: a keyword as given, a URL's domain, a blog item's feed.

    Muting one paper, post or HN story mutes that story only (see `Mutes.keys`): its arXiv category,
    subreddit or "Hacker News" feed is far too broad to silence on one click. A blog post's feed is not.
    """
    target = fb.target
    item = feedback_items.get(target)
    if item is not None:
        return "", "", item.feed if item.source == "rss" else ""
    if target.startswith(("http://", "https://")):
        return "", site(target), ""
    return target.lower(), "", ""


def _source_name(name: str) -> str:
    """ "r/X" stays "r/x" (a subreddit only); anything else is a kind or a name of any source."""
    return name.strip().lower().removeprefix("/")


def muted(cfg: ProfileConfig, feedback: Sequence[Feedback], feedback_items: Mapping[str, Item]) -> Mutes:
    """The config's mutes plus the stored `mute` judgements (see `mute_terms`)."""
    keywords = [k.lower() for k in cfg.muted_keywords]
    domains = [d.lower().removeprefix("www.") for d in cfg.muted_domains]
    feeds: list[str] = []
    keys: set[str] = set()
    for fb in feedback:
        if fb.kind == "mute":
            if fb.target in feedback_items:
                keys |= item_ids(feedback_items[fb.target])
                keys.add(fb.target)
            kw, dom, feed = mute_terms(fb, feedback_items)
            keywords += [kw] if kw else []
            domains += [dom] if dom else []
            feeds += [feed] if feed else []
    return Mutes(
        keywords=tuple(dict.fromkeys(keywords)),
        sources=tuple(dict.fromkeys(_source_name(s) for s in cfg.muted_sources)),
        domains=tuple(dict.fromkeys(domains)),
        feeds=tuple(dict.fromkeys(feeds)),
        keys=frozenset(keys),
    )


def muted_channel(item: Item, mutes: Mutes) -> str:
    """Why everything from where `item` came from is silenced ("muted source r/StableDiffusion"), or "".

    A muted source is a source kind (`hn`, `reddit`), a subreddit (`StableDiffusion`, `r/StableDiffusion`:
    given with "r/", only the subreddit) or a feed's name (`AINews`), in any case; a muted domain covers
    its subdomains; a muted feed (from muting one of its posts) is a blog feed's name.
    """
    feed, sources = item.feed.lower(), mutes.sources
    if item.source.lower() in sources:
        return f"muted source {item.source}"
    if feed and item.source == "reddit" and f"r/{feed}" in sources:
        return f"muted source r/{item.feed}"
    if feed and feed in sources:
        return f"muted source {'r/' if item.source == 'reddit' else ''}{item.feed}"
    host = site(item.url)
    for d in mutes.domains:
        if host == d or host.endswith("." + d):
            return f"muted domain {d}"
    # a feed muted by muting one of its posts is a blog feed: not r/OpenAI for a blog named "OpenAI"
    if feed and item.source == "rss" and feed in {f.lower() for f in mutes.feeds}:
        return f"muted feed {item.feed}"
    return ""


def check_wants(cfg: ProfileConfig, likes: bool, other_feedback: bool = False) -> None:
    """A profile must say what the reader wants: interests or likes. Negatives alone are an error."""
    if cfg.interests or likes:
        return
    if cfg.negatives or other_feedback:
        raise ConfigError(
            "profile: only negatives given; add profile.interests, profile.liked or a liked item "
            "so the ranking knows what you want, not only what you do not"
        )
    raise ConfigError("profile: empty; add profile.interests (short texts) or profile.liked examples")


def build_profile(
    cfg: ProfileConfig,
    embedder: Embedder,
    liked_items: Sequence[Item],
    feedback: Sequence[Feedback],
    feedback_items: Mapping[str, Item],
    text: Callable[[Item], str] | None = None,
    featured: Sequence[Featured] = (),
) -> Profile:
    """Embed interests, negatives and examples; the last judgement on a target wins.

    Liked examples are the configured ones plus stored likes; only the `cfg.history` most recent count
    (older tastes fade, as in zotero-arxiv-daily). A profile of negatives only is an error.
    `text` is how an item is put into words for the embedder; it must match the story vectors'
    (default: the pipeline's `embed.item_text`). `featured` (earlier issues' stories) is embedded by
    title, for the novelty of this week's stories against what was already sent.
    """
    latest: dict[str, Feedback] = {}
    for fb in sorted(feedback, key=lambda f: f.at):
        if fb.kind in ("like", "dislike"):
            latest[fb.target] = fb
    likes = list(liked_items)
    likes += [feedback_items[t] for t, fb in latest.items() if fb.kind == "like" and t in feedback_items]
    dislikes = [feedback_items[t] for t, fb in latest.items() if fb.kind == "dislike" and t in feedback_items]
    disliked_ids = {t for t, fb in latest.items() if fb.kind == "dislike"}
    likes = [i for i in likes if not (item_ids(i) & disliked_ids)]
    has_like_fb = any(fb.kind == "like" for fb in latest.values())
    check_wants(cfg, bool(likes) or has_like_fb, bool(dislikes or feedback))
    likes.sort(key=lambda i: i.published)
    seen: set[str] = set()
    unique: list[Item] = []
    for item in reversed(likes):  # newest first, so a repeated like keeps its latest date
        ids = item_ids(item)
        if not ids & seen:
            unique.append(item)
        seen |= ids
    unique.reverse()
    recent = unique[-cfg.title_history :] if cfg.title_history > 0 else []
    titles = tuple(i.title for i in recent)
    likes = unique[-cfg.history :] if cfg.history > 0 else []

    as_text = text or profile_text
    interest_vecs = _encode(embedder, [i.text for i in cfg.interests], 0)
    dim = interest_vecs.shape[1] if len(interest_vecs) else 0
    liked_vecs = _encode(embedder, [as_text(i) for i in likes], dim)
    dim = dim or (liked_vecs.shape[1] if len(liked_vecs) else 0)
    negative_vecs = _encode(embedder, [i.text for i in cfg.negatives], dim)
    disliked_vecs = _encode(embedder, [as_text(i) for i in dislikes], dim)
    sent = [f for f in sorted(featured, key=lambda f: f.week) if f.title.strip()][-SENT_HISTORY:]
    sent_vecs = _encode(embedder, [f.title for f in sent], dim)

    authors: Counter[str] = Counter()
    categories: Counter[str] = Counter()
    with_record = 0
    for item in likes:
        if item.authors:
            with_record += 1
            authors.update({author_key(a) for a in item.authors if author_key(a)})
            categories.update(set(item.categories))

    return Profile(
        interest_texts=tuple(i.text for i in cfg.interests),
        interest_vecs=interest_vecs,
        interest_weights=np.array([i.weight for i in cfg.interests], dtype=np.float32),
        negative_texts=tuple(i.text for i in cfg.negatives),
        negative_vecs=negative_vecs,
        negative_weights=np.array([i.weight for i in cfg.negatives], dtype=np.float32),
        liked_vecs=liked_vecs,
        liked_weights=_recency_weights(len(likes)),
        liked_titles=tuple(i.title for i in likes),
        disliked_vecs=disliked_vecs,
        disliked_titles=tuple(i.title or i.url or i.key for i in dislikes),
        liked_keys=frozenset(k for i in likes for k in item_ids(i)),
        disliked_keys=frozenset(disliked_ids | {k for i in dislikes for k in item_ids(i)}),
        liked_authors=dict(authors),
        liked_categories=dict(categories),
        liked_with_record=with_record,
        mutes=muted(cfg, feedback, feedback_items),
        classifier=_fit_classifier(liked_vecs, disliked_vecs),
        title_examples=titles,
        liked_records=tuple(i for i in recent if i.authors),
        sent=tuple(sent),
        sent_vecs=sent_vecs,
    )
