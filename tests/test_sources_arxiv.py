"""arXiv collector against a scripted Atom server on 127.0.0.1, through the real `arxiv` client."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone

import arxiv
import pytest
from sources_helpers import Reply, Seen, StubServer, fixture_bytes, stub_server

from digest.config import ArxivConfig, HttpConfig
from sources.arxiv import MODERATION_LAG, ArxivSource, build_query, parse_results, version_free_id

START = datetime(2026, 2, 2, tzinfo=timezone.utc)
END = datetime(2026, 2, 9, tzinfo=timezone.utc)
HTTP = HttpConfig(backoff_s=0.0, min_interval_s=0.0, timeout_s=5.0)
PATH = "/api/query"
ATOM = {"Content-Type": "application/atom+xml; charset=utf-8"}


@pytest.fixture
def stub() -> Iterator[StubServer]:
    yield from stub_server()


def source(server: StubServer) -> ArxivSource:
    return ArxivSource(ArxivConfig(api_url=server.url + PATH, delay_s=0.0, page_size=100), HTTP)


def synthetic(total: int, late: list[datetime] | None = None) -> Callable[[Seen], Reply]:
    """A route answering any page of `total` papers submitted during the week, one every 20 minutes,
    newest first; plus a paper submitted at each time in `late` (appended to between runs: announced
    after a moderation hold)."""

    def answer(seen: Seen) -> Reply:
        first, size = int(seen.query.get("start", 0)), int(seen.query.get("max_results", 10))
        papers = [(END - timedelta(minutes=20 * (i + 1)), f"{i:05d}") for i in range(total)]
        papers += [(when, f"9{k:04d}") for k, when in enumerate(late or [])]
        papers.sort(reverse=True)
        entries = []
        for at, num in papers[first : first + size]:
            when = at.strftime("%Y-%m-%dT%H:%M:%SZ")
            entries.append(
                f"<entry><id>http://arxiv.org/abs/2602.{num}v1</id><updated>{when}</updated>"
                f"<published>{when}</published><title>Paper {num}</title><summary>Abstract {num}</summary>"
                f"<author><name>Author {num}</name></author>"
                f'<arxiv:primary_category term="cs.LG"/><category term="cs.LG"/></entry>'
            )
        body = (
            '<?xml version="1.0" encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom" '
            'xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" xmlns:arxiv="http://arxiv.org/schemas/atom">'
            f"<opensearch:totalResults>{len(papers)}</opensearch:totalResults>"
            f"<opensearch:startIndex>{first}</opensearch:startIndex>"
            f"<opensearch:itemsPerPage>{size}</opensearch:itemsPerPage>{''.join(entries)}</feed>"
        )
        return Reply(200, body.encode(), ATOM)

    return answer


def test_query_names_categories_and_inclusive_minute_range() -> None:
    q = build_query(("cs.AI", "cs.LG"), START, END)
    assert q == "(cat:cs.AI OR cat:cs.LG) AND submittedDate:[202602020000 TO 202602082359]"


def test_version_free_ids() -> None:
    assert version_free_id("http://arxiv.org/abs/2506.11093v2") == "2506.11093"
    assert version_free_id("http://arxiv.org/abs/cs/0112017v1") == "cs/0112017"


def test_collect_builds_items_from_atom(stub: StubServer) -> None:
    stub.routes[PATH] = [Reply(200, fixture_bytes("arxiv_week.xml"), ATOM)]
    res = source(stub).collect(START, END, {})
    assert res.ok and res.requests == 1 and res.fetched == 3
    by_key = {i.key: i for i in res.items}
    assert set(by_key) == {"arxiv:2602.00001", "arxiv:2602.00002"}  # the Sunday-before paper is dropped
    moe = by_key["arxiv:2602.00001"]
    assert moe.url == "https://arxiv.org/abs/2602.00001"
    assert moe.title == "Sparse Mixtures of Experts at Scale"
    assert moe.text == "We study sparse experts. Results improve."
    assert moe.authors == ("Ada Lovelace", "Alan Turing")
    assert moe.categories == ("cs.LG", "cs.AI") and moe.feed == "cs.LG"
    assert moe.comment.startswith("Accepted at ICLR 2026")
    assert moe.updated == datetime(2026, 2, 5, 12, tzinfo=timezone.utc)  # v2 sets `updated`
    cross = by_key["arxiv:2602.00002"]
    assert cross.categories == ("cs.CL", "stat.ML") and cross.updated is None
    seen = stub.log[0]
    assert seen.query["sortBy"] == "submittedDate" and seen.query["sortOrder"] == "descending"
    assert "cat:cs.AI OR cat:cs.LG OR cat:cs.CL" in seen.query["search_query"]
    assert "submittedDate:[202602020000 TO 202602082359]" in seen.query["search_query"]
    ua = seen.headers["User-Agent"]
    assert ua.startswith("digest/") and "https://github.com/digest-news/digest" in ua


def test_new_version_replaces_old_one_once() -> None:
    def result(version: int, updated: datetime) -> arxiv.Result:
        return arxiv.Result(
            f"http://arxiv.org/abs/2602.00009v{version}",
            updated=updated,
            published=datetime(2026, 2, 3, tzinfo=timezone.utc),
            title=f"v{version}",
            categories=["cs.AI", "cs.CL"],
            primary_category="cs.AI",
        )

    items = parse_results(
        [result(1, START + timedelta(days=1)), result(2, START + timedelta(days=3))], START, END
    )
    assert [(i.key, i.title) for i in items] == [("arxiv:2602.00009", "v2")]
    assert items[0].updated == START + timedelta(days=3)


def test_empty_weekend_is_not_an_error(stub: StubServer) -> None:
    stub.routes[PATH] = [Reply(200, fixture_bytes("arxiv_empty.xml"), ATOM)]
    res = source(stub).collect(START, END, {})
    assert res.ok and res.items == () and res.requests == 1


def test_pages_past_300_results_and_stops_early_next_time(stub: StubServer) -> None:
    stub.routes[PATH] = synthetic(350)
    src = source(stub)
    first = src.collect(START, END, {})
    assert first.ok and len(first.items) == 350 and len({i.key for i in first.items}) == 350
    assert [s.query["start"] for s in stub.log] == ["0", "100", "200", "300"]
    assert first.requests == 4
    again = src.collect(START, END, first.state)
    # It looks MODERATION_LAG (2 days: 144 papers here) behind the mark, then stops at page 3, the
    # first that holds nothing that recent; what it sees again is what the first run returned.
    assert again.ok and again.requests == 3 and again.state == first.state
    mark = max(i.published for i in first.items)
    assert len(again.items) == 144 and all(i.published > mark - MODERATION_LAG for i in again.items)
    assert {i.key for i in again.items} <= {i.key for i in first.items}
    daily = src.collect(START + timedelta(days=1), END + timedelta(hours=5), first.state)  # a later window
    assert daily.requests == 3 and daily.state["from"] == first.state["from"]
    # The mark belongs to its window: a backfill of the week before pages through everything.
    other = src.collect(START - timedelta(days=7), START, first.state)
    assert other.requests == 4 and other.items == ()  # (the stub ignores dates; none are in that week)


def test_a_paper_announced_after_a_moderation_hold_is_not_lost(stub: StubServer) -> None:
    late: list[datetime] = []
    stub.routes[PATH] = synthetic(150, late)
    src = source(stub)
    first = src.collect(START, END, {})
    mark = max(i.published for i in first.items)
    late.append(mark - timedelta(days=1, minutes=7))  # submitted before the mark, announced after the run
    again = src.collect(START, END, first.state)
    assert "arxiv:2602.90000" in {i.key for i in again.items}
    assert again.state == first.state  # nothing newer than the mark: the mark stays
    late.append(mark - MODERATION_LAG - timedelta(hours=1))  # held longer than the look-back
    assert "arxiv:2602.90001" not in {i.key for i in src.collect(START, END, first.state).items}


def failing_at(page_start: str, route: Callable[[Seen], Reply], reply: Reply) -> Callable[[Seen], Reply]:
    """`route`, except that the page beginning at result `page_start` is answered with `reply`."""
    return lambda seen: reply if seen.query.get("start") == page_start else route(seen)


@pytest.mark.parametrize("earlier", ["none", "older mark"])
def test_a_failure_partway_through_paging_keeps_the_pages_before_it(stub: StubServer, earlier: str) -> None:
    """Pages 0 and 100 arrive, page 200 answers 503 for good: the 200 papers are kept and the error says
    so; the mark stays where it was, so the next run pages down to the papers this one missed."""
    state: dict[str, str] = {}
    if earlier == "older mark":  # an earlier run saw everything up to paper 00200 (older papers come later)
        mark = END - timedelta(minutes=20 * 201)
        state = {"categories": "cs.AI,cs.LG,cs.CL", "from": START.isoformat(), "newest": mark.isoformat()}
    stub.routes[PATH] = failing_at("200", synthetic(350), Reply(503, b"busy"))
    src = ArxivSource(ArxivConfig(api_url=stub.url + PATH, delay_s=0.0, page_size=100, retries=1), HTTP)
    partial = src.collect(START, END, state)
    assert {i.key for i in partial.items} == {f"arxiv:2602.{n:05d}" for n in range(200)}
    assert partial.fetched == 200 and partial.requests == 4  # two pages, then two attempts at the third
    (error,) = partial.errors
    assert error.startswith(f"{stub.url}{PATH} (page from result 200): HTTP 503 (gave up after 2 attempts)")
    assert error.endswith("; kept the 200 results before the error") and "\n" not in error
    assert partial.state == state  # not moved past the missing pages
    stub.routes[PATH] = synthetic(350)
    again = src.collect(START, END, partial.state)
    missing = {f"arxiv:2602.{n:05d}" for n in range(200, 300)}
    assert again.ok and missing <= {i.key for i in again.items}


def test_a_malformed_page_names_the_page_once_then_the_reason(stub: StubServer) -> None:
    """The XML error came after the whole 300-character query URL, and one_line cut it off."""
    pages = synthetic(150)
    cut = pages(Seen("GET", PATH, {"start": "100", "max_results": "100"}, {}, 0.0)).body[:-200]
    stub.routes[PATH] = failing_at("100", pages, Reply(200, cut, ATOM))  # a page cut short mid-entry
    src = ArxivSource(ArxivConfig(api_url=stub.url + PATH, delay_s=0.0, page_size=100, retries=1), HTTP)
    res = src.collect(START, END, {})
    assert len(res.items) == 100
    (error,) = res.errors
    where = f"{stub.url}{PATH} (page from result 100)"
    assert error.startswith(f"{where}: malformed page (no element found: line ")
    assert error.count(stub.url) == 1 and "search_query" not in error
    assert error.index(") after 2 attempts") < 160  # the reason whole within what the footer shows


def test_backs_off_through_429_503_garbage_truncation_and_slowness(stub: StubServer) -> None:
    good = fixture_bytes("arxiv_week.xml")
    stub.routes[PATH] = [
        Reply(429, b"slow down", {"Retry-After": "0"}),
        Reply(503, b"busy"),
        Reply(200, bytes(range(256)) * 8, ATOM),
        Reply(200, good[: len(good) // 2], ATOM),
        Reply(200, good, ATOM, delay=1.0),
        Reply(200, good, ATOM),
    ]
    http = HttpConfig(backoff_s=0.0, timeout_s=0.3)
    src = ArxivSource(ArxivConfig(api_url=stub.url + PATH, delay_s=0.0, page_size=100, retries=5), http)
    res = src.collect(START, END, {})
    assert res.ok, res.errors
    assert len(res.items) == 2 and res.requests == 6


def test_the_arxiv_packages_own_log_lines_never_reach_stderr(stub: StubServer) -> None:
    """With no logging set up (as under cron), the package's "Malformed feed…" and "Skipping entry…"
    warnings went to stderr once per attempt, before our one line. A fresh process, as cron runs it."""
    import subprocess
    import sys

    stub.routes[PATH] = [Reply(200, bytes(range(256)) * 8, ATOM)]
    script = (
        "from datetime import datetime, timezone as tz\n"
        "from digest.config import ArxivConfig, HttpConfig\n"
        "from sources.arxiv import ArxivSource\n"
        f"cfg = ArxivConfig(api_url={stub.url + PATH!r}, delay_s=0.0, retries=1)\n"
        "src = ArxivSource(cfg, HttpConfig(backoff_s=0.0, timeout_s=2.0))\n"
        "res = src.collect(datetime(2026, 2, 2, tzinfo=tz.utc), datetime(2026, 2, 9, tzinfo=tz.utc), {})\n"
        "print(len(res.errors))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "1", done.stderr
    assert done.stderr == ""


def test_failure_is_one_line_naming_the_url(stub: StubServer) -> None:
    stub.routes[PATH] = [Reply(500, b"boom")]
    res = source(stub).collect(START, END, {"newest": "2026-01-01T00:00:00+00:00"})
    assert not res.ok and res.items == ()
    (error,) = res.errors
    assert "\n" not in error and stub.url + PATH in error and "500" in error
    assert error.index("HTTP 500") < 120  # the footer shows 160 characters: not the query
    assert res.requests == ArxivConfig().retries + 1
    assert res.state == {"newest": "2026-01-01T00:00:00+00:00"}  # kept for next time


def test_oversized_response_is_cut_off(stub: StubServer) -> None:
    stub.routes[PATH] = [Reply(200, b"<feed>" + b" " * 50_000 + b"</feed>", ATOM, chunks=10)]
    http = HttpConfig(backoff_s=0.0, max_bytes=10_000)
    res = ArxivSource(ArxivConfig(api_url=stub.url + PATH, delay_s=0.0, retries=1), http).collect(
        START, END, {}
    )
    assert not res.ok and "10000 byte cap" in res.errors[0]
    assert res.requests == 1  # a body over the cap is not retried


def test_pages_are_paced_by_delay_s(stub: StubServer) -> None:
    stub.routes[PATH] = synthetic(150)
    src = ArxivSource(ArxivConfig(api_url=stub.url + PATH, delay_s=0.3, page_size=100), HTTP)
    res = src.collect(START, END, {})
    assert len(res.items) == 150 and res.requests == 2
    assert stub.log[1].at - stub.log[0].at >= 0.3


def test_an_unreachable_api_is_one_short_line_with_its_cause() -> None:
    """requests spells a refused connection as the pool, the whole 300-character query and then the
    cause; the issue's footer shows 160 characters, so the error is the endpoint and the cause."""
    cfg = ArxivConfig(api_url="http://127.0.0.1:9/api/query", delay_s=0.0, retries=0)
    res = ArxivSource(cfg, HttpConfig(backoff_s=0.0, timeout_s=2.0)).collect(START, END, {})
    (error,) = res.errors
    assert error.startswith("http://127.0.0.1:9/api/query: ConnectionError: [Errno ")
    assert "search_query" not in error and len(error) < 160
