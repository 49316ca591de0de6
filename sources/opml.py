"""OPML (a feed reader's export) → FeedConfig list, for `digest feeds import FILE.opml`. Pure."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from digest.config import FeedConfig
from digest.errors import InputError


def parse_opml(path: str | Path) -> list[FeedConfig]:
    """Every `<outline xmlUrl=…>` at any depth, in document order, once per URL.

    Names come from `title`, else `text`; hnrss.org URLs get `kind = "hn"`. Malformed or non-OPML input
    is one InputError line naming the file.
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
    if root.tag.lower() != "opml" or root.find("body") is None:
        raise InputError(f"{p}: not an OPML document (root <{root.tag}>, expected <opml> with a <body>)")
    feeds: list[FeedConfig] = []
    seen: set[str] = set()
    for outline in root.iter("outline"):
        attrs = {k.lower(): v for k, v in outline.attrib.items()}
        url = (attrs.get("xmlurl") or "").strip()
        if not url or url in seen:
            continue
        if not url.startswith(("http://", "https://")):
            raise InputError(
                f"{p}: outline {attrs.get('text') or url!r}: xmlUrl is not an http(s) URL: {url}"
            )
        seen.add(url)
        name = " ".join((attrs.get("title") or attrs.get("text") or "").split())
        kind = "hn" if "hnrss.org" in url.split("/")[2].lower() else "rss"
        feeds.append(FeedConfig(url=url, name=name, kind=kind))
    return feeds
