"""Ranking: profile match, signals, the featured ledger and diversity; pure functions of their inputs.

`rank` scores every story and returns all of them best first; a story that must not appear (muted,
already featured without a material update, already liked) sinks to the end with an `excluded`
component and the reason, so file output keeps every input line. `select` then takes the top N with
MMR and the per-source/per-feed caps, skipping the excluded ones. Each component in
`RankedStory.components` is that signal's contribution to the score, so they sum to it.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime

import numpy as np

from digest.config import RankConfig
from digest.ledger import identity_keys, lookup, story_keys
from digest.models import Item, RankedStory, Story
from digest.pickability import record_scores, title_scores
from digest.profile import Featured, Profile, muted_channel
from digest.signals import (
    category_lift,
    clip,
    coverage,
    engagement,
    freshness,
    notability,
    novelty,
    track_record,
    zscore_by_source,
)
from digest.summarize import boilerplate, summarize_story

# Weight of each signal in the score. Similarities enter as z-scores over the week's candidates
# (raw cosines sit in a narrow band); the others are on a 0..1 scale (engagement centred at neutral).
# The liked history outweighs the generic interest texts: on the dev pools (leave-one-week-out over
# these two weights) what a reader actually picked says more than what they say they want.
WEIGHTS = {
    "interest": 0.5,
    "liked": 2.0,
    "nearest_liked": 0.5,  # one liked paper very close counts even when the average is not
    "title_words": 0.5,  # liked titles vs this week's titles (pickability.py); see eval_rank LOWO row
    "record": 0.25,  # liked papers' records vs this week's papers (pickability.py)
    "notability": 1.0,
    "track_record": 1.0,
    "category": 0.3,
    "engagement": 1.0,
    "coverage": 1.0,
    "freshness": 0.2,
    "novelty": 1.0,  # a near copy of a story sent in the last ten issues costs as much as a big team earns
}
# A few likes say little next to the reader's interests: two liked items once moved the week's biggest
# launch from #2 to #218 (z-scores make any two likes as loud as two hundred). Beside interests, the
# liked signals grow with the number of likes and reach their full weight at this many.
LIKES_FOR_FULL_WEIGHT = 20
WIDE_COVERAGE = 0.5  # coverage (weighted) from which a story leads the issue: two sources, or 4+ threads
NEGATIVE_FLOOR = 0.25  # cosine to a negative interest or disliked item below this costs nothing
NEGATIVE_SCALE = 4.0
EXCLUDED = -100.0


@functools.lru_cache(maxsize=256)
def _keyword(kw: str) -> re.Pattern[str]:
    """A muted keyword as a whole word, or followed by a version: "qwen" finds "Qwen", "Qwen3-Coder",
    "Qwen2.5-Math" and "qwen-3", not "QwenLM" (more letters make another word, as "gem" is not "Gemini").
    A keyword ending in a digit takes no further digit: "gpt-4" is not "gpt-40"."""
    after = r"(?!\w)" if kw[-1:].isdigit() else r"(?![^\W\d])"
    return re.compile(r"(?<!\w)" + re.escape(kw) + after)


def _muted(story: Story, keys: set[str], profile: Profile) -> str:
    """Why the story is silenced, or "". A muted item, keyword or disliked item anywhere in it silences
    the story; a muted source, feed or domain only when every member comes from one (the week's build
    drops those members before clustering: muting a newsletter must not drop the launch it covered)."""
    mutes = profile.mutes
    if mutes.keys and keys & mutes.keys:
        return "muted story"
    channel = [muted_channel(i, mutes) for i in story.items]
    if all(channel):
        return channel[0]
    for item in story.items:
        text = f"{item.title} {item.text}".lower()
        for kw in mutes.keywords:
            if _keyword(kw).search(text):
                return f"muted keyword '{kw}'"
    return ""


def _similarities(vecs: np.ndarray, profile: Profile) -> dict[str, np.ndarray]:
    n = len(vecs)
    out: dict[str, np.ndarray] = {}
    if len(profile.interest_vecs) and n:
        sims = vecs @ profile.interest_vecs.T
        w = profile.interest_weights / (profile.interest_weights.sum() or 1.0)
        out["interest"] = sims @ w
        # The reason names the interest the story is closest to, with that interest's own cosine (a
        # weighted argmax once named one interest beside another's number).
        out["interest_best"] = sims.argmax(axis=1)
        out["interest_cos"] = sims.max(axis=1)
    if profile.has_likes and n:
        sims = vecs @ profile.liked_vecs.T
        out["liked"] = sims @ profile.liked_weights
        out["liked_best"] = sims.argmax(axis=1)
        out["liked_cos"] = sims.max(axis=1)
        if profile.classifier is not None:
            w, b = profile.classifier
            out["liked"] = vecs @ w + b
    # A negative costs (cosine - floor) x its weight: the weight scales the cost, the reason quotes the
    # cosine itself. A disliked item counts as a negative of weight 1.
    cost = np.zeros(n, dtype=np.float32)
    out["negative_best"] = np.full(n, -1)
    out["negative_cos"] = np.zeros(n, dtype=np.float32)
    rows = np.arange(n)
    if len(profile.negative_vecs) and n:
        cos = vecs @ profile.negative_vecs.T
        per = np.clip(cos - NEGATIVE_FLOOR, 0.0, None) * profile.negative_weights
        best = per.argmax(axis=1)
        cost, out["negative_best"], out["negative_cos"] = per[rows, best], best, cos[rows, best]
    if len(profile.disliked_vecs) and n and profile.classifier is None:
        all_dis = vecs @ profile.disliked_vecs.T
        out["disliked_best"] = all_dis.argmax(axis=1)
        dis = all_dis.max(axis=1)
        dis_cost = np.clip(dis - NEGATIVE_FLOOR, 0.0, None)
        worse = dis_cost > cost
        out["negative_best"] = np.where(worse, -2, out["negative_best"])
        out["negative_cos"] = np.where(worse, dis, out["negative_cos"])
        cost = np.maximum(cost, dis_cost)
    out["negative"] = cost
    return out


def _pool_shares(stories: Sequence[Story]) -> dict[str, float]:
    counts: Counter[str] = Counter(c for s in stories for c in set(s.lead.categories))
    return {c: k / max(1, len(stories)) for c, k in counts.items()}


def rank(
    stories: Sequence[Story],
    story_vectors: np.ndarray,
    profile: Profile,
    featured: Sequence[Featured],
    cfg: RankConfig,
    week_start: datetime,
    week_end: datetime,
) -> list[RankedStory]:
    """Every story scored, best first, with components and itemised reasons.

    Summaries are left to `select`: only the stories that reach the issue need one, and summarising every
    story of a 10,000-item week twice (two-stage ranking) was the largest cost of a warm build.
    """
    if not stories:
        return []
    vecs = np.asarray(story_vectors, dtype=np.float32)
    sims = _similarities(vecs, profile)
    z_interest = zscore_by_source(sims["interest"], stories) if "interest" in sims else np.zeros(len(stories))
    z_liked = zscore_by_source(sims["liked"], stories) if "liked" in sims else np.zeros(len(stories))
    z_nearest = zscore_by_source(sims["liked_cos"], stories) if "liked" in sims else np.zeros(len(stories))
    like_weight = min(1.0, len(profile.liked_vecs) / LIKES_FOR_FULL_WEIGHT) if "interest" in sims else 1.0
    eng = engagement(stories)
    titles = title_scores(profile.title_examples, [s.headline or s.lead.title for s in stories])
    records = record_scores(profile.liked_records, [s.lead for s in stories])
    shares = _pool_shares(stories)
    sent_sims = vecs @ profile.sent_vecs.T if len(profile.sent) else np.zeros((len(stories), 0))
    index: dict[str, Featured] = {}
    for f in sorted(featured, key=lambda f: f.week):
        for k in f.keys:
            index[k] = f
    out: list[RankedStory] = []
    for i, story in enumerate(stories):
        comp: dict[str, float] = {}
        why: list[tuple[float, str]] = []
        if "interest" in sims:
            comp["interest"] = WEIGHTS["interest"] * float(z_interest[i])
            best = profile.interest_texts[int(sims["interest_best"][i])]
            if comp["interest"] > 0:  # a below-average match is no reason to show
                why.append((comp["interest"], f"matches '{best}' {sims['interest_cos'][i]:.2f}"))
        if "liked" in sims:
            comp["liked"] = like_weight * WEIGHTS["liked"] * float(z_liked[i])
            comp["nearest_liked"] = like_weight * WEIGHTS["nearest_liked"] * float(z_nearest[i])
            title = clip(profile.liked_titles[int(sims["liked_best"][i])].replace("*", ""))
            label = "likes classifier, nearest" if profile.classifier is not None else "similar to"
            if comp["liked"] + comp["nearest_liked"] > 0:
                why.append(
                    (
                        comp["liked"] + comp["nearest_liked"],
                        f"{label} liked '{title}' {sims['liked_cos'][i]:.2f}",
                    )
                )
        if profile.title_examples:
            comp["title_words"] = WEIGHTS["title_words"] * titles[i][0]
            why.append((comp["title_words"], titles[i][1]))
        if profile.liked_records:
            comp["record"] = WEIGHTS["record"] * records[i][0]
            why.append((comp["record"], records[i][1]))
        cost = float(sims["negative"][i])
        if cost > 0:
            comp["negative"] = -NEGATIVE_SCALE * cost
            nb = int(sims["negative_best"][i])
            db = int(sims["disliked_best"][i]) if nb < 0 else -1
            if nb >= 0:
                what = f"negative '{profile.negative_texts[nb]}'"
            elif 0 <= db < len(profile.disliked_titles):
                what = f"disliked '{clip(profile.disliked_titles[db])}'"
            else:
                what = "a disliked item"
            why.append((comp["negative"], f"close to {what} {sims['negative_cos'][i]:.2f}"))
        lead = story.lead
        note, note_why = notability(lead)
        comp["notability"] = WEIGHTS["notability"] * note
        why += [(comp["notability"], r) for r in note_why]
        tr, tr_why = track_record(lead, profile.liked_authors)
        comp["track_record"] = WEIGHTS["track_record"] * tr
        why.append((comp["track_record"], tr_why))
        cat, cat_why = category_lift(lead, profile.liked_categories, profile.liked_with_record, shares)
        comp["category"] = WEIGHTS["category"] * cat
        why.append((comp["category"], cat_why))
        comp["engagement"] = WEIGHTS["engagement"] * 2 * (eng[i][0] - 0.5)
        why.append((comp["engagement"], eng[i][1]))
        cov, cov_why = coverage(story)
        comp["coverage"] = WEIGHTS["coverage"] * cov
        why.append((comp["coverage"], cov_why))
        fresh, fresh_why = freshness(story, week_start, week_end)
        comp["freshness"] = WEIGHTS["freshness"] * fresh
        why.append((comp["freshness"], fresh_why))
        keys = identity_keys(story)
        prev, new = lookup(story, index, keys)
        follows = ""
        if profile.sent:
            own = prev.story_id if prev is not None else ""
            nov, nov_why, follows = novelty(sent_sims[i], profile.sent, own)
            comp["novelty"] = WEIGHTS["novelty"] * nov
            why.append((comp["novelty"], nov_why))

        update_of = None
        muted = _muted(story, keys, profile)
        if muted:
            comp["excluded"] = EXCLUDED
            why.append((EXCLUDED, muted))
        elif profile.disliked_keys and keys & profile.disliked_keys:
            comp["excluded"] = EXCLUDED  # neither a like close to it nor an update brings back a dislike
            why.append((EXCLUDED, "disliked"))
        elif prev is not None and not new:
            comp["excluded"] = EXCLUDED
            why.append((EXCLUDED, f"already featured in {prev.week}"))
        elif prev is not None:
            update_of = prev.week
            why.append((99.0, f"update since {prev.week}: new {', '.join(sorted(new))}"))
        elif profile.liked_keys and set(story_keys(story)) & profile.liked_keys:  # not a later post about it
            comp["excluded"] = EXCLUDED
            why.append((EXCLUDED, "already liked"))

        reasons = [r for _, r in sorted(why, key=lambda x: -x[0]) if r]
        if not reasons:  # nothing speaks for it: say how weak the best match is
            if "interest" in sims:
                best = profile.interest_texts[int(sims["interest_best"][i])]
                reasons = [f"weak match: '{best}' {sims['interest_cos'][i]:.2f}"]
            elif "liked" in sims:
                reasons = [f"weak match to liked examples {sims['liked_cos'][i]:.2f}"]
        out.append(
            RankedStory(
                story=story,
                score=round(sum(comp.values()), 4),
                components={k: round(v, 4) for k, v in comp.items()},
                reasons=tuple(reasons),
                update_of=update_of,
                follows=follows if follows and update_of is None else None,
            )
        )
    out.sort(key=lambda r: (-r.score, r.story.id))
    return out


def _tokens(rs: RankedStory) -> set[str]:
    return set(re.findall(r"[a-z0-9]{3,}", f"{rs.story.headline} {rs.story.lead.title}".lower()))


def _by_source(ranked: Sequence[RankedStory]) -> dict[str, list[RankedStory]]:
    groups: dict[str, list[RankedStory]] = {}
    for r in ranked:
        groups.setdefault(r.story.lead.source, []).append(r)
    return groups


def _relevance(ranked: Sequence[RankedStory]) -> dict[int, float]:
    """0..1 relevance for MMR: half the global rank, half the rank within the lead's source.

    Scores are not comparable across sources: a paper earns record signals (team size, pages, a named
    system) that a post cannot, and a post earns engagement a paper lacks. Blending in the within-source
    rank lets the week's top HN or Reddit story compete with the papers; with one source it changes nothing.
    """
    n = len(ranked)
    rel = {id(r): 1.0 - k / max(1, n - 1) for k, r in enumerate(ranked)}
    for group in _by_source(ranked).values():
        for k, r in enumerate(group):
            within = 1.0 - k / max(1, len(group) - 1) if len(group) > 1 else 1.0
            rel[id(r)] = 0.5 * rel[id(r)] + 0.5 * within
    return rel


def select(
    ranked: Sequence[RankedStory],
    cfg: RankConfig,
    vectors: Mapping[str, np.ndarray] | None = None,
    summary_chars: int = 320,
) -> list[RankedStory]:
    """The top `cfg.top_n` by MMR under the caps, each summarised in up to `summary_chars` characters
    (`[render] summary_chars`); never an excluded story.

    The caps yield only when nothing uncapped is left, so a one-source week still fills the issue.

    MMR trades relevance (score rank, 0..1) against the closest story already picked, by
    `cfg.diversity`; closeness is the cosine of `vectors[story.id]` when given, else word overlap.
    """
    eligible = [r for r in ranked if "excluded" not in r.components]
    if not eligible:
        return []
    keep = {id(r) for r in eligible[: max(cfg.top_n * 5, 50)]}
    for group in _by_source(eligible).values():  # each source's best can compete, not only the global top
        keep.update(id(r) for r in group[: cfg.top_n])
    pool = [r for r in eligible if id(r) in keep]
    rel = _relevance(pool)  # over the pool: over the whole week the top 50 would span only 0.02
    toks = {id(r): _tokens(r) for r in pool}

    def sim(a: RankedStory, b: RankedStory) -> float:
        if vectors is not None and a.story.id in vectors and b.story.id in vectors:
            return float(np.dot(vectors[a.story.id], vectors[b.story.id]))
        ta, tb = toks[id(a)], toks[id(b)]
        return len(ta & tb) / len(ta | tb) if ta and tb else 0.0

    def capped(r: RankedStory, picked: list[RankedStory]) -> bool:
        # A story several sources carry is not one source's or one feed's voice: it is neither capped
        # nor counted against a cap (else an HN-led launch covered on Reddit too loses to the HN cap).
        if len(r.story.sources) > 1:
            return False
        lead = r.story.lead
        single = [p.story.lead for p in picked if len(p.story.sources) == 1]
        if sum(p.source == lead.source for p in single) >= cfg.max_per_source:
            return True
        same_feed = [p for p in single if p.source == lead.source and p.feed == lead.feed]
        return bool(lead.feed) and len(same_feed) >= cfg.max_per_feed

    picked: list[RankedStory] = []
    left = list(pool)
    lam = min(max(cfg.diversity, 0.0), 1.0)
    while left and len(picked) < cfg.top_n:
        open_ = [r for r in left if not capped(r, picked)] or left
        best = max(
            open_,
            key=lambda r: (1 - lam) * rel[id(r)] - lam * max((sim(r, p) for p in picked), default=0.0),
        )
        picked.append(best)
        left.remove(best)
    # The issue opens with what the week talked about: stories several sources (or many threads) carry
    # come first, each group in MMR's order. A paper's record cues outscore a launch's engagement, so
    # by score alone the week's launch would sit under five papers.
    picked.sort(key=lambda r: r.components.get("coverage", 0.0) < WIDE_COVERAGE)
    feeds = {(i.source, i.feed) for r in picked for i in r.story.items}
    skip = boilerplate([i for r in ranked for i in r.story.items], feeds)
    out = []
    for r in picked:
        out.append(dataclasses.replace(r, summary=r.summary or summarize_story(r.story, summary_chars, skip)))
    return out


def item_story(item: Item) -> Story:
    return Story(id=item.key, items=(item,), lead=item, headline=item.title)
