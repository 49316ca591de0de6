"""Link extraction for posts and entries: URLs in text or HTML, arXiv ids in every spelling, made canonical.

Canonical forms let the cluster stage join items by link: every arXiv abs/pdf/html/alphaxiv/Hugging Face
papers link also yields `https://arxiv.org/abs/<id>` (version-free), GitHub links are kept as found.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit, urlunsplit

_URL = re.compile(r"""https?://[^\s<>"'\\\])}|]+""", re.I)
_TRAIL = ".,;:!?*_'\")]}>"
_ARXIV_ID = r"(\d{4}\.\d{4,5}|[a-z\-]+(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?"
_ARXIV_URL = re.compile(
    r"^https?://(?:www\.|export\.)?(?:arxiv\.org|alphaxiv\.org|huggingface\.co/papers)"
    r"(?:/(?:abs|pdf|html|overview))?/" + _ARXIV_ID + r"(?:\.pdf)?/?$",
    re.I,
)
# "arXiv:2504.20879", "arXiv 2504.20879v2", "the arXiv paper (2504.16940)": an id close after the word.
_ARXIV_MENTION = re.compile(r"\barxiv\b[^.\n\d]{0,25}?(\d{4}\.\d{4,5})(?:v\d+)?\b", re.I)
# Media, avatars and reddit chrome are not "links of the story".
_SKIP_HOSTS = ("i.redd.it", "preview.redd.it", "external-preview.redd.it", "v.redd.it", "i.imgur.com")
_BLOCKS = {"p", "br", "div", "li", "ul", "ol", "pre", "blockquote", "h1", "h2", "h3", "h4", "tr", "hr"}
_SKIP_EXT = (".png", ".jpg", ".jpeg", ".gif", ".webp", ".mp4", ".svg")


def arxiv_id(url: str) -> str | None:
    """The version-free arXiv id a URL points at (abs, pdf, html, alphaxiv, HF papers), else None."""
    m = _ARXIV_URL.match(url.strip())
    return m.group(1) if m else None


def clean_url(url: str) -> str:
    url = html.unescape(url).strip().rstrip(_TRAIL)
    while url.endswith(")") and url.count("(") < url.count(")"):
        url = url[:-1]
    parts = urlsplit(url)
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path, parts.query, ""))


def _wanted(url: str) -> bool:
    parts = urlsplit(url)
    host = parts.netloc.lower()
    if not host or "." not in host or host.endswith(_SKIP_HOSTS):
        return False
    path = parts.path.lower()
    if path.endswith(_SKIP_EXT):
        return False
    return not (host.endswith("reddit.com") and path.startswith(("/user/", "/u/")))


class _Anchors(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.hrefs.extend(v for k, v in attrs if k == "href" and v)
        elif tag in _BLOCKS:
            self.text.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _BLOCKS:
            self.text.append("\n\n")

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def html_to_text(fragment: str, paragraphs: bool = False) -> str:
    """Visible text of an HTML fragment, whitespace collapsed (blank line between blocks if `paragraphs`)."""
    if "<" in fragment or "&" in fragment:
        p = _Anchors()
        p.feed(fragment)
        p.close()
        fragment = "".join(p.text)
    if not paragraphs:
        return " ".join(fragment.split())
    blocks = (" ".join(b.split()) for b in re.split(r"\n\s*\n", fragment))
    return "\n\n".join(b for b in blocks if b)


def entry_text(entry: Any, key: str = "title") -> str:
    """A feedparser entry's `key` as one line of text. feedparser has already decoded a plain-text title
    ("Vector&lt;T&gt;" → "Vector<T>"): reading it as HTML again would drop "<T>" as a tag. Only what it
    marks text/html is reduced from markup."""
    value = str(entry.get(key) or "")
    detail = entry.get(f"{key}_detail") or {}
    if detail.get("type") == "text/plain":
        return " ".join(value.split())
    return html_to_text(value)


def html_hrefs(fragment: str) -> list[str]:
    p = _Anchors()
    p.feed(fragment)
    p.close()
    return p.hrefs


def extract_links(
    *texts: str, html_parts: tuple[str, ...] = (), exclude: tuple[str, ...] = ()
) -> tuple[str, ...]:
    """URLs found in plain `texts` and in `html_parts` (hrefs and bare URLs), canonical, first-seen order."""
    found: list[str] = []
    for t in texts:
        found += _URL.findall(t or "")
        found += [f"https://arxiv.org/abs/{m}" for m in _ARXIV_MENTION.findall(t or "")]
    for h in html_parts:
        found += html_hrefs(h or "")
        found += _URL.findall(html_to_text(h or ""))
    out: list[str] = []
    skip = {clean_url(e) for e in exclude if e}
    for raw in found:
        url = clean_url(raw)
        if not url.startswith(("http://", "https://")) or not _wanted(url) or url in skip:
            continue
        ident = arxiv_id(url)
        canon = f"https://arxiv.org/abs/{ident}" if ident else url
        for u in (canon, url) if ident and not url.startswith("https://arxiv.org/abs/") else (canon,):
            if u not in out and u not in skip:
                out.append(u)
    return tuple(out)
