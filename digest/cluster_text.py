"""What the clusterer knows about an item besides its vector: ids, links, names, versions, channel.

Split from cluster.py to keep both small; pure functions of the items.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import numpy as np
from scipy import sparse

from digest.models import Item
from digest.urls import arxiv_ids, canonical_url, dois, is_promo_link

LEAD_CHARS = 240


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Words that carry no story identity: a small English stop list plus news filler.
_STOP = _wordset(
    """a about after again against all also am an and any are as at be because been before being between
    both but by can could did do does doing down during each few for from further had has have having he
    her here hers him his how i if in into is it its itself just me more most my new no nor not now of off
    on once only or other our out over own same she should so some such than that the their them then there
    these they this those through to too under until up very was we were what when where which while who
    whom why will with would you your yours vs via get got one two first last week today year years day
    says said say using use used make makes made like just how what why new now i'm it's don't can't
    monthly weekly daily thread megathread discussion question questions help anyone guys anybody
    """
)
_MONTHS = _wordset(
    "jan feb mar apr may jun jul aug sep sept oct nov dec january february march april june july august "
    "september october november december monday tuesday wednesday thursday friday saturday sunday"
)
_NOT_NAMES = _MONTHS | _wordset(
    "top day week part chapter section step level page season episode vol volume issue round phase no number "
    "the a an in on at of for and or with by to from"
)
_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9+#]*(?:[.\-_/][A-Za-z0-9+#]+)*")
_VERSION = re.compile(r"\b([A-Za-z][A-Za-z]+)[\s\-]?v?(\d+(?:\.\d+)*)(?![\d.]*%)")
_SPLIT = re.compile(r"[-/]")
_URL_IN_TEXT = re.compile(r"https?://[^\s<>\"')\]]+")
_SLUG_IS_TITLE = ("reddit.com", "redd.it")  # permalink slugs repeat the post title: no new words
# A leak or teaser and the launch it anticipates are two stories ("The leaks are real: Opus 4.6 soon").
_RUMOUR = re.compile(r"\b(?:leak(?:s|ed)?|rumou?r(?:s|ed)?|teas(?:e|es|ed|ing)|spotted)\b", re.I)
MARK = re.compile(r"(?=.*[a-z])(?=.*\d)")  # a versioned product name: letters and digits in one word
_NO_FEED_SINGLE = frozenset({"hn"})  # sources that are one front page: same source = same channel


@dataclass(frozen=True)
class Features:
    ids: list[set[str]]  # identity keys: canonical URL, arXiv id, DOI of the item itself
    refs: list[set[str]]  # keys the item points at (links, ids in its text)
    tfidf: sparse.csr_matrix  # l2-normalised, IDF over the batch
    coherent: sparse.csr_matrix  # item × word, 1 where the word is coherent enough to vouch
    words: sparse.csr_matrix  # item × word, 1 where the item has the word
    paper_names: sparse.csr_matrix  # item × word: the parts of a paper's own name ("PersonaPlex: …")
    rare: sparse.csr_matrix  # item × word, 1 where few items of the batch share the word (candidate pairs)
    rare_df: np.ndarray  # per word: how many items of the batch have it
    versions: list[dict[str, frozenset[str]]]  # "gpt" → {"5.3"}; a name with different versions differs
    channels: np.ndarray  # int code per channel, -1 = unknown
    arxiv: np.ndarray  # bool: the item is a paper
    times: np.ndarray  # seconds since epoch
    rumour: np.ndarray  # bool: the item reports a leak, rumour or teaser, not the thing itself
    kappa: float  # coherence a shared word needs to vouch for a pair (batch baseline + margin)
    names: sparse.csr_matrix  # item × word: a name in the item's headline that at most NAME_DF items share
    marks: sparse.csr_matrix  # item × word: a coherent word with letters and digits ("opus_4.6", "qwen3")
    mark_terms: list[frozenset[str]]  # per item, its marks as words ("opus_4.6", "qwen3")
    token_sets: list[frozenset[str]]  # per item, its content tokens
    feed_title: np.ndarray  # int64 per item: a feed entry's title (hashed, case-folded), -1 for others


def channel(item: Item) -> str:
    """Where in its source an item came from; two posts of one channel need more evidence to merge.

    arXiv papers are each their own work (never merged by similarity); a subreddit, feed, or account
    is one channel, whose posts merge only when close on their own (a repost); "" = unknown.
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


