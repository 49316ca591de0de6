"""Headless Chromium: feed payloads stay inert in the real browser, and the screenshot script works.

Skipped when chromium is not installed (`apt-get install chromium`, or set DIGEST_CHROMIUM).
"""

from __future__ import annotations

import re
import struct
from pathlib import Path

import pytest
from render_fixtures import XSS_MARKER, XSS_TITLE, sample_issue

from digest.archive import write_issue
from digest.config import ArchiveConfig, Config
from digest.render import render_email
from digest.screenshots import dump_dom, find_chromium, take_all

pytestmark = pytest.mark.skipif(
    find_chromium() is None, reason="chromium not installed (apt-get install chromium)"
)


def title_of(dom: str) -> str:
    m = re.search(r"<title>(.*?)</title>", dom, re.S)
    return m.group(1) if m else ""


def executed(dom: str) -> bool:
    return f"<{XSS_MARKER}" in dom or "PWNED" in title_of(dom)


def test_the_payload_check_catches_a_page_that_runs_it(tmp_path: Path):
    # Control: the same payload pasted raw into a page does run, so the checks below can fail.
    page = tmp_path / "unsafe.html"
    page.write_text(
        f"<!DOCTYPE html><html><head><title>safe</title></head><body><h1>{XSS_TITLE}</h1></body></html>"
    )
    assert executed(dump_dom(page))


def test_payloads_in_titles_and_summaries_do_not_run_in_the_email(tmp_path: Path):
    html, _ = render_email(sample_issue(), Config())
    page = tmp_path / "email.html"
    page.write_text(html, encoding="utf-8")
    dom = dump_dom(page)
    assert not executed(dom)
    assert title_of(dom) == sample_issue().title
    assert "Prompt injection via RSS &lt;script&gt;" in dom  # shown as text


def test_payloads_do_not_run_in_the_archive_pages(tmp_path: Path):
    cfg = Config(archive=ArchiveConfig(path=str(tmp_path)))
    page = write_issue(sample_issue(), cfg)
    for path in (page, tmp_path / "index.html"):
        dom = dump_dom(path)
        assert not executed(dom), path
        assert "PWNED" not in title_of(dom)
    assert "Prompt injection via RSS &lt;script&gt;" in dump_dom(page)


def png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", path
    width, height = struct.unpack(">II", head[16:24])
    return width, height


def test_screenshot_script_writes_email_and_archive_pngs(tmp_path: Path):
    pngs = take_all(sample_issue(), Config(), tmp_path)
    sizes = {p.name: png_size(p) for p in pngs}
    assert sizes["email-375.png"][0] == 375 and sizes["email-800.png"][0] == 800
    assert sizes["issue-1024.png"][0] == 1024 and "index-800.png" in sizes
    assert all(p.stat().st_size > 10_000 for p in pngs)  # something was drawn, not a blank page
