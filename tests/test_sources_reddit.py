"""Reddit collector: praw (OAuth) and the public-RSS fallback, against a scripted server on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import praw.config
import pytest
from sources_helpers import Reply, StubServer, fixture_bytes, stub_server

from digest.config import HttpConfig, RedditConfig
from digest.models import SourceResult
from sources.reddit import FALLBACK, RedditSource, parse_submission, time_filter_for

START = datetime(2026, 2, 2, tzinfo=timezone.utc)
END = datetime(2026, 2, 9, tzinfo=timezone.utc)
NOW = datetime(2026, 2, 9, 12, tzinfo=timezone.utc)
HTTP = HttpConfig(backoff_s=0.0, min_interval_s=0.0, timeout_s=5.0)
SUBS = ("MachineLearning", "LocalLLaMA")
TOKEN = {"access_token": "tok", "token_type": "bearer", "expires_in": 3600, "scope": "*"}
JSON = {"Content-Type": "application/json; charset=UTF-8"}
ATOM = {"Content-Type": "application/atom+xml; charset=UTF-8"}


@pytest.fixture
def stub() -> Iterator[StubServer]:
    listing = json.loads(fixture_bytes("reddit_listing.json"))
    for server in stub_server():
        for sub in SUBS:
            server.routes[f"/r/{sub}/top/.rss"] = [Reply(200, fixture_bytes(f"reddit_{sub}.xml"), ATOM)]
            server.routes[f"/r/{sub}/top"] = [Reply(200, json.dumps(listing[sub]).encode(), JSON)]
        server.routes["/api/v1/access_token"] = [Reply(200, json.dumps(TOKEN).encode(), JSON)]
        yield server


@pytest.fixture
def no_praw_ini(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    for key in ("praw_client_id", "praw_client_secret", "praw_username", "praw_password"):
        monkeypatch.delenv(key, raising=False)


@pytest.fixture
def creds(no_praw_ini: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("praw_client_id", "id")
    monkeypatch.setenv("praw_client_secret", "secret")


def reddit(server: StubServer, subs: tuple[str, ...] = SUBS) -> RedditSource:
    cfg = RedditConfig(subreddits=subs, oauth_url=server.url, www_url=server.url, delay_s=0.0)
    return RedditSource(cfg, HTTP, now=lambda: NOW)


def test_time_filter_widens_to_reach_the_window_start() -> None:
    assert time_filter_for("week", START, START + timedelta(days=6)) == "week"
    assert time_filter_for("week", START, NOW) == "month"  # Monday noon after the week: 7.5 days back
    assert time_filter_for("day", START, START + timedelta(hours=3)) == "day"
    assert time_filter_for("week", START, START + timedelta(days=400)) == "all"


def test_public_rss_without_credentials(stub: StubServer, no_praw_ini: None) -> None:
    res = reddit(stub).collect(START, END, {})
    assert res.ok and res.fallback == FALLBACK and res.requests == 2
    by_key = {i.key: i for i in res.items}
    assert set(by_key) == {"reddit:aaa111", "reddit:bbb222", "reddit:eee555"}  # old post dropped
    paper = by_key["reddit:aaa111"]  # the r/LocalLLaMA crosspost collapsed into its original
    assert paper.categories == ("MachineLearning", "LocalLLaMA")
    assert paper.title == "[R] Sparse experts & you" and paper.authors == ("alice",)
    assert paper.metrics == {}  # RSS has no scores: unknown, not zero
    assert "https://arxiv.org/abs/2602.00001" in paper.links
    assert "https://arxiv.org/abs/2602.00002" in paper.links
    assert paper.text.startswith("New paper arXiv:2602.00001") and "Second paragraph." in paper.text
    assert paper.url == "https://www.reddit.com/r/MachineLearning/comments/aaa111/r_sparse_experts_you/"
    repo = by_key["reddit:bbb222"]
    assert repo.url == "https://github.com/org/open-model?tab=readme&lang=en"  # the href's &amp; decoded
    assert repo.links[-1] == "https://www.reddit.com/r/LocalLLaMA/comments/bbb222/new_open_model_repo/"
    assert by_key["reddit:eee555"].url.startswith("https://www.reddit.com/r/LocalLLaMA/comments/eee555/")
    for hit in stub.log:
        assert hit.query == {"t": "month", "limit": "100"}
        assert hit.headers["User-Agent"] == HTTP.user_agent


def test_oauth_listing_with_scores_and_crossposts(stub: StubServer, creds: None) -> None:
    res = reddit(stub).collect(START, END, {})
    assert res.ok and res.fallback == "" and res.fetched == 5
    by_key = {i.key: i for i in res.items}
    assert set(by_key) == {"reddit:aaa111", "reddit:bbb222", "reddit:eee555"}
    paper = by_key["reddit:aaa111"]
    assert paper.metrics == {"score": 250, "upvote_ratio": 0.97, "comments": 40}  # the original wins
    assert paper.categories == ("MachineLearning", "Research", "LocalLLaMA")
    assert by_key["reddit:bbb222"].url == "https://github.com/org/open-model"
    token, *listings = stub.log
    assert token.path == "/api/v1/access_token" and token.headers["Authorization"].startswith("Basic ")
    assert [h.path for h in listings] == ["/r/MachineLearning/top", "/r/LocalLLaMA/top"]
    assert all(h.headers["Authorization"] == "bearer tok" for h in listings)
    assert all(h.query["t"] == "month" for h in listings)
    assert "digest" in listings[0].headers["User-Agent"] and res.requests == 3


def test_oauth_429_is_retried_and_a_missing_subreddit_is_one_error(stub: StubServer, creds: None) -> None:
    ok = Reply(
        200, json.dumps(json.loads(fixture_bytes("reddit_listing.json"))["MachineLearning"]).encode(), JSON
    )
    stub.routes["/r/MachineLearning/top"] = [Reply(429, b'{"error": 429}', {"Retry-After": "0", **JSON}), ok]
    res = reddit(stub, ("MachineLearning", "NoSuchSub")).collect(START, END, {})
    assert {i.key for i in res.items} == {"reddit:aaa111"}
    (error,) = res.errors
    assert error.startswith(f"{stub.url}/r/NoSuchSub/top?t=month: HTTP 404") and "\n" not in error


def test_rejected_credentials_fall_back_to_rss_and_say_so(stub: StubServer, creds: None) -> None:
    stub.routes["/api/v1/access_token"] = [Reply(401, b'{"error": 401}', JSON)]
    res = reddit(stub).collect(START, END, {})
    assert res.fallback == "public RSS (Reddit OAuth failed)"
    assert len(res.items) == 3
    (error,) = res.errors  # the endpoint that refused, not the first subreddit's listing
    assert error.startswith(f"{stub.url}/api/v1/access_token: Reddit OAuth failed (")
    assert error.endswith("; check the credentials")


def oauth_failure(server: StubServer, http: HttpConfig) -> tuple[SourceResult, str, list[str]]:
    """Collect with credentials; the one error, and the paths asked for in order."""
    cfg = RedditConfig(subreddits=SUBS, oauth_url=server.url, www_url=server.url, delay_s=0.0)
    res = RedditSource(cfg, http, now=lambda: NOW).collect(START, END, {})
    assert res.fallback == "public RSS (Reddit OAuth failed)" and len(res.items) == 3
    (error,) = res.errors
    assert "\n" not in error
    return res, error, [h.path for h in server.log]


def test_a_token_endpoint_answering_503_is_named_once_then_rss(stub: StubServer, creds: None) -> None:
    """The token cannot be had: one error naming the token URL (it named each subreddit's listing, once
    per subreddit), after the usual retries, then the public RSS as when the credentials are refused."""
    stub.routes["/api/v1/access_token"] = [Reply(503, b'{"error": 503}', JSON)]
    res, error, paths = oauth_failure(stub, HTTP)
    token = f"{stub.url}/api/v1/access_token"
    assert error == f"{token}: Reddit OAuth failed: HTTP 503 (gave up after 4 attempts)"
    tries = HTTP.retries + 1
    assert paths == ["/api/v1/access_token"] * tries + [f"/r/{s}/top/.rss" for s in SUBS]
    assert res.requests == tries + len(SUBS)


def test_a_token_endpoint_that_times_out_is_named_once_then_rss(stub: StubServer, creds: None) -> None:
    stub.routes["/api/v1/access_token"] = [Reply(200, json.dumps(TOKEN).encode(), JSON, delay=1.0)]
    http = HttpConfig(backoff_s=0.0, min_interval_s=0.0, timeout_s=0.2, retries=0)  # prawcore retries too
    _, error, paths = oauth_failure(stub, http)
    assert error.startswith(f"{stub.url}/api/v1/access_token: Reddit OAuth failed: ReadTimeout: ")
    assert set(paths) == {"/api/v1/access_token", *(f"/r/{s}/top/.rss" for s in SUBS)}  # no listing


def test_rss_failure_is_an_error_line_not_an_exception(stub: StubServer, no_praw_ini: None) -> None:
    stub.routes["/r/LocalLLaMA/top/.rss"] = [Reply(200, b"<html>not a feed", {"Content-Type": "text/html"})]
    res = reddit(stub).collect(START, END, {})
    assert {i.key for i in res.items} == {"reddit:aaa111"}
    assert res.errors[0].startswith(f"{stub.url}/r/LocalLLaMA/top/.rss: ")


def test_parse_submission_media_and_crosspost_by_link() -> None:
    base = {"id": "x1", "title": "t", "created_utc": START.timestamp() + 60, "subreddit": "s", "author": "a"}
    media = parse_submission({**base, "permalink": "/r/s/comments/x1/t/", "url": "https://v.redd.it/q"})
    assert media.url == "https://www.reddit.com/r/s/comments/x1/t/" and media.links == ()
    xpost = parse_submission({**base, "permalink": "/r/s/comments/x1/t/", "url": "/r/o/comments/orig9/t/"})
    assert xpost.key == "reddit:orig9"
    zero = parse_submission({**base, "permalink": "/r/s/comments/x1/t/", "is_self": True, "score": 0})
    assert zero.metrics == {"score": 0} and zero.key == "reddit:x1"


def test_a_broken_praw_ini_is_an_error_line(
    stub: StubServer, creds: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "praw.ini").write_text("[DEFAULT]\ntimeout = soon\n")  # the cwd is tmp_path
    monkeypatch.setattr(praw.config.Config, "CONFIG", None)  # praw reads its ini files once per process
    monkeypatch.setenv("PRAW_ALLOW_ENDPOINT_OVERRIDE", "1")
    res = reddit(stub).collect(START, END, {})
    assert res.items == () and res.errors[0].startswith(f"{stub.url}: reddit collector failed: ValueError")
