"""The static archive: atomic, idempotent files; index and feed rebuilt from the folder; `digest serve`."""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import feedparser
import httpx
import pytest
from render_fixtures import sample_issue
from test_render import Tags

from digest.archive import list_issues, write_issue
from digest.config import ArchiveConfig, Config
from digest.errors import InputError, StorageError
from digest.serialize import issue_from_dict
from digest.serve import make_server


def cfg_for(root: Path, base_url: str = "") -> Config:
    return Config(archive=ArchiveConfig(path=str(root), base_url=base_url))


def snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    return {
        str(p.relative_to(root)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in root.rglob("*")
        if p.is_file()
    }


def test_write_issue_lays_out_page_json_index_and_feed(tmp_path: Path):
    cfg = cfg_for(tmp_path / "archive")
    page = write_issue(sample_issue(), cfg)
    root = tmp_path / "archive"
    assert page == root / "2026-W06" / "index.html"
    assert sorted(snapshot(root)) == ["2026-W06/index.html", "2026-W06/issue.json", "feed.xml", "index.html"]
    data = json.loads((root / "2026-W06" / "issue.json").read_text())
    assert data["final"] is True
    assert issue_from_dict(data) == sample_issue()  # the folder alone is enough to re-render


def test_writing_the_same_issue_again_changes_no_byte_and_no_mtime(tmp_path: Path):
    cfg = cfg_for(tmp_path)
    write_issue(sample_issue(), cfg)
    before = snapshot(tmp_path)
    write_issue(sample_issue(), cfg)
    assert snapshot(tmp_path) == before
    assert not [p for p in tmp_path.rglob("*.tmp")]


def test_index_newest_first_and_every_relative_link_resolves_on_disk(tmp_path: Path):
    cfg = cfg_for(tmp_path)
    for week, built in (("2026-W05", datetime(2026, 2, 2, 7, tzinfo=timezone.utc)), ("2026-W06", None)):
        issue = sample_issue(week=week, built_at=built) if built else sample_issue(week=week)
        write_issue(issue, cfg)
    assert [s.week for s in list_issues(cfg)] == ["2026-W06", "2026-W05"]
    page_html = (tmp_path / "2026-W06" / "index.html").read_text()
    assert "first featured in 2026-W03" in page_html  # the update is told, but W03 is not archived: no link
    assert "../2026-W03/index.html" not in page_html
    index = (tmp_path / "index.html").read_text()
    assert index.index("2026-W06/index.html") < index.index("2026-W05/index.html")
    for page in (tmp_path / "index.html", tmp_path / "2026-W06" / "index.html"):
        for href in Tags(page.read_text()).hrefs():
            if urlsplit(href).scheme:
                continue
            target = urlsplit(urljoin(page.as_uri(), href)).path
            assert Path(target).is_file(), f"{page}: {href} → {target} (file:// would break)"


def test_feed_has_only_final_issues_and_reads_without_errors(tmp_path: Path):
    cfg = cfg_for(tmp_path, "https://news.example.org/")
    write_issue(sample_issue(week="2026-W05"), cfg)
    draft = dataclasses.replace(
        sample_issue(week="2026-W07"), built_at=datetime(2026, 2, 11, tzinfo=timezone.utc)
    )
    write_issue(draft, cfg, now=datetime(2026, 2, 12, tzinfo=timezone.utc))  # mid-week: not final
    parsed = feedparser.parse((tmp_path / "feed.xml").read_bytes())
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert [e.link for e in parsed.entries] == ["https://news.example.org/2026-W05/"]
    assert "in progress" in (tmp_path / "index.html").read_text()
    # once its week is over, the next write puts it into the feed, and it stays there
    write_issue(draft, cfg, now=datetime(2026, 2, 17, tzinfo=timezone.utc))
    write_issue(draft, cfg, now=datetime(2026, 2, 12, tzinfo=timezone.utc))
    parsed = feedparser.parse((tmp_path / "feed.xml").read_bytes())
    assert [e.link for e in parsed.entries] == [
        "https://news.example.org/2026-W07/",
        "https://news.example.org/2026-W05/",
    ]


def test_explicit_final_flag_wins(tmp_path: Path):
    cfg = cfg_for(tmp_path)
    issue = dataclasses.replace(sample_issue(), built_at=sample_issue().start + timedelta(days=2))
    write_issue(issue, cfg, final=True, now=issue.start + timedelta(days=2))
    assert [s.final for s in list_issues(cfg)] == [True]


def test_corrupt_issue_json_is_one_line_naming_the_file(tmp_path: Path):
    cfg = cfg_for(tmp_path)
    write_issue(sample_issue(), cfg)
    (tmp_path / "2026-W06" / "issue.json").write_text("{not json")
    with pytest.raises(StorageError, match=r"2026-W06/issue.json: unreadable issue.json") as e:
        list_issues(cfg)
    assert "\n" not in str(e.value)


def test_bad_week_cannot_escape_the_archive_folder(tmp_path: Path):
    with pytest.raises(InputError, match="not an ISO week"):
        write_issue(dataclasses.replace(sample_issue(), week="../../etc"), cfg_for(tmp_path / "a"))
    assert not (tmp_path / "a").exists()


def test_unwritable_archive_is_a_storage_error(tmp_path: Path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StorageError, match="cannot write archive file"):
        write_issue(sample_issue(), cfg_for(blocker / "archive"))


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    cfg = cfg_for(tmp_path)
    write_issue(sample_issue(), cfg)
    server = make_server(cfg, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    yield f"http://{host!s}:{port}"
    server.shutdown()
    server.server_close()


def test_serve_previews_the_archive_over_http(served: str):
    with httpx.Client(base_url=served, timeout=10) as client:
        index = client.get("/")
        assert index.status_code == 200 and "2026-W06/index.html" in index.text
        page = client.get("/2026-W06/")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        feed = client.get("/feed.xml")
        assert feed.headers["content-type"].startswith("application/atom+xml")
        assert feedparser.parse(feed.content).bozo == 0
        assert client.get("/2026-W99/").status_code == 404  # no directory listings


def test_serve_without_an_archive_says_what_to_do(tmp_path: Path):
    with pytest.raises(InputError, match="run `digest build` first"):
        make_server(cfg_for(tmp_path / "none"), "127.0.0.1", 0)
    cfg = cfg_for(tmp_path)
    write_issue(sample_issue(), cfg)
    busy = make_server(cfg, "127.0.0.1", 0)
    try:  # a port in use is the user's --port to change: exit 2 with one line, not "unexpected"
        with pytest.raises(InputError, match=r"cannot listen on 127\.0\.0\.1:\d+ \(--port\)"):
            make_server(cfg, "127.0.0.1", busy.server_address[1])
    finally:
        busy.server_close()


def test_update_links_to_the_earlier_issue_once_it_is_archived(tmp_path: Path):
    cfg = cfg_for(tmp_path)
    write_issue(sample_issue(week="2026-W03"), cfg)
    page = write_issue(sample_issue(), cfg)
    assert "../2026-W03/index.html" in Tags(page.read_text()).hrefs()
    assert (page.parent / "../2026-W03/index.html").resolve().is_file()


def test_the_index_goes_on_from_the_stories_the_title_already_names(tmp_path: Path):
    """The title lists the top stories by name; the index's "Also" line starts after them. An issue
    archived before titles listed names (its lead's headline as title) still gets stories 2 to 4."""
    from digest.pipeline import issue_title

    cfg = cfg_for(tmp_path)
    issue = sample_issue()
    stories = tuple(
        dataclasses.replace(rs, story=dataclasses.replace(rs.story, headline=f"Story number {k}"))
        for k, rs in enumerate(issue.stories, 1)
    )
    new = dataclasses.replace(issue, stories=stories, title=issue_title(issue.week, stories))
    old = dataclasses.replace(new, week="2026-W05", title="digest 2026-W05: Story number 1")
    write_issue(old, cfg)
    write_issue(new, cfg)
    more = int(new.title.rsplit(" and ", 1)[1].split()[0])
    assert 1 < len(stories) - more < len(stories)  # the title names some stories, not all
    named = {i.week: i.named for i in list_issues(cfg)}
    assert named == {"2026-W06": len(stories) - more, "2026-W05": 1}
    also = [ln for ln in (tmp_path / "index.html").read_text().splitlines() if "Also:" in ln]
    assert also[0].startswith(f'<span class="also">Also: Story number {named["2026-W06"] + 1} ·')
    assert also[1].startswith('<span class="also">Also: Story number 2 ·')