@functools.lru_cache(maxsize=65536)
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
        if not k or is_promo_link(k.removeprefix("u:")):
            continue
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


def _slug_words(url: str) -> list[str]:
    """Words of a URL's slug ("…/sbarro-files-for-bankruptcy-again"): editors' own summary of the page."""
    parts = urlsplit(url) if url else None
    if parts is None or (parts.hostname or "").endswith(_SLUG_IS_TITLE):
        return []
    path = parts.path
    segs = [p for p in path.split("/") if p.count("-") + p.count("_") >= 2]
    if not segs:
        return []
    slug = re.sub(r"\.[a-z]{2,5}$", "", segs[-1])
    return [t for t in tokens(slug.replace("-", " ").replace("_", " ")) if not t.isdigit()]


def tokens(text: str) -> list[str]:
    """Content tokens: lower-cased, light plural stemming, hyphen parts, and name+version joined
    ("Opus 4.6", "Opus-4.6" and "opus 4.6" all give "opus_4.6")."""
    out: list[str] = []
    for tok in _TOKEN.findall(text.replace("'s ", " ").replace("’s ", " ").lower()):
        if tok in _STOP or (len(tok) < 2 and not tok.isdigit()):
            continue
        if len(tok) > 3 and tok[-1] == "s" and tok[-2] not in "sui" and tok.isalpha():
            tok = tok[:-1]
        out.append(tok)
        if "-" in tok or "/" in tok:
            out.extend(p for p in _SPLIT.split(tok) if len(p) > 1 and p not in _STOP)
    for m in _VERSION.finditer(text):
        name = m.group(1).lower()
        if name not in _STOP and name not in _NOT_NAMES:
            out.append(f"{name}_{m.group(2)}")
    return out


def _names(item: Item) -> set[str]:
    """Tokens of the headline (or a title-less post's first sentence) written as names: capitalised
    after the first word, with a digit, or any word of a Title Case headline. "Opus 4.6" is one name.

    Two items sharing two rare names ("Lena Dunham", "Voxtral … Realtime") are about one thing even
    when worded loosely; a lower-case word in prose ("closed meeting") is not a name.
    """
    head = item.title.strip() or re.split(r"(?<=[.!?])\s", " ".join(item.text.split()), maxsplit=1)[0][:200]
    surface = _TOKEN.findall(_URL_IN_TEXT.sub(" ", head))
    alpha = [w for w in surface if w[0].isalpha() and w.lower() not in _STOP]
    title_case = bool(alpha) and sum(w[0].isupper() for w in alpha) >= 0.6 * len(alpha)
    keep: set[str] = set()
    for k, w in enumerate(surface):
        marked = any(c.isupper() for c in w[1:]) or any(c.isdigit() for c in w)
        # A sentence's first word is capitalised anyway: a name only if the next word is one too.
        first = k == 0 and w[0].isupper() and len(surface) > 1 and surface[1][0].isupper()
        if title_case or marked or first or (k > 0 and w[0].isupper()):
            keep.update(_word_tokens(w))
    toks = tokens(head)
    versioned = [t.split("_", 1) for t in toks if "_" in t]
    parts = {x for pair in versioned for x in pair}
    return {t for t in toks if "_" in t or (t in keep and t not in parts and "-" not in t and "/" not in t)}


@functools.lru_cache(maxsize=65536)
def _word_tokens(word: str) -> tuple[str, ...]:
    return tuple(tokens(word))


def _versions(text: str) -> dict[str, frozenset[str]]:
    found: dict[str, set[str]] = {}
    for m in _VERSION.finditer(text):
        name = m.group(1)
        if not (name[0].isupper() or name.isupper()) or name.lower() in _NOT_NAMES or name.lower() in _STOP:
            continue
        found.setdefault(name.lower(), set()).add(m.group(2))
    return {k: frozenset(v) for k, v in found.items()}


