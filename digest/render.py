"""Jinja rendering of an Issue into email (HTML + text), archive page, archive index and Atom feed; pure.

Feed content is untrusted: titles are autoescaped text, summaries are reduced to text with nh3 (tags and
script/style bodies dropped) before autoescaping, and only http(s) URLs become links.
"""

from __future__ import annotations

import functools
import importlib
import importlib.resources
import re
import uuid
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parseaddr
from pathlib import Path
from typing import Any

import css_inline
import jinja2
from markupsafe import Markup

import digest
from digest.config import Config
from digest.errors import ConfigError
from digest.feedback import feedback_links
from digest.models import Issue, Item, RankedStory, SourceResult
from digest.textfmt import (
    date_range,
    names_in_title,
    plain,
    rfc3339,
    safe_url,
    short_link,
    strip_controls,
    truncate,
    wrap,
)
from digest.urls import site

GMAIL_CLIP_BYTES = 102 * 1024
WEEK_RE = re.compile(r"^\d{4}-W\d{2}$")
SOURCE_LABELS = {"arxiv": "arXiv", "reddit": "Reddit", "hn": "Hacker News", "rss": "Blog", "x": "X"}


@dataclass(frozen=True)
class IssueSummary:
    """One archived issue as the index and the feed see it; read back from `<week>/issue.json`."""

    week: str
    title: str
    date: datetime  # when the issue was built
    count: int  # stories
    path: str  # relative to the archive root, e.g. "2026-W06/index.html"
    final: bool = True  # only final issues go into the Atom feed (readers never refresh an entry)
    headlines: tuple[tuple[str, str], ...] = ()  # (title, url) per story, for the feed entry
    span: str = ""  # "2–8 Feb 2026"
    named: int = 1  # leading stories the title names ("digest 2026-W06: Claude Opus 4.6, … and 8 more")


def templates_dir() -> Path:
    """Bundled templates: `templates/` beside `digest/` in a checkout, else `templates` package."""
    here = Path(digest.__file__).resolve().parent.parent / "templates"
    if (here / "email.html.j2").is_file():
        return here
    try:
        pkg = Path(str(importlib.resources.files("templates")))
    except (ModuleNotFoundError, TypeError):
        pkg = None
    if pkg is not None and (pkg / "email.html.j2").is_file():
        return pkg
    raise ConfigError(f"bundled templates not found (looked in {here} and the 'templates' package)")


# ---------------------------------------------------------------- environment


def _finalize(value: Any) -> Any:
    """Every value a template prints, without control characters (feed text may carry them)."""
    if isinstance(value, Markup):
        return Markup(strip_controls(str(value)))
    return strip_controls(value) if isinstance(value, str) else value


@functools.lru_cache(maxsize=8)
def _environment(user_dir: str) -> jinja2.Environment:
    loaders: list[jinja2.BaseLoader] = []
    if user_dir:
        loaders.append(jinja2.FileSystemLoader(user_dir))
    loaders.append(jinja2.FileSystemLoader(str(templates_dir())))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=lambda name: not (name or "").endswith((".txt.j2", ".css")),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=_finalize,
    )
    env.filters.update(wrap=wrap, short_link=short_link, rfc3339=rfc3339)
    return env


def environment(cfg: Config) -> jinja2.Environment:
    """Bundled templates, with `[render] templates = "DIR"` searched first so a user can override any file."""
    user = ""
    if cfg.render.templates:
        path = cfg.resolve(cfg.render.templates)
        if not path.is_dir():
            raise ConfigError(f"render.templates: folder not found: {path}")
        user = str(path)
    return _environment(user)


def _render(cfg: Config, name: str, context: dict[str, Any]) -> str:
    try:
        return environment(cfg).get_template(name).render(context)
    except jinja2.TemplateSyntaxError as e:
        raise ConfigError(f"{e.filename or e.name or name}:{e.lineno}: template error: {e.message}") from None
    except jinja2.TemplateNotFound as e:
        raise ConfigError(f"template not found: {e.name}") from None
    except jinja2.UndefinedError as e:
        raise ConfigError(f"{name}: template uses an unknown value: {e.message}") from None


# ---------------------------------------------------------------- context


def source_label(item: Item) -> str:
    if item.source == "reddit" and item.feed:
        return f"r/{item.feed}"
    if item.source == "rss" and item.feed:
        return item.feed
    return SOURCE_LABELS.get(item.source, item.source)


_THREAD = {  # the discussion page of a link post, by source
    "hn": re.compile(r"^https?://news\.ycombinator\.com/item\?id=\d+$"),
    "reddit": re.compile(r"^https?://(?:www\.|old\.)?reddit\.com/r/\w+/comments/\w+"),
}


