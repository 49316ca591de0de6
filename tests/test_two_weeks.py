"""Two consecutive weeks of the recorded world 2025-W17..W18, built in order against the replay server.

What only shows across weeks: the ledger rows saved with week 17's issue reach week 18's ranking
(novelty against what was sent), and the Reddit posts that link a paper of the world join its story.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
from conftest import SHARED, shared_path

from digest.cli import main

WEEKS = ("2025-W17", "2025-W18")
SUBREDDITS = [
    "LocalLLaMA",
    "singularity",
    "OpenAI",
    "ChatGPT",
    "StableDiffusion",
    "ClaudeAI",
    "ChatGPTCoding",
]


def _config(url: str) -> str:
    return f"""
[store]
path = "w.db"

[archive]
path = "archive"

[sources.arxiv]
categories = ["cs.AI", "cs.LG", "cs.CL"]
api_url = "{url}/arxiv/api/query"
delay_s = 0.0

[sources.reddit]
subreddits = {json.dumps(SUBREDDITS)}
oauth_url = "{url}"
www_url = "{url}/reddit"
delay_s = 0.0

[sources.rss]
feeds = [{{ url = "{url}/feeds/ainews.xml", name = "AINews" }}]
delay_s = 0.0
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Both weeks run in order (`run --no-send`), as a weekly cron would have done."""
    world = shared_path("data", "world-2025-W17-W18")
    sys.path.insert(0, str(SHARED / "replay"))
    from serve import Replay  # type: ignore[import-not-found]

    work = tmp_path_factory.mktemp("two-weeks")
    with Replay(str(world)) as replay:
        (work / "w.toml").write_text(_config(replay.url))
        for week in WEEKS:
            assert main(["--config", str(work / "w.toml"), "run", "--week", week, "--no-send"]) == 0
        yield work


def _issue(work: Path, week: str) -> dict:
    return json.loads((work / "archive" / week / "issue.json").read_text(encoding="utf-8"))


def _keys(story: dict) -> set[str]:
    return {i["id"] for i in story["story"]["items"]} | {
        i["url"] for i in story["story"]["items"] if i["url"]
    }


def test_week_18_is_measured_against_what_week_17_sent(built: Path) -> None:
    """The ledger rows saved with week 17's issue reach week 18's ranking: every story there has a
    novelty component, and one close to a sent story names it. (This world has no story spanning both
    weeks, so exclusion of repeats and updates is left to test_ledger.py.)"""
    first, second = (_issue(built, w) for w in WEEKS)
    assert len(first["stories"]) == len(second["stories"]) == 10
    assert not any("novelty" in s["components"] for s in first["stories"])  # nothing was sent before
    assert all(s["components"]["novelty"] <= 0 for s in second["stories"])
    sent_titles = {s["story"]["headline"] for s in first["stories"]}
    named = []
    for s in second["stories"]:
        for r in s["reasons"]:
            m = re.fullmatch(r"close to '(.+)', sent 2025-W17 \((0\.\d\d)\)", r)
            if m:
                assert s["components"]["novelty"] < 0
                named.append(m.group(1).removesuffix("…"))
    assert named, "no week-18 story is close to a week-17 one"
    assert all(any(t.startswith(n) for t in sent_titles) for n in named)


def _linked_papers(world: Path) -> dict[str, str]:
    """Reddit post key → the world paper it links, read from the recording itself."""
    papers = {json.loads(x)["id"].split("v")[0] for x in (world / "arxiv" / "papers.jsonl").open()}
    out = {}
    for line in (world / "reddit" / "posts.jsonl").open():
        post = json.loads(line)
        for aid in (
            set(re.findall(r"(?:arxiv|alphaxiv)\.org/(?:abs|pdf)/(\d{4}\.\d{4,5})", json.dumps(post)))
            & papers
        ):
            out[f"reddit:{post['id']}"] = f"arxiv:{aid}"
    return out


def test_reddit_posts_that_link_a_paper_join_its_story(
    built: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    links = _linked_papers(shared_path("data", "world-2025-W17-W18"))
    assert len(links) == 4  # the world's README: 4 posts link 4 papers of the world
    cfg = str(built / "w.toml")
    joined = {}
    for week in WEEKS:
        capsys.readouterr()
        assert main(["--config", cfg, "export", "--week", week]) == 0
        (tmp_path / "items.jsonl").write_text(capsys.readouterr().out)
        out = tmp_path / f"{week}.jsonl"
        assert (
            main(["--config", cfg, "cluster", "--input", str(tmp_path / "items.jsonl"), "--output", str(out)])
            == 0
        )
        joined.update({x["id"]: x["story"] for x in map(json.loads, out.read_text().splitlines())})
    for post, paper in links.items():
        assert post in joined and paper in joined, (post, paper)
        assert joined[post] == joined[paper], (post, paper)


def test_the_newsletters_boilerplate_never_summarises_its_issues(
    built: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The world's newsletter feed opens every issue with "AI News for 4/25/2025-4/26/2025. We checked
    9 subreddits, 449 Twitters…": its own words, not the issue's. Read from the store as `export` gives it."""
    from digest.itemfile import read_items
    from digest.summarize import boilerplate, summarize

    capsys.readouterr()
    assert main(["--config", str(built / "w.toml"), "export", "--week", WEEKS[0]]) == 0
    (built / "w17.jsonl").write_text(capsys.readouterr().out)
    items = read_items(str(built / "w17.jsonl"))
    letters = [i for i in items if i.feed == "AINews"]
    assert len(letters) >= 3
    assert all("We checked" in i.text for i in letters)
    skip = boilerplate(items)
    for letter in letters:
        summary = summarize(letter, skip=skip)
        assert "We checked" not in summary and not summary.startswith("AI News for"), summary
    issue = _issue(built, WEEKS[0])
    assert not any("We checked" in s["summary"] for s in issue["stories"])


def test_each_week_keeps_the_newsletter_issues_it_published(
    built: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Week 17's run fetches the whole feed and week 18's gets a 304 for it: the issues dated in
    week 18 must have been stored by the first run, or week 18 never sees them."""
    import feedparser

    from digest.weeks import week_of

    feed = feedparser.parse((shared_path("data", "world-2025-W17-W18") / "feeds" / "ainews.xml").read_bytes())
    recorded = {w: 0 for w in WEEKS}
    for entry in feed.entries:
        week = week_of(datetime(*entry.published_parsed[:6], tzinfo=timezone.utc))
        if week in recorded:
            recorded[week] += 1
    assert all(recorded.values()), recorded  # the recording has issues in both weeks
    for week in WEEKS:
        capsys.readouterr()
        assert main(["--config", str(built / "w.toml"), "export", "--week", week, "--source", "rss"]) == 0
        stored = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
        assert len(stored) == recorded[week], week