def build_features(items: Sequence[Item], vectors: np.ndarray) -> Features:
    ids, refs, docs, versions, papers, heads = [], [], [], [], [], []
    for item in items:
        i, r = _identity(item)
        ids.append(i)
        refs.append(r)
        text = _text(item)
        docs.append(tokens(text) + _slug_words(item.url))
        versions.append(_versions(text))
        papers.append(_paper_name(item))
        heads.append(_names(item))
    n = len(items)
    # Words vouch for pairs with a post in them (two papers never merge): the bar is set by how alike
    # the batch's posts are, not by a week's hundreds of papers on one field, all alike to each other.
    posts = [k for k, i in enumerate(items) if i.source != "arxiv"]
    kappa = max(COHERENCE_MIN, _baseline(vectors[posts] if len(posts) >= 2 else vectors) + COHERENCE_MARGIN)
    tfidf, vocab = _tfidf(docs)
    words = _presence(tfidf, vocab, items)
    coh = _coherence(words, vectors)
    coherent = sparse.csr_matrix(words.multiply((coh >= kappa).astype(np.float32)[None, :]))
    coherent.eliminate_zeros()
    df = np.asarray(words.sum(axis=0)).ravel()
    rare = sparse.csr_matrix(words.multiply(((df >= 2) & (df <= RARE_DF)).astype(np.float32)[None, :]))
    rare.eliminate_zeros()
    terms = sorted(vocab, key=vocab.__getitem__)
    marked = np.array([MARK.search(t) is not None for t in terms] or [False], dtype=np.float32)
    marks = sparse.csr_matrix(coherent.multiply(marked[None, :]))
    marks.eliminate_zeros()
    mark_terms = [
        frozenset(terms[c] for c in marks.indices[marks.indptr[k] : marks.indptr[k + 1]]) for k in range(n)
    ]
    rows = [k for k, p in enumerate(papers) for t in p if t in vocab]
    cols = [vocab[t] for p in papers for t in p if t in vocab]
    paper_names = sparse.csr_matrix(
        (np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(n, max(1, len(vocab)))
    )
    names = [channel(i) for i in items]
    codes = {c: k for k, c in enumerate(sorted(set(names) - {""}))}
    chan = np.array([codes.get(c, -1) for c in names], dtype=np.int64)
    arxiv = np.array([c == "arxiv" for c in names], dtype=bool)
    times = np.array([i.published.timestamp() for i in items], dtype=np.float64)
    rumour = np.array([bool(_RUMOUR.search(_text(i))) for i in items], dtype=bool)
    return Features(
        ids,
        refs,
        tfidf,
        coherent,
        words,
        paper_names,
        rare,
        df,
        versions,
        chan,
        arxiv,
        times,
        rumour,
        kappa,
        _rare_names(heads),
        marks,
        mark_terms,
        [frozenset(d) if mark_terms[k] else frozenset() for k, d in enumerate(docs)],  # only read with marks
        np.array([hash(" ".join(i.title.casefold().split())) if i.source == "rss" else -1 for i in items]),
    )


def _presence(tfidf: sparse.csr_matrix, vocab: dict[str, int], items: Sequence[Item]) -> sparse.csr_matrix:
    """Item × word, 1 where the item has the word; a paper has only its title's words here.

    An abstract's lead names the tools a paper used ("we fine-tune Qwen3-8B"), not what the paper is:
    counted, a week's hundreds of papers built on Qwen3 would make "qwen3" a topic word, too loose to
    vouch for the threads of a Qwen3 launch (and a batch with papers would judge posts unlike one without).
    """
    words = tfidf.copy()
    words.data[:] = 1.0
    papers = [k for k, i in enumerate(items) if i.source == "arxiv" and i.title.strip()]
    if not papers:
        return words
    keep = words.tolil()
    for k in papers:
        cols = {vocab[t] for t in tokens(" ".join(items[k].title.split())) if t in vocab}
        keep.rows[k] = [c for c in keep.rows[k] if c in cols]
        keep.data[k] = [1.0] * len(keep.rows[k])
    return sparse.csr_matrix(keep, dtype=np.float32)


def _rare_names(heads: list[set[str]]) -> sparse.csr_matrix:
    """Item × name, keeping names that 2 to NAME_DF items of the batch share."""
    vocab: dict[str, int] = {}
    rows = [r for r, h in enumerate(heads) for _ in h]
    cols = [vocab.setdefault(t, len(vocab)) for h in heads for t in sorted(h)]
    m = sparse.csr_matrix(
        (np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(len(heads), max(1, len(vocab)))
    )
    df = np.asarray(m.sum(axis=0)).ravel()
    m = sparse.csr_matrix(m.multiply(((df >= 2) & (df <= NAME_DF)).astype(np.float32)[None, :]))
    m.eliminate_zeros()
    return m


def _tfidf(docs: list[list[str]]) -> tuple[sparse.csr_matrix, dict[str, int]]:
    """Sublinear tf × smoothed idf over the batch, rows l2-normalised (sklearn's TfidfVectorizer maths)."""
    vocab: dict[str, int] = {}
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    for r, doc in enumerate(docs):
        counts: dict[int, int] = {}
        for t in doc:
            k = vocab.setdefault(t, len(vocab))
            counts[k] = counts.get(k, 0) + 1
        rows.extend([r] * len(counts))
        cols.extend(counts)
        vals.extend(1.0 + np.log(list(counts.values())) if counts else [])
    n = len(docs)
    m = sparse.csr_matrix((np.asarray(vals, np.float32), (rows, cols)), shape=(n, max(1, len(vocab))))
    df = np.bincount(np.asarray(cols, dtype=np.int64), minlength=m.shape[1])
    idf = (np.log((1.0 + n) / (1.0 + df)) + 1.0).astype(np.float32)
    m = sparse.csr_matrix(m.multiply(idf[None, :]))
    norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
    m = sparse.csr_matrix(sparse.diags(1.0 / np.where(norms > 0, norms, 1.0)) @ m, dtype=np.float32)
    return m, vocab


def _baseline(vectors: np.ndarray) -> float:
    """Mean cosine of two random items of the batch: how topical the whole batch already is."""
    n = vectors.shape[0]
    if n < 2:
        return 0.0
    total = vectors.astype(np.float64).sum(axis=0)
    return float((total @ total - n) / (n * (n - 1)))


def _paper_name(item: Item) -> frozenset[str]:
    """The name a paper goes by: the title part before a colon or dash, when short."""
    if item.source != "arxiv":
        return frozenset()
    head = re.split(r":|\s[—–-]\s", item.title, maxsplit=1)
    if len(head) < 2 or len(head[0].split()) > 4:
        return frozenset()
    # Parts only ("deepseek", "prover", "v2" of "DeepSeek-Prover-V2"): a post names the paper when it
    # has them all, however it joins them ("DeepSeek-Prover-V2-671B").
    return frozenset(t for t in tokens(head[0]) if t not in _STOP and "-" not in t and "/" not in t)


def _coherence(words: sparse.csr_matrix, vectors: np.ndarray) -> np.ndarray:
    """Mean pairwise cosine of the items containing each word, from sums of unit vectors (no pairs).

    A story's own words ("opus_4.6", "sbarro") gather items that say the same thing; topic words
    ("claude", "code", "agent") gather items that do not. This separates them at any batch size.
    """
    df = np.asarray(words.sum(axis=0)).ravel()
    sums = np.asarray(words.T @ vectors.astype(np.float32))
    sq = np.einsum("ij,ij->i", sums, sums)
    with np.errstate(divide="ignore", invalid="ignore"):
        coh = np.where(df > 1, (sq - df) / np.maximum(df * (df - 1), 1), 0.0)
    # A word only two items share is measured on one pair: it must clear a higher bar than a word
    # that many items share ("grid" in two unrelated CSS questions vs "voxtral" in two launch posts).
    return np.where(df == 2, coh - SINGLE_PAIR_PENALTY, coh)


# A word vouches for a pair when its items are this much more alike than two random items of the batch:
# in an all-AI week "claude" is topic, not story; a floor keeps tiny or scattered batches strict.
COHERENCE_MARGIN = 0.3
COHERENCE_MIN = 0.45
SINGLE_PAIR_PENALTY = 0.1
# A word shared by at most this many items can make a candidate pair through the lexical vouch.
RARE_DF = 20
# Two names that at most this many items share vouch for a pair (a rare pair of names, not a topic).
NAME_DF = 3
SHARED_NAMES = 2