def _item_links(item: Item) -> list[tuple[str, str]]:
    """(group label, URL) of an item: a link post (HN, Reddit) gives its article, under the article's
    site, and its discussion thread, under its source; everything else its own URL under its source."""
    href = safe_url(item.url)
    pattern = _THREAD.get(item.source)
    if pattern is not None and not (href and pattern.match(href)):
        thread = next((u for u in item.links if pattern.match(u)), "")
        if thread:  # an article link that is not http(s) is dropped; its discussion is still shown
            return [*([(site(href), href)] if href else []), (source_label(item), safe_url(thread))]
    return [(source_label(item), href)] if href else []


def _links(rs: RankedStory) -> list[dict[str, Any]]:
    groups: dict[str, list[dict[str, str]]] = {}
    seen: set[str] = set()
    for item in rs.story.items:
        for label, href in _item_links(item):
            if href in seen:
                continue
            seen.add(href)
            groups.setdefault(label, []).append({"href": href, "label": short_link(href)})
    return [{"source": k, "links": v} for k, v in groups.items()]


def _same_words(a: str, b: str) -> bool:
    """Whether two texts say the same words, ignoring case, punctuation and spacing."""

    def words(t: str) -> list[str]:
        return re.findall(r"\w+", t.casefold())

    return words(a) == words(b)


def _story(
    n: int,
    rs: RankedStory,
    issue: Issue,
    cfg: Config,
    feedback: Callable[..., dict[str, str]],
    archived: Collection[str] | None,
) -> dict[str, Any]:
    lead = rs.story.lead
    base = cfg.archive.base_url.rstrip("/")
    summary = plain(rs.summary) or plain(lead.text)
    update = rs.update_of if rs.update_of and WEEK_RE.match(rs.update_of) else None
    follows = rs.follows if not update and rs.follows and WEEK_RE.match(rs.follows) else None
    earlier = update or follows  # the earlier issue this entry links back to
    labels = list(dict.fromkeys(source_label(i) for i in rs.story.items))
    links = feedback(lead.key, reply_address(cfg), issue.week)
    title = " ".join((rs.story.headline or lead.title or lead.url or "(untitled)").split())
    if _same_words(summary, title):  # a bare link's "summary" is its title: say it once
        summary = ""
    return {
        "n": n,
        "key": lead.key,
        "title": title,
        "url": safe_url(lead.url) or next((g["links"][0]["href"] for g in _links(rs)), ""),
        "summary": truncate(summary, cfg.render.summary_chars),
        "reasons": [" ".join(r.split()) for r in rs.reasons if r.strip()],
        "update_of": update,
        "follows": follows,
        "earlier_href_abs": f"{base}/{earlier}/" if earlier and base else "",
        "earlier_href_rel": f"../{earlier}/index.html"
        if earlier and (archived is None or earlier in archived)
        else "",
        "sources": labels,
        "domains": list(rs.story.domains),
        "item_count": len(rs.story.items),
        "links": _links(rs),
        "feedback": {k: v for k, v in links.items() if k in ("like", "dislike", "mute")},
    }


def _health(h: SourceResult) -> dict[str, Any]:
    if h.errors:
        status, note = "failed", "; ".join(truncate(plain(e), 160) for e in h.errors[:2])
    elif h.fallback:
        status, note = "fallback", plain(h.fallback)
    elif h.not_modified:
        status, note = "not modified", "unchanged since last run"
    else:
        status, note = "ok", ""
    return {"name": h.name, "fetched": h.fetched, "status": status, "note": note}


def reply_address(cfg: Config) -> str:
    return parseaddr(cfg.email.reply_to or cfg.email.from_)[1] or cfg.email.from_


def unsubscribe_url(cfg: Config) -> str:
    if cfg.email.unsubscribe:
        return cfg.email.unsubscribe
    return f"mailto:{parseaddr(cfg.email.from_)[1]}?subject=unsubscribe"


