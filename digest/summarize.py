"""Extractive summaries: the lead sentences of an abstract, selftext or article, as plain text.

No model: what the author wrote first is usually what the item is about, and it cannot be wrong about
the item the way a generated summary can. An abstract is the exception: its first sentences are usually
the field's background, so a paper's summary starts at the sentence that says what the paper does.
HTML, markdown and an abstract's inline LaTeX are stripped so the result is safe to put in a text email
as well as (escaped) in HTML.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Collection, Sequence

from digest.models import Item, Story

_BLOCK_TAGS = re.compile(r"<\s*(script|style)\b.*?<\s*/\s*\1\s*>", re.I | re.S)
_BLOCK = re.compile(r"<\s*/?\s*(?:br|p|div|li|ul|ol|h\d|tr|td|th|table|blockquote|pre|section)\b[^>]*>", re.I)
# Only real HTML elements are tags: "List<int>" or "Vec<T>" in a post is text and stays.
_TAG = re.compile(r"<!--.*?-->|<\s*/?\s*([A-Za-z][A-Za-z0-9]*)(?:[\s/][^<>]*)?>", re.S)
_ELEMENT_NAMES = (
    "a abbr acronym address area article aside audio b bdi bdo big blink body br button canvas caption "
    "center cite code col colgroup dd del details dfn dialog div dl dt em embed fieldset figcaption "
    "figure font footer form frame frameset h1 h2 h3 h4 h5 h6 head header hr html i iframe img input "
    "ins kbd label legend li link main mark meta nav noscript object ol optgroup option output p param "
    "picture pre q rp rt ruby s samp section select small source span strike strong sub summary sup "
    "svg table tbody td template textarea tfoot th thead time title tr track tt u ul var video wbr"
)
_HTML_ELEMENTS = frozenset(_ELEMENT_NAMES.split())


_MD_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_MD_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_MD_REF_LINK = re.compile(r"\[([^\]]+)\]\[[^\]]*\]")
_MD_EMPH = re.compile(r"(\*\*|__|\*|_|~~|`+)(?=\S)(.+?)(?<=\S)\1")
_MD_LINE = re.compile(r"^\s{0,3}(?:#{1,6}\s+|>\s?|[-*+•●]\s+|\d+[.)]\s+)", re.M)
_MD_RULE = re.compile(r"^\s*(?:[-*_]\s*){3,}$", re.M)
_BARE_URL = re.compile(r"(?:https?://|\bwww\.)\S+")
_WS = re.compile(r"\s+")
# A sentence ends at . ! ? followed by space and an upper-case letter, digit or quote; "e.g. the" and
# "Fig. 3" style abbreviations are rare enough in leads that this simple rule holds.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'“(\[A-Z0-9])")
_ABBREV = re.compile(r"\b(?:e\.g|i\.e|et al|vs|Fig|Eq|cf|approx|resp)\.$", re.I)


def _drop_tag(m: re.Match[str]) -> str:
    name = m.group(1)
    return "" if name is None or name.lower() in _HTML_ELEMENTS else m.group(0)


def plain_text(text: str) -> str:
    """HTML and markdown → one line of plain text (entities decoded, tags, link targets, emphasis gone)."""
    s = _BLOCK_TAGS.sub(" ", text or "")
    s = _BLOCK.sub("\n", s)
    s = _TAG.sub(_drop_tag, s)  # inline tags (b, a, em) sit inside words and sentences
    s = html.unescape(s)
    s = _MD_IMAGE.sub(r"\1", s)
    s = _MD_LINK.sub(r"\1", s)
    s = _MD_REF_LINK.sub(r"\1", s)
    s = _MD_RULE.sub(" ", s)
    s = _MD_LINE.sub("", s)
    for _ in range(2):  # nested emphasis such as ***bold italic***
        s = _MD_EMPH.sub(r"\2", s)
    s = _drop_urls(s)
    return _WS.sub(" ", s).strip()


_GONE = "\x00"  # where a URL was, while the brackets and punctuation around it are tidied
_URL_TAIL = ".,;:!?'\"”’"
_SEP = r"(?:[\s,;:|/&·–-]|\band\b|\bor\b)*"
_EMPTY_BRACKET = re.compile(r"[(\[]\s*" + _GONE + "(?:" + _SEP + _GONE + ")*" + r"\s*[)\]]")
_AFTER_OPEN = re.compile(r"([(\[])\s*" + _GONE + r"[\s,;:]*")  # "(URL, the benchmark)" → "(the benchmark)"
_BEFORE_CLOSE = re.compile(r"[\s,;:]*" + _GONE + r"\s*([)\]])")  # "(see it, URL)" → "(see it)"
_BEFORE_STOP = re.compile(r"(?:\s*" + _GONE + r")+\s*(?=[.,;:!?])")  # "the docs URL." → "the docs."


def _url_end(url: str) -> int:
    """Where a bare-URL match really ends: sentence punctuation after it and a ")" or "]" it does not
    open itself ("(https://x.org)." - but "wiki/Foo_(bar)" keeps its own) belong to the text."""
    end = len(url)
    while end:
        c, head = url[end - 1], url[: end - 1]
        opener = {")": "(", "]": "["}.get(c)
        if not (c in _URL_TAIL or (opener and head.count(opener) <= head.count(c))):
            break
        end -= 1
    return end


def _drop_urls(s: str) -> str:
    """Text without its bare URLs, and without what they leave behind: "(URL)" goes whole, "(URL, the
    benchmark)" keeps "(the benchmark)", "TechCrunch reported (URL) that" reads "… reported that".
    Brackets a URL was not inside ("f()", "[1]") are not touched."""
    s = s.replace(_GONE, "")
    s = _BARE_URL.sub(lambda m: _GONE + m.group(0)[_url_end(m.group(0)) :], s)
    if _GONE not in s:
        return s
    s = _EMPTY_BRACKET.sub(_GONE, s)
    s = _AFTER_OPEN.sub(r"\1", s)
    s = _BEFORE_CLOSE.sub(r"\1", s)
    s = _BEFORE_STOP.sub("", s)
    return s.replace(_GONE, "")


def _sentences(text: str) -> list[str]:
    parts = _SENTENCE_END.split(text)
    out: list[str] = []
    for p in parts:
        if out and _ABBREV.search(out[-1]):
            out[-1] = f"{out[-1]} {p}"
        else:
            out.append(p)
    return [p.strip() for p in out if p.strip()]


def _cut(text: str, max_chars: int) -> str:
    if len(text) <= max_chars:
        return text
    room = text[: max_chars - 1]
    space = room.rfind(" ")
    if space > max_chars // 2:
        room = room[:space]
    return room.rstrip(" ,;:-–—") + "…"


_NUMBER = re.compile(r"\d+(?:[.,/:-]\d+)*")
BOILERPLATE_SHARE = 0.4  # a sentence shape in at least this share of a feed's items is its boilerplate
SHAPE_WORDS = 8  # a sentence's shape is its first words: boilerplate drifts at its tail ("full text search")
BOILERPLATE_MIN_ITEMS = 3  # fewer items of a feed say nothing about what it always writes
BOILERPLATE_SAMPLE = 200  # newest items of a feed read to find its boilerplate


def _shape(sentence: str) -> str:
    """A sentence's first words with numbers and case flattened: "AI News for 4/25/2025-4/26/2025." and
    "AI News for 4/23/2025-4/24/2025." have one shape."""
    return " ".join(_NUMBER.sub("#", sentence.casefold()).split()[:SHAPE_WORDS])


def boilerplate(items: Sequence[Item], feeds: Collection[tuple[str, str]] | None = None) -> frozenset[str]:
    """Sentence shapes that most items of one feed repeat (a newsletter's "We checked 9 subreddits,
    449 Twitters…" line): they describe the feed, not the item, and no summary should use them.

    Only the (source, feed) pairs in `feeds` are read when given, each from its newest
    `BOILERPLATE_SAMPLE` items: a share is well estimated from a sample, and a week of 10,000 papers
    need not be split into sentences to summarise ten stories.
    """
    by_feed: dict[tuple[str, str], list[Item]] = {}
    for item in items:
        if item.feed and (feeds is None or (item.source, item.feed) in feeds):
            by_feed.setdefault((item.source, item.feed), []).append(item)
    out: set[str] = set()
    for group in by_feed.values():
        if len(group) < BOILERPLATE_MIN_ITEMS:
            continue
        group = sorted(group, key=lambda i: (i.published, i.key), reverse=True)[:BOILERPLATE_SAMPLE]
        counts: Counter[str] = Counter()
        for i in group:
            counts.update({_shape(x) for x in _sentences(plain_text(i.text))})
        out.update(shape for shape, k in counts.items() if k >= max(2, BOILERPLATE_SHARE * len(group)))
    return frozenset(out)


# LaTeX that arXiv abstracts carry verbatim (one in six in the W06 world): markup commands keep their
# text, common symbols become characters, short inline math loses its dollars.
_TEX_MARKUP = re.compile(
    r"\\(?:textbf|textit|emph|underline|textsc|texttt|textrm|textsf|text|mathrm|mathbf|mathit|mathcal|"
    r"mathbb|boldsymbol)\s*\{([^{}]*)\}"
)
_TEX_HREF = re.compile(r"\\href\s*\{[^{}]*\}\s*\{([^{}]*)\}")
_TEX_SYMBOLS = {
    "times": "×", "approx": "≈", "pm": "±", "cdot": "·", "sim": "~", "leq": "≤", "le": "≤", "geq": "≥",
    "ge": "≥", "to": "→", "rightarrow": "→", "infty": "∞", "%": "%", "&": "&", "_": "_", "#": "#",
    "eg": "e.g.", "ie": "i.e.", "etc": "etc.",
}  # fmt: skip
_TEX_SYMBOL = re.compile(
    r"\\(" + "|".join(sorted(map(re.escape, _TEX_SYMBOLS), key=len, reverse=True)) + r")(?![A-Za-z])"
)
_TEX_MATH = re.compile(r"\$([^$]{1,80})\$")


def plain_latex(text: str) -> str:
    """An abstract's inline LaTeX as readable text: "\\textbf{S}" → "S", "$6\\times$" → "6×"."""
    text = text.replace("\\$", "\x00")  # an escaped dollar is a dollar, not math
    for _ in range(2):  # nested markup such as \textbf{\emph{x}}
        text = _TEX_MARKUP.sub(r"\1", text)
    text = _TEX_HREF.sub(r"\1", text)
    text = _TEX_SYMBOL.sub(lambda m: _TEX_SYMBOLS[m.group(1)], text)
    text = _TEX_MATH.sub(lambda m: m.group(1).replace("{", "").replace("}", ""), text)
    return text.replace("\x00", "$")


# An abstract's sentence saying what the paper does ("To fill this gap, we present MAS-ProVe, …"); the
# sentences before it are usually the field's background, which the title already sets.
_CONTRIBUTION = re.compile(
    r"\b(?:we|this (?:paper|work|report|study)|our (?:paper|work|study))\s+(?:here\s+|first\s+|further\s+)?"
    r"(?:introduce|propose|present|develop|release|describe|build|design|study|investigate|report|show|find|"
    r"demonstrate|offer|provide|focus|identify|examine|analy[sz]e|explore|evaluate|construct|curate|"
    r"conduct|address|tackle|establish|reveal|unveil|open-source)s?\b",
    re.I,
)
CONTRIBUTION_WITHIN = 6  # look for it among an abstract's first sentences only
# What comes before "we" in such a sentence: "To fill this gap, ", "Yet, in this work ", "Here ".
_LEAD_IN = re.compile(
    r"^(?:[^,;:]{0,60},\s*)?(?:in (?:this|our) (?:paper|work|report|study),?\s*|here,?\s*)?(?=we\b)", re.I
)


def _from_contribution(sentences: list[str]) -> list[str]:
    """An abstract's sentences from the one that says what the paper does, its lead-in clause dropped."""
    for k, sentence in enumerate(sentences[:CONTRIBUTION_WITHIN]):
        if _CONTRIBUTION.search(sentence):
            if k == 0:
                return sentences
            first = _LEAD_IN.sub("", sentence)
            return [first[:1].upper() + first[1:], *sentences[k + 1 :]]
    return sentences


HOOK_CHARS = 80  # a question this short opening an article is its hook, not what it reports


def _is_hook(sentence: str) -> bool:
    """A blog's or newsletter's opening question ("Qwen + Inference Engine are all you need?"): the
    sentences after it say what happened. A Reddit post's question is its point and stays."""
    return sentence.endswith("?") and len(sentence) <= HOOK_CHARS


def summarize(item: Item, max_chars: int = 320, skip: frozenset[str] = frozenset()) -> str:
    """Lead sentences of the item's body, whole sentences while they fit, never over `max_chars`.

    A body that only repeats the title adds nothing, so it is skipped; with no body the title stands in.
    Sentences whose shape is in `skip` (its feed's boilerplate, see `boilerplate`) are left out.
    A paper's summary starts at the abstract's contribution sentence ("We introduce …"); an article's
    skips an opening question (`_is_hook`).
    """
    max_chars = max(max_chars, 20)
    body = plain_text(plain_latex(item.text) if item.source == "arxiv" else item.text)
    title = plain_text(item.title)
    if body.lower().startswith(title.lower()) and title:
        body = body[len(title) :].lstrip(" -–—:.|")
    sentences = [x for x in _sentences(body) if _shape(x) not in skip]
    if not sentences:
        return _cut(title, max_chars)
    if item.source == "arxiv":
        sentences = _from_contribution(sentences)
    elif item.source == "rss" and len(sentences) > 1 and _is_hook(sentences[0]):
        sentences = sentences[1:]
    picked: list[str] = []
    used = 0
    for sentence in sentences:
        extra = len(sentence) + (1 if picked else 0)
        if used + extra > max_chars:
            break
        picked.append(sentence)
        used += extra
    if not picked:  # the first sentence alone is too long: cut it at a word
        return _cut(" ".join(sentences), max_chars)
    return " ".join(picked)


def _has_body(item: Item) -> bool:
    body, title = plain_text(item.text), plain_text(item.title)
    return bool(body) and body.lower() != title.lower()


_WORD = re.compile(r"\w+")
_FILLER_WORDS = "a an and the of on in for to with is are at by from via introducing announcing new"
_FILLER = frozenset(_FILLER_WORDS.split())
SAME_ANNOUNCEMENT = 0.6  # share of a member's title words that must be the headline's to lend its body


def _words(text: str) -> set[str]:
    return {w for w in _WORD.findall(plain_text(text).casefold()) if w not in _FILLER}


def _announces(item: Item, headline: str) -> bool:
    """Whether a member is the story's announcement in other words, not a reaction to it:
    "Introducing Claude Opus 4.6" under "Claude Opus 4.6", not "Qwen3-Coder-Next on RTX 5060 Ti: numbers"."""
    first = _sentences(plain_text(item.text))[:1]
    own = _words(item.title or (first[0] if first else ""))
    head = _words(headline)
    return bool(own and head) and len(own & head) / len(own) >= SAME_ANNOUNCEMENT


def summarize_story(story: Story, max_chars: int = 320, skip: frozenset[str] = frozenset()) -> str:
    """The lead's summary, or, when the lead is a bare link (an HN title, a tweet with no text), that of
    the first other member that announces the same thing and has a body: the lab's own Reddit post under
    an HN-led launch. A reaction thread's body (one user's benchmark) does not describe the story, so
    with no announcement to borrow from the title stands in."""
    if _has_body(story.lead):
        return summarize(story.lead, max_chars, skip)
    headline = story.headline or story.lead.title
    lenders = [i for i in story.items if _has_body(i) and _announces(i, headline)]
    return summarize(lenders[0] if lenders else story.lead, max_chars, skip)
