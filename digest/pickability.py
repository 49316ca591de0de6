"""Pickability: how much a story looks like what the reader liked, against this week's pool.

Two small models fitted at ranking time on data the run already has (never on this week's picks):
the reader's likes are the positives, this week's candidates (nearly all of which nobody picks) the
background. `title_scores` reads titles; `record_scores` reads a paper's record.

Title words: the liked titles against this week's titles, TF-IDF over words and word pairs with a
balanced logistic regression, as arxiv-sanity-lite does with abstracts.
Titles on both sides, because a liked item's body is often a curator's one-line description while a
candidate's body is an abstract: on titles the two sides speak the same language. The reason names the
title words that weigh most ("title words you like: 'reasoning', 'agent'").

Record: a logistic regression over a handful of readable cues of a paper's record (its arXiv
categories among the week's most common ones, team size, a "technical report / work in progress"
comment, length, a named system, survey, venue acceptance, no comment at all), liked papers with a
known record against this week's arXiv papers. It learns the reader's topic prior (on the dev pools:
cs.CL in, cs.CV alone out) and how much a big team or a fresh release counts for them.

On the dev pools (7 weeks, 46 picks) the two together lift recall@50 from 0.370 to 0.457 and nDCG@10
from 0.181 to 0.197 and leave recall@10 at 0.239; with their two weights re-chosen leave-one-week-out
0.217 / 0.457 / 0.176 (`digest eval rank` prints that row). They find more picks for the top 50
rather than reorder the top 10.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

import numpy as np

from digest.models import Item
from digest.signals import _NAMED, _PAGES, _VENUE, _WIP

MIN_LIKED_TITLES = 8  # fewer liked titles than this: no model, the component is zero
MIN_POOL = 20  # a handful of stories is no background to contrast the likes with
REASON_MIN = 1.0  # z-score above which the title words are worth a reason


def title_scores(liked_titles: Sequence[str], pool_titles: Sequence[str]) -> list[tuple[float, str]]:
    """Each pool title's z-scored likes-vs-pool score and a reason naming its heaviest liked words.

    All zeros (and no reasons) when there are too few liked titles or stories to fit anything.
    """
    liked = [t for t in liked_titles if t.strip()]
    n = len(pool_titles)
    if len(liked) < MIN_LIKED_TITLES or n < MIN_POOL:
        return [(0.0, "")] * n
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vec = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True, stop_words="english")
    try:
        vec.fit([*pool_titles, *liked])
    except ValueError:  # nothing but stop words or unique words: no shared vocabulary
        return [(0.0, "")] * n
    x_pool, x_liked = vec.transform(pool_titles), vec.transform(liked)
    from scipy.sparse import vstack

    y = np.r_[np.ones(len(liked)), np.zeros(n)]
    clf = LogisticRegression(C=1.0, class_weight="balanced", max_iter=2000)
    clf.fit(vstack([x_liked, x_pool]), y)
    raw = np.asarray(clf.decision_function(x_pool), dtype=np.float64)
    sd = float(raw.std())
    z = (raw - raw.mean()) / sd if sd > 1e-9 else np.zeros(n)
    coef = clf.coef_[0]
    terms = vec.get_feature_names_out()
    out: list[tuple[float, str]] = []
    x_pool = x_pool.tocsr()
    for i in range(n):
        reason = ""
        if z[i] >= REASON_MIN:
            row = x_pool.getrow(i)
            contrib = sorted(
                ((float(v * coef[j]), str(terms[j])) for j, v in zip(row.indices, row.data, strict=True)),
                reverse=True,
            )
            words = [t for c, t in contrib if c > 0][:2]
            if words:
                reason = "title words you like: " + ", ".join(f"'{w}'" for w in words)
        out.append((float(z[i]), reason))
    return out


MIN_RECORDS = 5  # liked papers with a known record (authors, categories) needed to fit the record model
TOP_CATEGORIES = 8  # the week's most common categories become features
_SURVEY = re.compile(r"\bsurvey\b", re.I)


def _cues(item: Item, cats: Sequence[str]) -> list[float]:
    pages = [int(p) for p in _PAGES.findall(item.comment)]
    named = _NAMED.match(item.title)
    return [float(c in item.categories) for c in cats] + [
        math.log2(max(1, len(item.authors))),
        float(bool(_WIP.search(f"{item.comment} {item.title}"))),
        float(bool(pages) and max(pages) >= 25),
        float(named is not None and len(named.group(1)) <= 30),
        float(bool(_SURVEY.search(item.title))),
        float(bool(_VENUE.search(item.comment))),
        float(not item.comment.strip()),
    ]


def _cue_names(cats: Sequence[str]) -> list[str]:
    return [*cats, "large team", "a fresh release", "a long paper", "a named system", "a survey", "", ""]


def record_scores(liked: Sequence[Item], pool: Sequence[Item]) -> list[tuple[float, str]]:
    """Each pool item's z-scored liked-records-vs-pool score and a reason naming the cues that count.

    Only arXiv papers with categories are scored (a post has no such record): the others get 0, as do
    all when fewer than `MIN_RECORDS` liked papers have a record or fewer than `MIN_POOL` papers remain.
    """
    n = len(pool)
    papers = [k for k, i in enumerate(pool) if i.source == "arxiv" and i.categories]
    records = [i for i in liked if i.source == "arxiv" and i.authors and i.categories]
    if len(records) < MIN_RECORDS or len(papers) < MIN_POOL:
        return [(0.0, "")] * n
    from sklearn.linear_model import LogisticRegression

    counts: Counter[str] = Counter(c for k in papers for c in set(pool[k].categories))
    cats = [c for c, _ in counts.most_common(TOP_CATEGORIES)]
    x = np.array([_cues(pool[k], cats) for k in papers])
    pos = np.array([_cues(i, cats) for i in records])
    clf = LogisticRegression(C=0.3, class_weight="balanced", max_iter=3000)
    clf.fit(np.vstack([pos, x]), np.r_[np.ones(len(pos)), np.zeros(len(x))])
    raw = clf.decision_function(x)
    sd = float(raw.std())
    z = (raw - raw.mean()) / sd if sd > 1e-9 else np.zeros(len(raw))
    coef, mean, names = clf.coef_[0], x.mean(axis=0), _cue_names(cats)
    out: list[tuple[float, str]] = [(0.0, "")] * n
    for row, k in enumerate(papers):
        reason = ""
        if z[row] >= REASON_MIN:
            contrib = sorted(
                (
                    (float(coef[j] * (x[row, j] - mean[j])), names[j])
                    for j in range(len(names))
                    if names[j] and coef[j] > 0 and x[row, j] > mean[j]  # a cue it has, that likes have
                ),
                reverse=True,
            )
            cues = [name for c, name in contrib if c > 0.2][:3]
            if cues:
                reason = "like papers you liked: " + ", ".join(cues)
        out[k] = (float(z[row]), reason)
    return out
