"""The archive's index page and Atom feed: final issues newest first, stable ids, escaped headlines."""

from __future__ import annotations

import feedparser
from render_fixtures import Tags, sample_issue, summaries

from digest.config import ArchiveConfig, Config, EmailConfig
from digest.deliver import build_message
from digest.render import render_feed, render_index

CFG = Config(archive=ArchiveConfig(base_url="https://news.example.org/digest/"))


def test_feed_is_valid_atom_with_final_issues_newest_first():
    xml = render_feed(summaries(), CFG)
    parsed = feedparser.parse(xml)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert [e.title for e in parsed.entries] == ["Week six", "Week five <b>&</b>"]
    assert parsed.entries[0].link == "https://news.example.org/digest/2026-W06/"
    assert "A &lt;script&gt;x&lt;/script&gt;" in parsed.entries[1].content[0].value
    assert parsed.entries[0].id != parsed.entries[1].id
    assert render_feed(summaries(), CFG) == xml  # stable ids and dates: no churn for readers
    relative = feedparser.parse(render_feed(summaries(), Config()))
    assert relative.bozo == 0 and relative.entries[0].link.endswith("2026-W06/index.html")


def test_two_installs_on_the_default_list_id_do_not_share_feed_or_message_ids():
    """A feed reader subscribed to two people's archives must not merge their issues of one week."""
    ada = Config(email=EmailConfig(from_="Ada <ada@lovelace.example>"))
    bob = Config(email=EmailConfig(from_="bob@babbage.example"))
    ids = [feedparser.parse(render_feed(summaries(), c)).entries[0].id for c in (ada, bob)]
    assert ids[0] != ids[1]
    msg = build_message(sample_issue(), "<p>x</p>", "x", ada, "grace@example.net")
    assert msg["List-Id"].endswith("<digest.lovelace.example>")
    assert msg["Message-ID"].endswith("@digest.lovelace.example>")
    named = Config(email=EmailConfig(from_="bob@babbage.example", list_id="ai.babbage.example"))
    assert build_message(sample_issue(), "<p>x</p>", "x", named, "g@x.org")["List-Id"].endswith(
        "<ai.babbage.example>"
    )


def test_index_lists_issues_newest_first_with_relative_links():
    html = render_index(summaries(), Config())
    hrefs = Tags(html).hrefs()
    assert hrefs[1:] == ["2026-W07/index.html", "2026-W06/index.html", "2026-W05/index.html"]
    assert "in progress" in html
    assert "Week five &lt;b&gt;&amp;&lt;/b&gt;" in html


def test_a_years_feed_holds_the_newest_issues_and_the_index_all_of_them():
    """A weekly cron job for a year: the feed must not grow by every issue forever."""
    from datetime import datetime, timedelta, timezone

    from digest.render import FEED_ENTRIES, IssueSummary

    start = datetime(2026, 1, 5, 7, tzinfo=timezone.utc)
    year = [
        IssueSummary(
            f"2026-W{w:02d}", f"Week {w}", start + timedelta(weeks=w - 2), 10, f"2026-W{w:02d}/index.html"
        )
        for w in range(2, 54 - 1)
    ]
    entries = feedparser.parse(render_feed(year, CFG)).entries
    assert len(year) > FEED_ENTRIES == len(entries)
    assert [e.title for e in entries] == [f"Week {w}" for w in range(52, 52 - FEED_ENTRIES, -1)]
    index = render_index(year, CFG)
    assert all(f"Week {w}<" in index for w in range(2, 53))
