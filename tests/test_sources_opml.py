"""OPML import (pure) and the source registry built from the config."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from sources_helpers import DATA

from digest.cli import main
from digest.config import Config, FeedConfig, RssConfig, SourcesConfig, parse_config
from digest.errors import InputError
from sources import from_config
from sources.opml import read_opml


def test_opml_outlines_at_any_depth_once_each() -> None:
    feeds = read_opml(DATA / "feeds.opml")[0]
    assert feeds == [
        FeedConfig("https://simonwillison.net/atom/everything/", "Simon Willison"),
        FeedConfig("https://huggingface.co/blog/feed.xml", "Hugging Face"),
        FeedConfig("https://hnrss.org/newest?points=100", "HN 100", kind="hn"),
    ]


def test_malformed_opml_is_one_line_naming_the_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"broken\.opml: malformed OPML") as err:
        read_opml(DATA / "broken.opml")[0]
    assert "\n" not in str(err.value)
    html = tmp_path / "page.opml"
    html.write_text("<html><body/></html>")
    with pytest.raises(InputError, match=r"page\.opml: not an OPML document"):
        read_opml(html)[0]
    with pytest.raises(InputError, match=r"missing\.opml: OPML file not found"):
        read_opml(tmp_path / "missing.opml")[0]
    bad_url = tmp_path / "bad.opml"
    bad_url.write_text('<opml><body><outline text="x" xmlUrl="javascript:alert(1)"/></body></opml>')
    with pytest.raises(InputError, match=r"bad\.opml: outline 'x': xmlUrl is not an http\(s\) URL"):
        read_opml(bad_url)[0]


def test_an_opml_2_file_with_a_namespace_is_read(tmp_path: Path) -> None:
    opml = tmp_path / "ns.opml"
    opml.write_text(
        '<?xml version="1.0"?><opml xmlns="http://opml.org/spec2" version="2.0"><head/><body>'
        '<outline text="AI"><outline text="Simon" xmlUrl="https://simonwillison.net/atom/everything/"/>'
        '</outline><outline text="HN" xmlUrl="https://hnrss.org/best"/></body></opml>'
    )
    assert read_opml(opml)[0] == [
        FeedConfig("https://simonwillison.net/atom/everything/", "Simon"),
        FeedConfig("https://hnrss.org/best", "HN", kind="hn"),
    ]


def test_an_unusable_xml_url_is_skipped_with_a_warning_naming_the_file_and_url(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    opml = tmp_path / "subs.opml"
    opml.write_text(
        '<opml version="2.0"><body>'
        '<outline text="no host" xmlUrl="http://"/>'
        '<outline text="space" xmlUrl="http://exa mple.com/feed"/>'
        '<outline text="blank" xmlUrl="   "/>'
        '<outline text="bad port" xmlUrl="https://example.com:http/feed"/>'
        '<outline text="good" xmlUrl="https://example.com/feed.xml"/>'
        '<outline text="folder"/>'
        "</body></opml>"
    )
    feeds, warnings = read_opml(opml)
    assert feeds == [FeedConfig("https://example.com/feed.xml", "good")]
    assert len(warnings) == 4 and all("\n" not in w and w.startswith(f"{opml}: skipped") for w in warnings)
    for url in ("'http://'", "'http://exa mple.com/feed'", "'   '", "'https://example.com:http/feed'"):
        assert any(w.endswith(url) for w in warnings), url
    cfg = tmp_path / "d.toml"
    cfg.write_text('[store]\npath = "d.db"\n')
    assert main(["--config", str(cfg), "feeds", "import", str(opml)]) == 0
    out, err = capsys.readouterr()
    assert out.strip() == f"{opml}: 1 feeds read, 1 added, 0 already known, 4 skipped"
    assert err.splitlines() == [f"digest: warning: {w}" for w in warnings]


def test_registry_makes_one_source_per_feed_and_skips_disabled() -> None:
    names = [s.name for s in from_config(Config())]
    assert names[:2] == ["arxiv", "reddit"]
    assert "rss:OpenAI" in names and "hn:Hacker News" in names
    assert len(names) == 2 + len(RssConfig().feeds)
    cfg = parse_config(
        {
            "sources": {
                "arxiv": {"enabled": False},
                "http": {"min_interval_s": 0.5},
                "rss": {"feeds": ["https://a.example/feed", {"url": "https://hnrss.org/best", "name": "HN"}]},
            }
        }
    )
    sources = from_config(cfg)
    assert [s.name for s in sources] == ["reddit", "rss:https://a.example/feed", "hn:HN"]
    assert cfg.sources.http.min_interval_s == 0.5
    off = dataclasses.replace(Config(), sources=SourcesConfig(rss=RssConfig(enabled=False)))
    assert [s.name for s in from_config(off)] == ["arxiv", "reddit"]