def issue_context(issue: Issue, cfg: Config, *, archived: Collection[str] | None = None) -> dict[str, Any]:
    """One render context for every output; links that differ between email and archive come in pairs.

    `archived`: the weeks present in the archive, when known; an update's link to an earlier week that is
    not among them is left out of the archive page instead of pointing at a missing file.
    """
    if not WEEK_RE.match(issue.week):
        raise ConfigError(f"issue week {issue.week!r} is not an ISO week like 2026-W06")
    base = cfg.archive.base_url.rstrip("/")
    feedback = feedback_links
    stories = [_story(n, rs, issue, cfg, feedback, archived) for n, rs in enumerate(issue.stories, 1)]
    health = [_health(h) for h in issue.health]
    failed = [h["name"] for h in health if h["status"] == "failed"]
    fell_back = [h["name"] for h in health if h["status"] == "fallback"]
    # The inbox shows this after the subject, which already names the first stories: go on from there.
    named = names_in_title(
        issue.title,
        [(s["title"], rs.story.lead.source == "arxiv") for s, rs in zip(stories, issue.stories, strict=True)],
    )
    rest = [s["title"] for s in stories[named:]] or [s["title"] for s in stories]
    headline_list = ("Also: " if named and named < len(stories) else "") + "; ".join(rest[:3])
    return {
        "site_title": cfg.archive.title,
        "issue": {
            "week": issue.week,
            "title": " ".join(issue.title.split()) or f"{cfg.archive.title} · {issue.week}",
            "date_range": date_range(issue.start, issue.end),
            "built_at": issue.built_at,
            "item_count": issue.item_count or sum(len(rs.story.items) for rs in issue.stories),
            "story_count": len(stories),
        },
        "preheader": truncate(headline_list, 140),
        "stories": stories,
        "health": health,
        "health_failed": failed,
        "health_fallback": fell_back,
        "health_fetched": sum(h.fetched for h in issue.health),
        "web_url": f"{base}/{issue.week}/" if base else "",
        "archive_url": f"{base}/" if base else "",
        "unsubscribe": unsubscribe_url(cfg),
        "list_id": cfg.email.list_label,
    }


# ---------------------------------------------------------------- outputs


def _inline(html: str) -> str:
    return css_inline.inline(html, keep_at_rules=True, load_remote_stylesheets=False, minify_css=True)


def render_email(issue: Issue, cfg: Config) -> tuple[str, str]:
    """(HTML with inlined CSS, plain text). Summaries shrink if the HTML would pass Gmail's clip limit."""
    ctx = issue_context(issue, cfg)
    html = _inline(_render(cfg, "email.html.j2", ctx))
    limit = cfg.render.summary_chars
    while len(html.encode("utf-8")) > GMAIL_CLIP_BYTES and limit > 80:
        limit //= 2
        for s in ctx["stories"]:
            s["summary"] = truncate(s["summary"], limit)
        html = _inline(_render(cfg, "email.html.j2", ctx))
    text = _render(cfg, "email.txt.j2", ctx)
    return html, text


def render_issue_page(issue: Issue, cfg: Config, *, archived: Collection[str] | None = None) -> str:
    return _render(cfg, "issue.html.j2", issue_context(issue, cfg, archived=archived))


def render_index(issues: Sequence[IssueSummary], cfg: Config) -> str:
    ordered = sorted(issues, key=lambda s: s.week, reverse=True)
    return _render(cfg, "index.html.j2", {"site_title": cfg.archive.title, "issues": ordered})


def _issue_href(s: IssueSummary, base: str) -> str:
    """Absolute pretty URL with a base URL; else the relative file path, which also works from file://."""
    return base + s.path.removesuffix("index.html") if base else s.path


def _entry_html(s: IssueSummary, base: str) -> str:
    items = Markup("").join(
        Markup('<li><a href="{}">{}</a></li>').format(url, title)
        if url
        else Markup("<li>{}</li>").format(title)
        for title, url in s.headlines
    )
    more = Markup('<p><a href="{}">Read the issue</a></p>').format(_issue_href(s, base))
    return str(Markup("<ol>{}</ol>").format(items) + more)


FEED_ENTRIES = 20  # a feed reader needs the recent issues; the archive index lists them all


def render_feed(issues: Sequence[IssueSummary], cfg: Config) -> str:
    """Atom feed of the `FEED_ENTRIES` newest final issues, newest first; ids are stable UUIDs derived from
    list id and week."""
    base = cfg.archive.base_url.rstrip("/") + "/" if cfg.archive.base_url else ""
    final = sorted((s for s in issues if s.final), key=lambda s: s.week, reverse=True)[:FEED_ENTRIES]
    ns = uuid.uuid5(uuid.NAMESPACE_DNS, cfg.email.list_label)
    entries = [
        {
            "title": s.title,
            "id": f"urn:uuid:{uuid.uuid5(ns, s.week)}",
            "updated": rfc3339(s.date),
            "href": _issue_href(s, base),
            "summary": f"{s.count} stories, week {s.week}",
            "content": _entry_html(s, base),
        }
        for s in final
    ]
    epoch = datetime(1970, 1, 1, tzinfo=timezone.utc)
    ctx = {
        "site_title": cfg.archive.title,
        "feed_id": f"urn:uuid:{ns}",
        "updated": rfc3339(max((s.date for s in final), default=epoch)),
        "base": base,
        "author": parseaddr(cfg.email.from_)[0] or cfg.archive.title,
        "entries": entries,
    }
    return _render(cfg, "feed.xml.j2", ctx)
