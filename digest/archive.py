"""The static archive: one page per issue at `<YYYY-Www>/index.html`, an index and an Atom feed.

Every file is written atomically (temp file + os.replace) and only when its bytes change, so writing the
same issue twice leaves the folder untouched. `<week>/issue.json` holds the whole issue, so the index and
the feed are rebuilt from the folder alone.
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from digest.config import Config
from digest.errors import InputError, StorageError
from digest.models import Issue
from digest.render import WEEK_RE, IssueSummary, render_feed, render_index, render_issue_page
from digest.serialize import issue_to_dict
from digest.textfmt import date_range, names_in_title, safe_url


def archive_dir(cfg: Config) -> Path:
    return cfg.resolve(cfg.archive.path)


def write_atomic(path: Path, data: str) -> bool:
    """Write `path` via a temp file beside it and os.replace; False when the bytes were already there."""
    raw = data.encode("utf-8")
    try:
        if path.is_file() and path.read_bytes() == raw:
            return False
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(raw)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as e:
        raise StorageError(f"{path}: cannot write archive file: {e.strerror or e}") from None
    return True


def _is_final(issue: Issue, previous: dict[str, Any] | None, final: bool | None, now: datetime) -> bool:
    if final is not None:
        return final
    if previous is not None and previous.get("final") is True:
        return True  # once in the feed, always in the feed
    return issue.built_at >= issue.end or now >= issue.end


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise StorageError(f"{path}: unreadable issue.json ({e}); fix or delete it") from None
    if not isinstance(data, dict):
        raise StorageError(f"{path}: issue.json is not a JSON object; fix or delete it")
    return data


def write_issue(issue: Issue, cfg: Config, *, final: bool | None = None, now: datetime | None = None) -> Path:
    """Write the issue's page and issue.json, then rebuild index.html and feed.xml; returns the page path.

    `final` decides whether the issue enters the Atom feed (readers never refresh an entry). By default an
    issue is final once its week has ended (built after its end, or written after it); once final it stays.
    """
    if not WEEK_RE.match(issue.week):
        raise InputError(f"issue week {issue.week!r} is not an ISO week like 2026-W06")
    root = archive_dir(cfg)
    folder = root / issue.week
    previous = _read_json(folder / "issue.json") if (folder / "issue.json").is_file() else None
    is_final = _is_final(issue, previous, final, now or datetime.now(timezone.utc))
    payload = {**issue_to_dict(issue), "final": is_final}
    page = folder / "index.html"
    archived = {p.parent.name for p in root.glob("*/issue.json")} | {issue.week}
    write_atomic(page, render_issue_page(issue, cfg, archived=archived))
    write_atomic(
        folder / "issue.json", json.dumps(payload, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
    )
    rebuild(cfg)
    return page


def rebuild(cfg: Config) -> list[IssueSummary]:
    """Rewrite archive/index.html and archive/feed.xml from every `<week>/issue.json`."""
    issues = list_issues(cfg)
    root = archive_dir(cfg)
    write_atomic(root / "index.html", render_index(issues, cfg))
    write_atomic(root / "feed.xml", render_feed(issues, cfg))
    return issues


def _summary(data: dict[str, Any], where: Path) -> IssueSummary:
    try:
        week = str(data["week"])
        stories = data.get("stories") or []
        headlines = tuple(
            (str(s["story"]["headline"]), _lead_url(s["story"])) for s in stories if isinstance(s, dict)
        )
        title = str(data["title"])
        # The title lists the first stories by name; the index's "Also" line goes on from there.
        named = names_in_title(
            title,
            [(str(s["story"]["headline"]), _lead(s["story"]).get("source") == "arxiv") for s in stories],
        )
        return IssueSummary(
            week=week,
            title=title,
            date=datetime.fromisoformat(str(data["built_at"])),
            count=len(stories),
            path=f"{week}/index.html",
            final=bool(data.get("final", True)),
            headlines=headlines,
            named=named,
            span=date_range(
                datetime.fromisoformat(str(data["start"])), datetime.fromisoformat(str(data["end"]))
            ),
        )
    except (KeyError, TypeError, ValueError) as e:
        raise StorageError(
            f"{where}: not a digest issue.json (bad or missing {e}); fix or delete it"
        ) from None


def _lead(story: dict[str, Any]) -> dict[str, Any]:
    items = story.get("items") or []
    return next((i for i in items if i.get("id") == story.get("lead")), items[0] if items else {})


def _lead_url(story: dict[str, Any]) -> str:
    return safe_url(str(_lead(story).get("url") or ""))


def list_issues(cfg: Config) -> list[IssueSummary]:
    """Every archived issue, newest week first."""
    root = archive_dir(cfg)
    if not root.is_dir():
        return []
    out = []
    for path in sorted(root.glob("*/issue.json")):
        if WEEK_RE.match(path.parent.name):
            summary = _summary(_read_json(path), path)
            if summary.week != path.parent.name:
                raise StorageError(f"{path}: says week {summary.week} but lives in {path.parent.name}/")
            out.append(summary)
    return sorted(out, key=lambda s: s.week, reverse=True)
