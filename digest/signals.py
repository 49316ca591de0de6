"""Signals of one story, each a number with the reason a reader is shown; pure, no model.

Engagement is a percentile within its source (and feed) this week, unknown is neutral; coverage counts
distinct sources and domains; freshness places the newest item in the week; notability reads what a
paper's record says about its likely reach (team size, "technical report", length, named system,
code, venue); track record counts liked papers by the same authors; novelty compares a story's vector
with the titles of stories already sent (the vectors come in; no model runs here).
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

import numpy as np

from digest.models import Item, Story
from digest.profile import Featured, author_key

NEUTRAL = 0.5
# Which metric is "engagement" for a source; the first one an item has wins elsewhere.
_METRIC = {"reddit": "score", "hn": "points"}
_ANY_METRIC = ("points", "score", "upvotes", "likes", "reactions")
_WORD = {"score": "upvotes"}  # a metric as a reason names it: "15 upvotes on r/LocalLLaMA"
_MIN_GROUP = 5  # fewer scored items in a feed than this: compare within the whole source
_SETTLE_H = 8.0  # hours in which a post collects about 63% of its votes (age_factor)
_MAX_BOOST = 4.0  # a new post's score counts at most this many times over
# An item read within this long of going up was read live (a daily or weekly collect); read later, its
# read time says nothing about when its score was counted (a replayed world, an imported file).
_LIVE = timedelta(days=10)
NOVELTY_FLOOR = 0.55  # cosine to a sent story's title below which it is the same topic, not the same story

_WIP = re.compile(r"\b(work in progress|in progress|technical report|tech(?:nical)? report|preprint)\b", re.I)
_VENUE = re.compile(
    r"\b(accepted|to appear|published in|camera[- ]ready|proceedings|findings of)\b|"
    r"\b(CVPR|ICCV|ECCV|ICLR|ICML|NeurIPS|ACL|EMNLP|NAACL|AAAI|IJCAI|COLING|WACV|ICASSP|Interspeech|"
    r"SIGIR|KDD|MICCAI|LREC)\s*'?\d{2,4}\b"
)
_PAGES = re.compile(r"(\d{1,3})\s*pages", re.I)
_CODE = re.compile(
    r"github\.com|huggingface\.co|project page|code (?:is|and [\w ]+ (?:are|is)|will be) (?:publicly )?"
    r"(?:available|released)|we (?:open[- ]source|release)",
    re.I,
)
_NAMED = re.compile(r"^\s*([A-Za-z0-9][\w.+-]*(?:\s[\w.+-]+){0,2})\s*:\s")
_FRONTIER = re.compile(
    r"\b(GPT-4(?:o|\.\d)?|GPT-5|o1|o3(?:-mini)?|o4-mini|DeepSeek(?:-R1|-V3)?|Claude|Gemini|Qwen\d*(?:\.\d+)?|"
    r"Llama(?:[- ]?\d+(?:\.\d+)?)?|Mistral|Phi-\d)(?![\w-]|\.\d)"
)


def _system_like(name: str) -> bool:
    """'PHYBench', 'BitNet v2', 'Video SimpleQA' read as a system's name: one word, or a coined word
    (a digit, a capital inside). 'Taming the Titans', 'Beyond Words', 'Humanizing LLMs' are a title's
    catchphrase: the cue counts the same, the reason does not call it a system."""
    first, *rest = name.split()
    if not rest:
        return True
    coined = any(c.isdigit() for c in name) or any(c.isupper() for w in name.split() for c in w[1:])
    return coined and not first.lower().endswith("ing")


_FEED_LABEL = {"reddit": "r/{feed}", "hn": "HN"}

# How much each part of a paper's record says "this will matter"; measured lifts on the dev pools:
# a large team and a "technical report / work in progress" comment are the strongest, a venue
# acceptance (an already-circulated paper) is a mild minus.
NOTABILITY_WEIGHTS = {
    "team": 1.0,
    "release": 1.0,
    "long": 0.5,
    "named": 0.5,
    "frontier": 0.5,
    "code": 0.3,
    "venue": -0.5,
}


def _metric(item: Item) -> float | None:
    key = _METRIC.get(item.source)
    if key is not None:
        return item.metrics.get(key)
    for k in _ANY_METRIC:
        if k in item.metrics:
            return item.metrics[k]
    return None


def _percentile(value: float, ordered: Sequence[float]) -> float:
    """Share of `ordered` (sorted ascending) below `value`, ties counting half."""
    below, upto = bisect_left(ordered, value), bisect_right(ordered, value)
    return (below + 0.5 * (upto - below)) / len(ordered)


def _group_label(item: Item, by_feed: bool) -> str:
    if by_feed and item.feed:
        return _FEED_LABEL.get(item.source, "{feed}").format(feed=item.feed)
    return {"hn": "HN", "reddit": "Reddit"}.get(item.source, item.source)


def age_factor(age_hours: float) -> float:
    """How much to scale a score read `age_hours` after posting, to compare it with settled ones.

    Votes on HN and Reddit come mostly in a post's first day: by age a it has about 1 - exp(-a/τ) of
    them (τ = `_SETTLE_H`). The inverse is capped at `_MAX_BOOST`, so a minutes-old post with a few
    votes is not projected to the top.
    """
    got = 1.0 - math.exp(-max(0.0, age_hours) / _SETTLE_H)
    return min(_MAX_BOOST, 1.0 / got) if got > 0 else _MAX_BOOST


def engagement(stories: Sequence[Story]) -> list[tuple[float, str]]:
    """Each story's best engagement percentile among items of its source (feed when big enough).

    A score is compared after `age_factor`: a post read soon after it went up (a launch that is the
    HN front page's newest post at 306 points) is not judged against posts that had days to collect
    votes.
    A story with no scored item gets the neutral 0.5 and no reason: "score unknown" is normal (public
    Reddit RSS, blogs) and must not read as "nobody cared".
    """
    # A score's age is its item's age when the store last read it (`Item.seen`). Without that, or when
    # it was read long after the week (a replayed world, an imported file), the best guess is that each
    # source was read when its newest scored post went up: the wall clock would make every post of a
    # replayed or re-built week look months old.
    posts = [(item, v) for story in stories for item in story.items if (v := _metric(item)) is not None]
    newest: dict[str, datetime] = {}
    for item, _ in posts:
        newest[item.source] = max(item.published, newest.get(item.source, item.published))
    scored: dict[str, tuple[float, float]] = {}  # item key → (score as read, score for its age)
    # (source, feed) → item keys; (source, None) is the whole source, apart from a feed named "".
    members: dict[tuple[str, str | None], list[str]] = defaultdict(list)
    for item, v in posts:
        read = item.seen if item.seen and item.seen - item.published <= _LIVE else newest[item.source]
        age_h = (read - item.published).total_seconds() / 3600
        scored[item.key] = (v, v * age_factor(age_h))
        members[(item.source, None)].append(item.key)
        members[(item.source, item.feed)].append(item.key)
    # Each group's scores sorted once, as read and for their age: a percentile is then two bisections.
    raw_sorted = {g: sorted(scored[k][0] for k in keys) for g, keys in members.items()}
    aged_sorted = {g: sorted(scored[k][1] for k in keys) for g, keys in members.items()}
    out: list[tuple[float, str]] = []
    for story in stories:
        best, reason = -1.0, ""
        for item in story.items:
            if item.key not in scored:
                continue
            raw, v = scored[item.key]
            use_feed = len(members[(item.source, item.feed)]) >= _MIN_GROUP
            if not use_feed and len(members[(item.source, None)]) < _MIN_GROUP:
                # Too few to rank against: say the number, keep the value neutral.
                if best < 0 and not reason:
                    name = _METRIC.get(item.source) or next(k for k in _ANY_METRIC if k in item.metrics)
                    reason = f"{raw:g} {_WORD.get(name, name)} on {_group_label(item, True)}"
                continue
            group = (item.source, item.feed if use_feed else None)
            pct = _percentile(v, aged_sorted[group])
            if pct > best:
                best = pct
                reason = f"{_group_label(item, use_feed)} {_ordinal(round(pct * 100))} percentile"
                if pct - _percentile(raw, raw_sorted[group]) >= 0.1:  # its age moved it up: say so
                    reason += f" for its age ({raw:g} {_METRIC.get(item.source, 'votes')} while new)"
        out.append((best, reason) if best >= 0 else (NEUTRAL, reason))
    return out


def _ordinal(n: int) -> str:
    n = max(0, min(n, 99))
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def coverage(story: Story) -> tuple[float, str]:
    """Distinct sources count fully, extra domains half, and more posts from one source (a launch's
    threads) by their doubling: 0 for one item, 1 at three sources, or one source and 16 posts.

    The post count is attention that needs no score: public Reddit RSS has none, and a launch that sets
    off twenty threads is the week's story even when each thread alone is unremarkable.
    """
    n_src, n_dom, n_items = len(story.sources), len(story.domains), len(story.items)
    more = n_items - n_src  # posts beyond one per source
    value = min(1.0, ((n_src - 1) + 0.5 * max(0, n_dom - n_src) + 0.5 * math.log2(1 + more)) / 2.0)
    posts = f"{n_items} posts" if more >= 2 else ""
    if n_src > 1:
        return value, f"{n_src} sources" + (f", {posts}" if posts else "")
    if posts:
        return value, posts
    if n_dom > 1:
        return value, f"{n_dom} sites"
    return value, ""


def freshness(story: Story, week_start: datetime, week_end: datetime) -> tuple[float, str]:
    """Where the newest item falls in the week: 0 at the start, 1 at the end (clipped outside). An item
    line without `published` reads as the epoch: its age is unknown, which earns nothing and says nothing."""
    newest = max(i.published for i in story.items)
    if newest.year <= 1970:
        return 0.0, ""
    span = (week_end - week_start).total_seconds() or 1.0
    value = min(1.0, max(0.0, (newest - week_start).total_seconds() / span))
    return value, ("new in the last days of the week" if value >= 0.8 else "")


def notability(item: Item) -> tuple[float, list[str]]:
    """What a paper's record says about its reach: a weighted sum of yes/no cues, with their reasons.

    Only papers have such a record; a post titled "Show HN: …" is not a named system.
    """
    if item.source != "arxiv":
        return 0.0, []
    parts: dict[str, float] = {}
    reasons: list[str] = []
    n = len(item.authors)
    if n >= 8:
        parts["team"] = min(1.0, ((n.bit_length() - 1) - 2) / 3)
        reasons.append(f"large team ({n} authors)")
    record = f"{item.comment} {item.title}"
    m = _WIP.search(record)
    if m:
        parts["release"] = 1.0
        reasons.append(f"'{m.group(1).lower()}': a fresh release")
    pages = [int(p) for p in _PAGES.findall(item.comment)]
    if pages and max(pages) >= 25:
        parts["long"] = 1.0
        reasons.append(f"{max(pages)} pages")
    named = _NAMED.match(item.title)
    if named and len(named.group(1)) <= 30:
        parts["named"] = 1.0
        kind = "named system" if _system_like(named.group(1)) else "named"
        reasons.append(f"{kind} '{named.group(1)}'")
    frontier = _FRONTIER.search(item.text)
    if frontier:
        parts["frontier"] = 1.0
        reasons.append(f"works with {frontier.group(1)}")
    if _CODE.search(f"{item.comment} {item.text}"):
        parts["code"] = 1.0
        reasons.append("code or project page")
    venue = _VENUE.search(item.comment)
    if venue:
        parts["venue"] = 1.0
        reasons.append("already accepted at a venue: older news")
    value = sum(NOTABILITY_WEIGHTS[k] * v for k, v in parts.items())
    return value, reasons


def novelty(sims: np.ndarray, sent: Sequence[Featured], own: str = "") -> tuple[float, str, str]:
    """0 for a story unlike everything sent lately, down to -1 for a copy of a sent story's title.

    `sims` holds the story's cosine to each of `sent` (their titles). Topic is not repetition: below
    `NOVELTY_FLOOR` a sent story costs nothing; above it the cost grows linearly, and from 0.1 on the
    reason names the sent story, and the third value is the week it was sent in ("" when unnamed).
    `own` is the story id of the story's own earlier feature when it comes back as an update, which is
    not held against it.
    """
    if own:
        sims = np.where([f.story_id == own for f in sent], -1.0, sims)
    best = int(np.argmax(sims)) if len(sent) else -1
    cos = float(sims[best]) if best >= 0 else 0.0
    if cos <= NOVELTY_FLOOR:
        return 0.0, "", ""
    f = sent[best]
    cost = (cos - NOVELTY_FLOOR) / (1 - NOVELTY_FLOOR)
    if cost < 0.1:
        return -cost, "", ""
    return -cost, f"close to '{clip(f.title)}', sent {f.week} ({cos:.2f})", f.week


def clip(title: str, n: int = 60) -> str:
    """A title for a reason line: whitespace folded, at most `n` characters."""
    title = " ".join(title.split())
    return title if len(title) <= n else title[: n - 1] + "…"


def track_record(item: Item, liked_authors: Mapping[str, int]) -> tuple[float, str]:
    """Liked papers by this item's best-liked author: 1 liked paper → 0.5, two or more → 1."""
    if not liked_authors or not item.authors:
        return 0.0, ""
    hits = [(liked_authors.get(author_key(a), 0), a) for a in item.authors]
    count, who = max(hits)
    if count == 0:
        return 0.0, ""
    others = sum(1 for c, _ in hits if c > 0) - 1
    more = f" (and {others} more liked author{'s' if others > 1 else ''})" if others else ""
    return min(1.0, count / 2), f"by {who}: {count} liked paper{'s' if count > 1 else ''}{more}"


def category_lift(
    item: Item, liked: Mapping[str, int], n_liked: int, pool_share: Mapping[str, float]
) -> tuple[float, str]:
    """How much more often the item's categories occur in liked papers than in this week's pool.

    Log lift, smoothed towards 0 with a prior of two papers, averaged over the item's categories.
    """
    if n_liked == 0 or not item.categories:
        return 0.0, ""
    import math

    prior = 2.0
    lifts = []
    for c in item.categories:
        share = pool_share.get(c, 0.0)
        if share > 0:
            lifts.append((c, math.log((liked.get(c, 0) + prior * share) / (n_liked + prior) / share)))
    if not lifts:
        return 0.0, ""
    value = sum(v for _, v in lifts) / len(lifts)
    best = max(lifts, key=lambda x: x[1])
    reason = ""
    if best[1] > 0.3 and liked.get(best[0], 0):
        reason = f"{best[0]}: {liked[best[0]]} of {n_liked} liked papers"
    return value, reason


def zscore(x: np.ndarray) -> np.ndarray:
    if len(x) < 2:
        return np.zeros_like(x)
    sd = float(x.std())
    return (x - x.mean()) / sd if sd > 1e-9 else np.zeros_like(x)


def zscore_by_source(x: np.ndarray, stories: Sequence[Story]) -> np.ndarray:
    """z-scores against the stories of the same source (groups of 20+ lead stories), globally for the rest.

    A bare HN title ("Claude Opus 4.6") sits far lower in cosine to any interest than a paper's title and
    abstract; comparing it with other titles of its kind, not with abstracts, keeps it from sinking.
    A story's vector is the mean of its members', so a story mixing sources is scored against each of
    their distributions, weighted by its members' shares: fourteen Reddit threads that a newsletter issue
    joined (and leads) are still judged as Reddit titles, not as the newsletter's few issues would be.
    """
    out = zscore(x)
    groups: dict[str, list[int]] = {}
    for i, s in enumerate(stories):
        groups.setdefault(s.lead.source, []).append(i)
    if len(groups) < 2:
        return out
    stats = {k: (float(x[idx].mean()), float(x[idx].std())) for k, idx in groups.items() if len(idx) >= 20}
    for i, story in enumerate(stories):
        shares = Counter(item.source for item in story.items)
        if not any(src in stats for src in shares):
            continue  # every member's source too small to stand alone: the global z-score
        total = sum(shares.values())
        z = 0.0
        for src, n in shares.items():
            mu, sd = stats.get(src, (0.0, 0.0))
            z += n / total * (((x[i] - mu) / sd if sd > 1e-9 else 0.0) if src in stats else out[i])
        out[i] = z
    return out
