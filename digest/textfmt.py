"""Text helpers shared by rendering, issue titles and the archive (and used as template filters); pure."""

from __future__ import annotations

import html as htmllib
import re
import textwrap
import unicodedata
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from urllib.parse import quote, urlsplit

import nh3

from digest.urls import site

# HTML's own elements: only these are markup. "for k<n", "Vector<T>" and "$\\texttt{<think>}$" are text.
_ELEMENTS = (
    "a|abbr|address|area|article|aside|audio|b|base|bdi|bdo|big|blockquote|body|br|button|canvas|caption|"
    "center|cite|code|col|colgroup|dd|del|details|dfn|div|dl|dt|em|embed|fieldset|figcaption|figure|font|"
    "footer|form|h[1-6]|head|header|hr|html|i|iframe|img|input|ins|kbd|label|legend|li|link|main|map|mark|"
    "meta|nav|object|ol|option|p|picture|pre|q|s|samp|section|select|small|source|span|strike|strong|sub|"
    "summary|sup|svg|table|tbody|td|textarea|tfoot|th|thead|time|title|tr|tt|u|ul|var|video|wbr"
)
# A "<" is markup only where a whole tag of one of them follows, up to its ">".
_TEXT_LT = re.compile(rf"<(?!/?(?:{_ELEMENTS}|script|style|noscript|template)(?:[\s/][^<>]*)?>|!--)", re.I)


def plain(value: str) -> str:
    """Untrusted HTML or text → one line of text: HTML tags and script/style bodies dropped (nh3), entities
    decoded. A "<" that starts no HTML element is text (abstracts say "p<0.05", "for k<n", "<think>"): it
    is escaped before nh3 reads the markup, so it survives; the result is autoescaped wherever rendered."""
    if not value:
        return ""
    cleaned = nh3.clean(_TEXT_LT.sub("&lt;", value), tags=set(), attributes={}, strip_comments=True)
    return " ".join(htmllib.unescape(cleaned).split())


# C0/C1 controls, lone surrogates and non-characters; bidi embeddings, overrides, isolates and marks
# (U+202A-E, U+2066-9, U+200E/F, U+061C); zero-width spaces and joiners (U+200B-D, U+2060, U+FEFF).
_CONTROLS = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff"
    "\u061c\u200b-\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]"
)


def strip_controls(text: str) -> str:
    """Text without control characters (tab, LF and CR stay): XML forbids them, so one "\x07" in a feed
    title would make the Atom feed unreadable, and a mail header must not carry them either. Bidi controls
    go too (a title's U+202E would reverse the rest of the subject line or the index around it), and so do
    zero-width characters, which hide what a reader sees (a ZWJ emoji sequence shows as its parts)."""
    return _CONTROLS.sub("", text)


def truncate(text: str, limit: int) -> str:
    """`text` in at most `limit` characters with "…": cut at a word, unless that loses over a third of
    the room (one very long word, a pasted URL), then inside the word."""
    if limit <= 0 or len(text) <= limit:
        return text
    room = text[: limit - 1]
    cut = room.rsplit(" ", 1)[0].rstrip(" ,;:.-—")
    if len(cut) < (limit * 2) // 3:
        cut = room.rstrip()
    return cut + "…"


def short_name(headline: str, paper: bool) -> str:
    """What a story goes by in a list: a paper's own name ("Kimi K2.5: Visual Agentic…" → "Kimi K2.5"),
    else its headline, cut at a word to 40 characters."""
    headline = " ".join(headline.split())
    if paper:
        name, sep, _ = headline.partition(": ")
        if sep and len(name) <= 30 and len(name.split()) <= 4:
            return name
    headline = headline.rstrip(" .!?;:,") or headline  # "Qwen 3 !!!" goes by "Qwen 3" in a list
    return headline if len(headline) <= 40 else truncate(headline, 39)  # 40 with the ellipsis


def names_in_title(title: str, stories: Sequence[tuple[str, bool]]) -> int:
    """How many leading stories (headline, is a paper) the title names by their `short_name`."""
    named = 0
    for headline, paper in stories:
        if short_name(headline, paper).rstrip("…") not in title:
            break
        named += 1
    return named


def _invisible(c: str) -> bool:
    return unicodedata.category(c) in ("Cf", "Cc")  # format (bidi, zero-width, soft hyphen) or control


def safe_url(url: str) -> str:
    """The URL if it is a plain http(s) link, else "" (no javascript:, data:, or control characters).

    A host with a format or control character (`goo\u200bgle.com`, shown as "google.com") is refused: no
    real host name holds one, and shown it would pass for another. Elsewhere (path, query, fragment) such
    a character is percent-encoded: that is how a browser sends it anyway, so the link still leads where
    it did, and the link text shows `%E2%80%8B` instead of hiding it or reversing what follows.
    """
    url = (url or "").strip()
    if not url or any(ord(c) < 32 or c.isspace() for c in url):
        return ""
    try:
        parts = urlsplit(url)
    except ValueError:  # "http://[::1" and other broken hosts
        return ""
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return ""
    if any(_invisible(c) for c in parts.netloc):
        return ""
    return "".join(quote(c, safe="") if _invisible(c) else c for c in url)


def short_link(url: str, limit: int = 48) -> str:
    parts = urlsplit(url)
    label = site(url) + parts.path.rstrip("/") + (f"?{parts.query}" if parts.query else "")
    return label if len(label) <= limit else label[: limit - 1] + "…"


def wrap(text: str, width: int = 72, indent: str = "", first: str | None = None) -> str:
    """Wrap a paragraph for the plain-text part; URLs and long words are never broken."""
    return textwrap.fill(
        " ".join(str(text).split()),
        width=width,
        initial_indent=indent if first is None else first,
        subsequent_indent=indent,
        break_long_words=False,
        break_on_hyphens=False,
    )


def rfc3339(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def date_range(start: datetime, end: datetime) -> str:
    last = end - timedelta(seconds=1) if end.time() == datetime.min.time() and end > start else end
    s, e = start.date(), last.date()
    if (s.year, s.month) == (e.year, e.month):
        return f"{s.day}–{e.day} {e:%b %Y}"
    if s.year == e.year:
        return f"{s.day} {s:%b} – {e.day} {e:%b %Y}"
    return f"{s.day} {s:%b %Y} – {e.day} {e:%b %Y}"
