"""OPML (a feed reader's export) → FeedConfig list, for `digest feeds import FILE.opml`. Pure."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import urlsplit

from digest.config import FeedConfig
from digest.errors import InputError


def _local(name: str) -> str:
    """An element or attribute name without its namespace (`{http://opml.org/spec2}opml` → `opml`)."""
    return name.rpartition("}")[2].lower()


def _bad_url(url: str) -> str:
    """Why an http(s) xmlUrl cannot be fetched ("" if it can): blank, a space in it, no host, a bad port."""
    if not url:
        return "empty xmlUrl"
    if any(c.isspace() or ord(c) < 32 for c in url):
        return "xmlUrl contains whitespace"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a non-numeric or out-of-range port
    except ValueError as e:
        return f"xmlUrl is not a valid URL ({e})"
    if not parts.hostname:
        return "xmlUrl has no host"
    return ""


def read_opml(path: str | Path) -> tuple[list[FeedConfig], list[str]]:
    """Every `<outline xmlUrl=…>` at any depth, in document order, once per URL, and one warning line per
    outline skipped for an unusable xmlUrl (blank, no host, a space in it), naming the file and the URL.

    Names come from `title`, else `text`; hnrss.org URLs get `kind = "hn"`. Element names match
    whatever namespace the file declares. Malformed or non-OPML input is one InputError naming the file.
    """
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{p}: OPML file not found") from None
    except OSError as e:
        raise InputError(f"{p}: cannot read OPML file: {e.strerror}") from None
    if b"<!ENTITY" in raw:
        raise InputError(f"{p}: OPML with entity declarations is not accepted")
    try:
        root = ET.fromstring(raw)
    except ET.ParseError as e:
        raise InputError(f"{p}: malformed OPML ({e})") from None
    # OPML 2.0 files may declare a namespace (<opml xmlns="http://opml.org/spec2">): names match without it.
    if _local(root.tag) != "opml" or not any(_local(el.tag) == "body" for el in root):
        raise InputError(f"{p}: not an OPML document (root <{root.tag}>, expected <opml> with a <body>)")
    feeds: list[FeedConfig] = []
    skipped: list[str] = []
    seen: set[str] = set()
    for outline in root.iter():
        if _local(outline.tag) != "outline":
            continue
        attrs = {_local(k): v for k, v in outline.attrib.items()}
        if "xmlurl" not in attrs:  # a folder
            continue
        url = attrs["xmlurl"].strip()
        if url in seen:
            continue
        label = attrs.get("text") or attrs.get("title") or url
        if url and not url.startswith(("http://", "https://")):
            raise InputError(f"{p}: outline {label!r}: xmlUrl is not an http(s) URL: {url}")
        why = _bad_url(url)
        if why:
            seen.add(url)
            skipped.append(f"{p}: skipped outline {label!r}: {why}: {attrs['xmlurl']!r}")
            continue
        seen.add(url)
        name = " ".join((attrs.get("title") or attrs.get("text") or "").split())
        kind = "hn" if "hnrss.org" in (urlsplit(url).hostname or "") else "rss"
        feeds.append(FeedConfig(url=url, name=name, kind=kind))
    return feeds, skipped
