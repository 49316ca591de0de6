"""URL canonical forms and the ids (arXiv, DOI) that make two items one story without any model.

`canonical_url` leans on w3lib for the RFC-level work (percent-encoding, query order, fragments) and
adds the rules that matter for news: one scheme, no `www.`/mobile/AMP host variants, no tracking
parameters, no trailing slash.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from w3lib.url import canonicalize_url

# Query keys that only say where a click came from; never part of what the page is. The one-letter keys
# `t` and `s` are a page's identity on many sites (a forum's `viewtopic.php?t=101`, a WordPress search
# `?s=`), so they are dropped only on the hosts of `_HOST_TRACKING`. (`source`, `src` and `output` stay
# global: `?source=rss` is how Medium's custom domains tag every feed link, and item keys of stored feed
# entries were made with them dropped.)
_TRACKING_KEYS = frozenset(
    {
        "ref",
        "ref_src",
        "ref_url",
        "referrer",
        "source",
        "src",
        "fbclid",
        "gclid",
        "dclid",
        "msclkid",
        "yclid",
        "igshid",
        "mc_cid",
        "mc_eid",
        "mkt_tok",
        "_hsenc",
        "_hsmi",
        "cmpid",
        "share",
        "si",
        "trk",
        "spm",
        "amp",
        "output",
        "outputtype",
        "sh",
        "feature",
        "smid",
        "partner",
    }
)
_TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "hmb_", "at_", "__twitter", "oly_")
# One-letter keys that are tracking on one host (and its subdomains): X's share links carry `?s=20&t=...`.
# (YouTube keeps only `_QUERY_IDENTITY` keys, so its `t=` start time is dropped there.)
_HOST_TRACKING = {"x.com": frozenset({"s", "t"})}
# Hosts whose identity is in the query: only these keys survive there.
_QUERY_IDENTITY = {"youtube.com": ("v", "list"), "news.ycombinator.com": ("id",)}
_MOBILE_PREFIXES = ("www.", "m.", "mobile.", "amp.", "old.", "new.", "np.")
_HOST_ALIASES = {
    "twitter.com": "x.com",
    # Embed-fixing mirrors and read-only front ends of X: the same post under another host.
    "fxtwitter.com": "x.com",
    "vxtwitter.com": "x.com",
    "fixupx.com": "x.com",
    "fixvx.com": "x.com",
    "xcancel.com": "x.com",
    "nitter.net": "x.com",
    "nitter.poast.org": "x.com",
    "youtu.be": "youtube.com",
    "youtube-nocookie.com": "youtube.com",
    "redd.it": "reddit.com",
    "export.arxiv.org": "arxiv.org",
}


def _host(netloc: str) -> str:
    host = netloc.rsplit("@", 1)[-1].lower().rstrip(".")
    if host.endswith(":80") or host.endswith(":443"):
        host = host.rsplit(":", 1)[0]
    changed = True
    while changed:
        changed = False
        for p in _MOBILE_PREFIXES:
            if host.startswith(p) and host.count(".") >= 2:
                host = host[len(p) :]
                changed = True
    return _HOST_ALIASES.get(host, host)


def canonical_url(url: str) -> str:
    """One spelling per page: https, lower-case host without www/m/amp, no tracking keys, no `/` tail.

    Returns "" for an empty or non-web string, so callers can use the result as a join key safely.
    """
    url = (url or "").strip()
    if not url:
        return ""
    if "://" not in url and re.match(r"^[\w.-]+\.[a-z]{2,}(/|$)", url, re.I):
        url = "https://" + url
    try:
        parts = urlsplit(canonicalize_url(url, keep_fragments=False))
    except ValueError:
        return ""
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return ""
    host = _host(parts.netloc)
    path = parts.path
    # Google AMP cache: /c/s/example.com/path → the publisher URL.
    if host.endswith("cdn.ampproject.org"):
        m = re.match(r"^/[cv]/(?:s/)?([^/]+)(/.*)?$", path)
        if m:
            host, path = _host(m.group(1)), m.group(2) or ""
    path = re.sub(r"/amp(?:\.html)?/?$", "", path)
    path = re.sub(r"\.amp(\.html?)$", r"\1", path)
    only = _QUERY_IDENTITY.get(host)
    pairs = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if (k in only if only else not _is_tracking(k, host))
    ]
    query = urlencode(sorted(pairs))
    post = _post_path(host, parts.netloc.lower(), path, dict(pairs))
    if post:
        return post
    if host == "arxiv.org":
        ids = arxiv_ids(host + path)
        if len(ids) == 1:
            return f"https://arxiv.org/abs/{ids.pop()}"
    path = path.rstrip("/")
    if path.endswith(("/index.html", "/index.htm", "/index.php")):
        path = path.rsplit("/", 1)[0]
    if host in _REPO_HOSTS:
        path = _repo_path(host, path)
    return urlunsplit(("https", host, path, query, ""))


# Posts whose id is the whole identity: the user name, subreddit, slug, playlist or player around it
# are decoration that differs between two links to the same post.
_X_POST = re.compile(r"^/(?:i/web|i|[^/]+)/status(?:es)?/(\d+)")
_REDDIT_POST = re.compile(r"^/(?:r/[^/]+/)?comments/([a-z0-9]+)", re.I)
_YOUTUBE_VIDEO = re.compile(r"^/(?:shorts|embed|live|v)/([\w-]{6,})")


def _post_path(host: str, netloc: str, path: str, query: dict[str, str]) -> str:
    """The one URL of an X post, Reddit thread or YouTube video, or "" for any other page.

    X post: `x.com/i/status/ID` (X serves that for any user name). Reddit thread: `reddit.com/comments/ID`
    (a comment permalink is part of its thread). YouTube video: `youtube.com/watch?v=ID`, from
    youtu.be, shorts, embeds and live links, and without the playlist a link was played from.
    """
    m: re.Match[str] | None
    if host == "x.com" and (m := _X_POST.match(path)):
        return f"https://x.com/i/status/{m.group(1)}"
    if host == "reddit.com":
        if netloc.endswith("redd.it") and re.fullmatch(r"/[a-z0-9]+/?", path, re.I):
            return f"https://reddit.com/comments/{path.strip('/').lower()}"
        if m := _REDDIT_POST.match(path):
            return f"https://reddit.com/comments/{m.group(1).lower()}"
    if host == "youtube.com":
        video = ""
        if netloc.endswith("youtu.be") and re.fullmatch(r"/[\w-]{6,}/?", path):
            video = path.strip("/")
        elif m := _YOUTUBE_VIDEO.match(path):
            video = m.group(1)
        elif path.rstrip("/") == "/watch":
            video = query.get("v", "")
        if video:
            return "https://youtube.com/watch?" + urlencode([("v", video)])
    return ""


# Code and model hosts: a repository's front page has several spellings ("/tree/main", "/blob/main/
# README.md", ".git", and on GitHub any letter case), all of them the one page a launch post links.
_REPO_HOSTS = frozenset({"github.com", "huggingface.co", "gitlab.com", "codeberg.org"})
_REPO_FRONT = re.compile(
    r"^(/(?:(?:datasets|spaces)/)?[^/]+/[^/]+?)(?:\.git)?(?:/(?:tree|blob)/(?:main|master)(?:/readme(?:\.md)?)?)?$",
    re.I,
)


def _repo_path(host: str, path: str) -> str:
    if host == "github.com":  # owner and repository names are case-insensitive there, file paths not
        segs = path.split("/")
        path = "/".join([*(x.lower() for x in segs[:3]), *segs[3:]])
    m = _REPO_FRONT.match(path)
    return m.group(1) if m else path


# Links a creator puts under every post or video (profiles, tips, chat invites, link-in-bio pages):
# never a story, so they neither join items nor make a video description look like a roundup.
_PROMO_HOSTS = frozenset(
    """patreon.com ko-fi.com buymeacoffee.com discord.gg discord.com linktr.ee beacons.ai instagram.com
    tiktok.com facebook.com linkedin.com twitch.tv threads.net t.me gumroad.com calendly.com skool.com
    amzn.to bit.ly""".split()  # noqa: SIM905 - a word list reads better than 19 quoted strings
)
_PROFILE = re.compile(
    r"^https://(?:(?:x\.com|github\.com|huggingface\.co|bsky\.app/profile)/[^/]+"
    r"|youtube\.com/(?:@[^/]+|channel/[^/]+|c/[^/]+|user/[^/]+)(?:/\w+)?"
    r"|reddit\.com/(?:r|u|user)/[^/]+"
    r"|github\.com/sponsors/[^/]+)$"
)


def site(url: str) -> str:
    """A URL's host as a reader names the site: lower-case, without "www." ("" when there is none)."""
    return (urlsplit(url).hostname or "").removeprefix("www.")


