"""Config: the key-name contract, validation errors that name the key path, secrets from the environment."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from digest.cli import main
from digest.config import Config, load_config, parse_config
from digest.errors import ConfigError


def test_defaults_serve_a_real_user() -> None:
    cfg = Config()
    assert cfg.sources.arxiv.categories == ("cs.AI", "cs.LG", "cs.CL")
    assert set(cfg.sources.reddit.subreddits) == {"MachineLearning", "LocalLLaMA"}
    kinds = {f.kind for f in cfg.sources.rss.feeds}
    assert kinds == {"rss", "hn"} and len(cfg.sources.rss.feeds) >= 4
    assert cfg.store.path == "digest.db" and cfg.archive.path == "archive"
    assert cfg.embed.model == "bundled" and cfg.profile.interests


def test_contract_keys_parse(tmp_path: Path) -> None:
    (tmp_path / "d.toml").write_text(
        """
[store]
path = "x.db"
[archive]
path = "site"
[sources.arxiv]
categories = ["cs.CV"]
api_url = "http://127.0.0.1:1/arxiv/api/query"
[sources.reddit]
subreddits = ["LocalLLaMA"]
oauth_url = "http://127.0.0.1:1"
www_url = "http://127.0.0.1:1/reddit"
[sources.rss]
feeds = ["http://127.0.0.1:1/a.xml", {url = "http://127.0.0.1:1/b.xml", name = "B", weight = 2}]
[email]
host = "127.0.0.1"
port = 2525
from = "me@example.org"
to = ["you@example.org"]
[profile]
interests = ["agents", {text = "inference", weight = 2}]
"""
    )
    cfg = load_config(tmp_path / "d.toml")
    assert cfg.resolve(cfg.store.path) == tmp_path / "x.db"
    assert cfg.sources.arxiv.categories == ("cs.CV",)
    assert [f.label for f in cfg.sources.rss.feeds] == ["http://127.0.0.1:1/a.xml", "B"]
    assert cfg.sources.rss.feeds[1].weight == 2.0
    assert cfg.email.from_ == "me@example.org" and cfg.email.port == 2525
    assert [(i.text, i.weight) for i in cfg.profile.interests] == [("agents", 1.0), ("inference", 2.0)]


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ('[sources.arxiv]\ncategries = ["cs.AI"]', "sources.arxiv.categries: unknown key"),
        ('[email]\nport = "25"', "email.port: expected an integer"),
        ('[sources.arxiv]\ncategories = "cs.AI"', "sources.arxiv.categories: expected a list"),
        ('[sources.rss]\nfeeds = [{name = "x"}]', "sources.rss.feeds[0]: missing key 'url'"),
        ('[sources.rss]\nfeeds = ["ftp://x"]', "sources.rss.feeds[0].url: not an http(s) URL"),
        ("[bogus]\nx = 1", "bogus: unknown key"),
        ('[email]\nsecurity = "tls13"', "email.security"),
        # Values their types allow but that silently switched a feature off or failed far from the cause.
        ("[sources.arxiv]\npage_size = 0", "sources.arxiv.page_size: 0 is out of range (from 1 to 2000)"),
        ("[sources.arxiv]\ncategories = []", "sources.arxiv.categories: empty; set enabled = false"),
        ('[sources.arxiv]\ncategories = ["cs.AI) OR (all:x"]', "categories[0]: not an arXiv category"),
        ("[sources.http]\ntimeout_s = -1.0", "sources.http.timeout_s: -1.0 is out of range"),
        ("[sources.http]\nretries = -1", "sources.http.retries: -1 is out of range"),
        ('[sources.reddit]\ntime_filter = "decade"', "sources.reddit.time_filter: expected one of hour"),
        ("[sources.reddit]\nlimit = -5", "sources.reddit.limit: -5 is out of range"),
        ("[email]\nport = 99999", "email.port: 99999 is out of range (from 1 to 65535)"),
        ('[email]\nto = ["reader@example.org", "not an email"]', "email.to[1]: not an email address"),
        ('[email]\nreply_to = "bad reply"', "email.reply_to: not an email address"),
        ('[email]\nunsubscribe = "javascript:alert(1)"', "email.unsubscribe: expected a mailto: or https:"),
        ("[rank]\ndiversity = -5", "rank.diversity: -5.0 is out of range (from 0 to 1)"),
        ("[rank]\nmax_per_feed = -3", "rank.max_per_feed: -3 is out of range"),
        ("[render]\nsummary_chars = -1", "render.summary_chars: -1 is out of range"),
        ("[embed]\nbatch_size = 0", "embed.batch_size: 0 is out of range"),
        ("[cluster]\nmin_cluster_size = 0", "cluster.min_cluster_size: 0 is out of range"),
        ('[render]\ntemplates = "no-such-folder"', "render.templates: folder not found: "),
        ('[embed]\ndevice = "gpu9"', "embed.device: expected cpu, cuda, cuda:N or mps"),
        ('[embed]\ndevice = "cuda:x"', "embed.device: expected cpu, cuda, cuda:N or mps"),
        ('[store]\npath = ""', "store.path: empty"),
        ('[store]\npath = "  "', "store.path: empty"),
    ],
)
def test_bad_values_name_the_key_path(toml: str, expected: str) -> None:
    with pytest.raises(ConfigError) as e:
        parse_config(tomllib.loads(toml), "my.toml")
    assert str(e.value).startswith("my.toml: ") and expected in str(e.value)
    assert "\n" not in str(e.value)


def test_only_negatives_is_an_error_that_says_what_is_missing() -> None:
    with pytest.raises(ConfigError, match=r"add profile\.interests or profile\.liked"):
        parse_config(tomllib.loads('[profile]\ninterests = []\nnegatives = ["crypto"]'), "p.toml")


def test_typo_in_config_is_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "typo.toml"
    cfg.write_text("[sources.reddit]\nsubreddit = ['x']\n")
    assert main(["--config", str(cfg), "export"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and str(cfg) in err and "sources.reddit.subreddit" in err


def test_broken_toml_and_missing_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[store\npath=1")
    with pytest.raises(ConfigError, match=r"bad\.toml: invalid TOML"):
        load_config(bad)
    with pytest.raises(ConfigError, match=r"nope\.toml: config file not found"):
        load_config(tmp_path / "nope.toml")


def test_secrets_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = parse_config(tomllib.loads('[email]\nusername_env = "MY_USER"'), "x")
    monkeypatch.setenv("MY_USER", "alice")
    monkeypatch.delenv("DIGEST_SMTP_PASSWORD", raising=False)
    assert cfg.email.username == "alice" and cfg.email.password is None
    with pytest.raises(ConfigError, match=r"email\.password: unknown key"):
        parse_config(tomllib.loads('[email]\npassword = "hunter2"'), "x")


@pytest.mark.parametrize("device", ["cpu", "cuda", "cuda:1", "mps", "cpu:0"])
def test_torch_device_strings_are_accepted(device: str) -> None:
    assert parse_config(tomllib.loads(f'[embed]\ndevice = "{device}"'), "x").embed.device == device


@pytest.mark.parametrize("toml", ['[embed]\ndevice = "gpu9"', '[store]\npath = ""'])
def test_an_unusable_device_or_store_path_is_refused_before_anything_runs(
    toml: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Not exit 7 ("embedding model missing") when the model loads, nor exit 4 with a stray `..lock`."""
    cfg = tmp_path / "d.toml"
    cfg.write_text(toml + '\n[archive]\npath = "site"\n')
    assert main(["--config", str(cfg), "build", "--week", "2026-W06"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and (("embed.device" in err) if "device" in toml else ("store.path" in err))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.toml"]
