"""RSS/Atom/hnrss collector against a scripted server on 127.0.0.1, through httpx and feedparser."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from datetime import datetime, timezone

import pytest
from sources_helpers import Reply, StubServer, fixture_bytes, stub_server

from digest.config import FeedConfig, HttpConfig
from sources.base import PACER, PoliteClient
from sources.rss import FeedSource, canonical_link, is_hn, parse_feed

START = datetime(2026, 2, 2, tzinfo=timezone.utc)
END = datetime(2026, 2, 9, tzinfo=timezone.utc)
HTTP = HttpConfig(backoff_s=0.0, min_interval_s=0.0, timeout_s=5.0)
RSS = {"Content-Type": "application/rss+xml"}


@pytest.fixture
def stub() -> Iterator[StubServer]:
    yield from stub_server()


def feed_source(
    server: StubServer, path: str, name: str = "Messy", http: HttpConfig = HTTP, **kw: str
) -> FeedSource:
    return FeedSource(FeedConfig(server.url + path, name, **kw), http, delay_s=0.0)  # type: ignore[arg-type]


def test_messy_feed_encoding_relative_links_html_titles_and_dates(stub: StubServer) -> None:
    stub.routes["/feed.xml"] = [Reply(200, fixture_bytes("feed_messy.xml"), RSS)]
    res = feed_source(stub, "/feed.xml").collect(START, END, {})
    assert res.ok and res.requests == 1 and res.fetched == 6
    titles = {i.title: i for i in res.items}
    assert "Why Vector<T> and the <think> tag matter" in titles  # a plain-text title is not read as HTML
    assert "Old post" not in titles  # dated before the window
    first = titles["Bold claims & café news"]  # HTML stripped, latin-1 bytes in a "utf-8" feed survived
    assert first.url == stub.url + "/posts/one?utm_source=rss"  # resolved against the feed URL
    assert first.published == datetime(2026, 2, 3, 9, tzinfo=timezone.utc)
    assert "https://arxiv.org/abs/2602.00001" in first.links and stub.url + "/about" in first.links
    assert first.text == "See the paper and us. Café au lait."
    assert first.key.startswith("rss:Messy:") and first.source == "rss" and first.feed == "Messy"
    undated = titles["Undated post"]  # no date: kept, dated at fetch time
    assert undated.url == stub.url + "/posts/two"
    assert abs((undated.published - datetime.now(timezone.utc)).total_seconds()) < 60
    # Two entries pointing at one home page are two items (told apart by guid).
    assert titles["Shared link A"].key != titles["Shared link B"].key


def test_keys_follow_the_link_not_a_volatile_guid() -> None:
    feed = FeedConfig("https://messy.example/feed.xml", "Messy")
    body = fixture_bytes("feed_messy.xml")
    before = {i.title: i.key for i in parse_feed(body, feed)}
    moved = body.replace(b"volatile-guid-1", b"wordpress-migrated-99").replace(
        b"utm_source=rss", b"utm_source=x"
    )
    after = {i.title: i.key for i in parse_feed(moved, feed)}
    assert before == after
    assert canonical_link("https://www.A.example/p/?utm_medium=rss#top") == canonical_link(
        "http://a.example/p"
    )
    renamed = {i.title: i.key for i in parse_feed(body, FeedConfig(feed.url, "Other"))}
    assert renamed["Undated post"].startswith("rss:Other:")


def test_atom_entry_with_only_updated_and_xml_base() -> None:
    (item,) = parse_feed(fixture_bytes("feed_atom.xml"), FeedConfig("https://atom.example/feed", "Atom"))
    assert item.title == "Only updated"
    assert item.published == datetime(2026, 2, 6, 10, tzinfo=timezone.utc)
    assert item.url == "https://atom.example/blog/entries/1"
    assert item.authors == ("Ann Author",) and item.categories == ("llm",)
    assert item.links == ("https://github.com/org/repo",)


def test_hnrss_items_keep_points_comments_article_and_thread(stub: StubServer) -> None:
    stub.routes["/hnrss/newest"] = [Reply(200, fixture_bytes("hnrss.xml"), RSS)]
    src = feed_source(stub, "/hnrss/newest", "Hacker News")
    assert src.name == "hn:Hacker News" and is_hn(src.feed)
    res = src.collect(START, END, {})
    by_key = {i.key: i for i in res.items}
    show = by_key["hn:4242"]
    assert show.source == "hn" and show.url == "https://tiny.example/llm?v=1&t=42"  # the href's &amp; decoded
    assert show.links == ("https://news.ycombinator.com/item?id=4242",)
    assert show.metrics["points"] == 321 and show.metrics["comments"] == 87
    ask = by_key["hn:4343"]  # a text post: the thread is the item
    assert ask.url == "https://news.ycombinator.com/item?id=4343" and ask.metrics["points"] == 0
    assert ask.text == "Zero points: unknown or nothing?" and show.text == ""
    assert is_hn(FeedConfig("https://hnrss.org/frontpage")) and not is_hn(FeedConfig("https://a.example/rss"))


def test_conditional_get_304_is_not_modified_not_an_error(stub: StubServer) -> None:
    body = fixture_bytes("feed_atom.xml")
    validators = {"ETag": '"v1"', "Last-Modified": "Fri, 06 Feb 2026 10:00:00 GMT"}
    stub.routes["/atom"] = [Reply(200, body, validators), Reply(304, b"", validators)]
    src = feed_source(stub, "/atom", "Atom")
    first = src.collect(START, END, {})
    assert len(first.items) == 1 and first.state["etag"] == '"v1"'
    again = src.collect(START, END, first.state)
    assert again.ok and again.not_modified and again.items == () and again.requests == 1
    assert again.state == first.state
    sent = stub.hits("/atom")[1].headers
    assert sent["If-None-Match"] == '"v1"' and sent["If-Modified-Since"] == validators["Last-Modified"]


def _two_week_feed() -> bytes:
    entries = "".join(
        f"<item><title>{t}</title><link>https://blog.example/{t}</link><pubDate>{d}</pubDate></item>"
        for t, d in (
            ("week-one", "Wed, 04 Feb 2026 10:00:00 GMT"),
            ("week-two", "Wed, 11 Feb 2026 10:00:00 GMT"),
        )
    )
    return f"<rss version='2.0'><channel><title>B</title>{entries}</channel></rss>".encode()


def test_a_304_never_hides_a_later_week(stub: StubServer) -> None:
    """Collecting one week and then the next: the server answers the second run with a 304, so the
    second week's post must have been stored by the first run. A run for an earlier window than the
    one the validators cover fetches the feed whole instead of trusting them."""
    validators = {"ETag": '"v1"', **RSS}
    stub.routes["/blog"] = [Reply(200, _two_week_feed(), validators), Reply(304, b"", validators)]
    src = feed_source(stub, "/blog", "Blog")
    first = src.collect(START, END, {})
    assert sorted(i.title for i in first.items) == ["week-one", "week-two"]
    week_two = START + (END - START)
    again = src.collect(week_two, week_two + (END - START), first.state)
    assert again.not_modified and stub.hits("/blog")[1].headers["If-None-Match"] == '"v1"'
    stub.routes["/later"] = [Reply(200, _two_week_feed(), validators)] * 2
    late = feed_source(stub, "/later", "Later")
    second_only = late.collect(week_two, week_two + (END - START), {})
    assert [i.title for i in second_only.items] == ["week-two"]  # older than the window: not kept
    backfill = late.collect(START, END, second_only.state)
    assert "If-None-Match" not in stub.hits("/later")[1].headers
    assert "week-one" in {i.title for i in backfill.items}
    assert src.collect(START, END, {"etag": '"v1"'}).ok  # validators without `from`: fetched whole
    assert "If-None-Match" not in stub.hits("/blog")[-1].headers


def test_retries_429_and_500_then_gives_one_line_error(stub: StubServer) -> None:
    body = fixture_bytes("feed_atom.xml")
    stub.routes["/flaky"] = [Reply(429, b"", {"Retry-After": "0"}), Reply(503, b""), Reply(200, body)]
    stub.routes["/down"] = [Reply(500, b"oops")]
    ok = feed_source(stub, "/flaky", "Flaky").collect(START, END, {})
    assert ok.ok and ok.requests == 3 and len(ok.items) == 1
    down = feed_source(stub, "/down", "Down").collect(START, END, {"etag": '"old"'})
    (error,) = down.errors
    assert error.startswith(stub.url + "/down: HTTP 500") and "\n" not in error
    assert down.requests == HTTP.retries + 1 and down.state == {"etag": '"old"'}
    stub.routes["/gone"] = [Reply(404, b"")]
    gone = feed_source(stub, "/gone", "Gone").collect(START, END, {})
    assert gone.requests == 1 and "HTTP 404" in gone.errors[0]  # a 4xx is not retried


def test_retry_after_is_honoured(stub: StubServer) -> None:
    stub.routes["/wait"] = [Reply(429, b"", {"Retry-After": "1"}), Reply(200, fixture_bytes("feed_atom.xml"))]
    t0 = time.monotonic()
    res = feed_source(stub, "/wait", "Wait").collect(START, END, {})
    assert res.ok and time.monotonic() - t0 >= 0.9
    gap = stub.hits("/wait")[1].at - stub.hits("/wait")[0].at
    assert gap >= 0.9


def test_slow_garbage_and_oversized_bodies(stub: StubServer) -> None:
    body = fixture_bytes("feed_atom.xml")
    stub.routes["/slow"] = [Reply(200, body, delay=1.0), Reply(200, body)]
    quick = HttpConfig(backoff_s=0.0, min_interval_s=0.0, timeout_s=0.3, retries=1)
    slow = feed_source(stub, "/slow", "Slow", http=quick).collect(START, END, {})
    assert slow.ok and slow.requests == 2
    stub.routes["/garbage"] = [Reply(200, bytes(range(256)) * 20, RSS)]
    garbage = feed_source(stub, "/garbage", "Garbage").collect(START, END, {})
    assert garbage.items == () and garbage.errors[0].startswith(
        f"{stub.url}/garbage: not a valid RSS/Atom feed"
    )
    assert garbage.requests == 2  # a broken body is fetched a second time before giving up
    stub.routes["/truncated"] = [Reply(200, body[:-60], RSS)]
    truncated = feed_source(stub, "/truncated", "Truncated").collect(START, END, {"etag": '"e"'})
    assert "malformed feed" in truncated.errors[0] and "kept the entries" in truncated.errors[0]
    assert len(truncated.items) == 1 and truncated.state == {"etag": '"e"'}
    stub.routes["/html"] = [Reply(200, b"<html><body>Moved</body></html>", {"Content-Type": "text/html"})]
    page = feed_source(stub, "/html", "Html").collect(START, END, {})
    assert page.errors[0] == stub.url + "/html: not a valid RSS/Atom feed (no feed found)"
    capped = HttpConfig(backoff_s=0.0, min_interval_s=0.0, max_bytes=5_000)
    stub.routes["/huge"] = [Reply(200, b"<!--" + b"x" * 100_000 + b"-->", RSS, chunks=50)]
    huge = feed_source(stub, "/huge", "Huge", http=capped).collect(START, END, {})
    assert "exceeds the 5000 byte cap" in huge.errors[0] and huge.requests == 1
    stub.routes["/huge-cl"] = [Reply(200, b"x" * 100_000, RSS)]
    declared = feed_source(stub, "/huge-cl", "Huge", http=capped).collect(START, END, {})
    assert "response of 100000 bytes exceeds" in declared.errors[0]


def test_user_agent_and_per_host_pacing(stub: StubServer) -> None:
    stub.routes["/a"] = [Reply(200, b"ok")]
    paced = HttpConfig(min_interval_s=0.25)
    with PoliteClient(paced) as client:
        for _ in range(3):
            client.get(stub.url + "/a")
    hits = stub.hits("/a")
    assert all(h.headers["User-Agent"] == paced.user_agent for h in hits)
    assert "digest" in paced.user_agent and "https://" in paced.user_agent
    gaps = [b.at - a.at for a, b in itertools.pairwise(hits)]
    assert min(gaps) >= 0.2 and client.requests == 3
    PACER.wait(stub.url, 0.0)  # interval 0 never sleeps


def test_unreachable_host_is_an_error_not_an_exception() -> None:
    res = FeedSource(FeedConfig("http://127.0.0.1:9/feed", "Nowhere"), HTTP).collect(START, END, {})
    assert not res.ok and res.errors[0].startswith("http://127.0.0.1:9/feed: ")


def test_a_host_that_does_not_resolve_fails_at_once_without_retries() -> None:
    # `.invalid` never resolves (RFC 2606); retrying a missing host name only delays the run.
    sleeps: list[float] = []
    http = HttpConfig(retries=3, backoff_s=5.0, min_interval_s=0.0)
    with PoliteClient(http, sleep=sleeps.append) as client:
        try:
            client.get("http://no-such-host.invalid/feed.xml")
        except Exception as e:
            if "Name or service not known" not in str(e) and "nodename nor servname" not in str(e):
                pytest.skip(f"this resolver answers differently: {e}")
            assert client.requests == 1 and sleeps == []
        else:
            pytest.fail("an unresolvable host answered")