def is_promo_link(url: str) -> bool:
    """Whether a canonical URL (`canonical_url`) is a creator's profile or promo link."""
    return (urlsplit(url).hostname or "") in _PROMO_HOSTS or bool(_PROFILE.match(url))


def _is_tracking(key: str, host: str) -> bool:
    k = key.lower()
    if k in _TRACKING_KEYS or k.startswith(_TRACKING_PREFIXES):
        return True
    return any(k in keys and (host == h or host.endswith("." + h)) for h, keys in _HOST_TRACKING.items())


# New-style ids (2007+): YYMM.NNNNN with optional version; old style: archive/YYMMNNN.
_NEW_ID = r"(\d{4}\.\d{4,5})(?:v\d+)?"
_OLD_ID = r"([a-z-]+(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?"
_ARXIV_URL = re.compile(
    r"(?:arxiv\.org|alphaxiv\.org|huggingface\.co/papers|arxiv-sanity[\w.-]*|paperswithcode\.com/paper"
    r"|semanticscholar\.org/arxiv|scholar\.archive\.org|ar5iv(?:\.labs\.arxiv)?\.org|chatpaper\.com)"
    r"[^\s\"'<>]*?/(?:abs/|pdf/|html/|overview/|papers/|arxiv/)?" + r"(?:" + _NEW_ID + r"|" + _OLD_ID + r")",
    re.I,
)
_ARXIV_TAG = re.compile(r"(?:\barxiv[:\s]\s*|10\.48550/arxiv\.)(?:" + _NEW_ID + r"|" + _OLD_ID + r")", re.I)


def arxiv_ids(text_or_url: str) -> set[str]:
    """Version-free arXiv ids in a URL or free text: abs/pdf/html links, mirrors, `arXiv:2506.11093v2`."""
    if not text_or_url:
        return set()
    out: set[str] = set()
    for rx in (_ARXIV_URL, _ARXIV_TAG):
        for m in rx.finditer(text_or_url):
            out.add(m.group(1) or m.group(2))
    return out


_DOI = re.compile(r"\b(10\.\d{4,9}/[^\s\"'<>]+)", re.I)


def dois(text: str) -> set[str]:
    """DOIs in text or doi.org links, lower-cased (DOIs are case-insensitive), trailing punctuation cut."""
    out: set[str] = set()
    for m in _DOI.finditer(text or ""):
        doi = m.group(1).rstrip(".,;:)]}>").lower()
        doi = re.sub(r"(\.(?:pdf|html?|abstract|full))+$", "", doi)
        out.add(doi)
    return out
