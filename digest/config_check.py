"""Checks of config values that their types allow but the tool cannot use (config.py checks types)."""

from __future__ import annotations

import email.utils
import re
from typing import TYPE_CHECKING, Any

from digest.errors import ConfigError

if TYPE_CHECKING:
    from digest.config import Config

# Numbers a typo could set to something that silently switches a feature off or fails far from the cause
# (page_size = 0 fetched nothing and said "ok"; a negative timeout failed every feed as "every source
# failed"): key path → (least, greatest), inclusive; None = unbounded.
_RANGES: dict[str, tuple[float | None, float | None]] = {
    "sources.http.timeout_s": (0.1, None), "sources.http.retries": (0, 20),
    "sources.http.backoff_s": (0, None), "sources.http.min_interval_s": (0, None),
    "sources.http.max_bytes": (1024, None),
    "sources.arxiv.page_size": (1, 2000), "sources.arxiv.delay_s": (0, None),
    "sources.arxiv.retries": (0, 20), "sources.arxiv.max_results": (1, None),
    "sources.reddit.limit": (1, 1000), "sources.reddit.delay_s": (0, None), "sources.rss.delay_s": (0, None),
    "email.port": (1, 65535), "email.timeout_s": (0.1, None), "email.retries": (0, 20),
    "email.backoff_s": (0, None), "embed.batch_size": (1, None), "embed.shortlist": (1, None),
    "embed.two_stage_min": (0, None), "cluster.min_cluster_size": (2, None),
    "cluster.max_days_apart": (0, None), "cluster.max_refs": (0, None), "cluster.max_group": (2, None),
    "profile.history": (0, None), "profile.title_history": (0, None), "rank.top_n": (1, None),
    "rank.max_per_source": (1, None), "rank.max_per_feed": (1, None), "rank.diversity": (0, 1),
    "render.summary_chars": (40, None), "run.lock_wait_s": (0, None),
}  # fmt: skip
_TIME_FILTERS = ("hour", "day", "week", "month", "year", "all")
_CATEGORY = re.compile(r"^[a-z][a-z-]*(?:\.[A-Za-z][A-Za-z-]*)?$")  # cs.AI, stat.ML, q-bio.NC, hep-th
# What `embed.device` is handed to: a torch device string (sentence-transformers and model2vec pass it on).
# A typo ("gpu9") failed only when the model loaded, as "embedding model missing" (exit 7).
_DEVICE = re.compile(r"^(?:cpu|cuda|mps|xpu|hip|hpu)(?::\d+)?$")


def _address(value: str) -> bool:
    """One mail address, bare or with a display name ("digest <d@example.org>")."""
    addr = email.utils.parseaddr(value)[1]
    return bool(re.fullmatch(r"[^@\s]+@[^@\s]+", addr))


def check_values(cfg: Config, source: str) -> None:
    """Values the types allow but the tool cannot use: one ConfigError naming the file and key."""
    for path, (low, high) in _RANGES.items():
        value: Any = cfg
        for part in path.split("."):
            value = getattr(value, part)
        if (low is not None and value < low) or (high is not None and value > high):
            span = f"from {low:g}" + (f" to {high:g}" if high is not None else "")
            raise ConfigError(f"{source}: {path}: {value!r} is out of range ({span})")
    if cfg.email.security not in ("none", "starttls", "ssl"):
        raise ConfigError(f"{source}: email.security: expected none, starttls or ssl")
    for key in ("to", "feedback_from"):
        for i, value in enumerate(getattr(cfg.email, key)):
            if not _address(value):
                raise ConfigError(f"{source}: email.{key}[{i}]: not an email address: {value!r}")
    for key in ("from_", "reply_to"):
        value = getattr(cfg.email, key)
        if (value or key == "from_") and not _address(value):
            raise ConfigError(f"{source}: email.{key.rstrip('_')}: not an email address: {value!r}")
    if cfg.email.unsubscribe and not cfg.email.unsubscribe.startswith(("mailto:", "https://", "http://")):
        raise ConfigError(f"{source}: email.unsubscribe: expected a mailto: or https: URL")
    if not _DEVICE.match(cfg.embed.device):
        raise ConfigError(
            f"{source}: embed.device: expected cpu, cuda, cuda:N or mps (or xpu, hip, hpu), "
            f"got {cfg.embed.device!r}"
        )
    if not cfg.store.path.strip():
        raise ConfigError(f"{source}: store.path: empty; name the database file (default digest.db)")
    if cfg.render.templates and not cfg.resolve(cfg.render.templates).is_dir():
        where = cfg.resolve(cfg.render.templates)
        raise ConfigError(f"{source}: render.templates: folder not found: {where}")
    arxiv = cfg.sources.arxiv
    if arxiv.enabled and not arxiv.categories:
        raise ConfigError(f"{source}: sources.arxiv.categories: empty; set enabled = false to skip arXiv")
    for i, cat in enumerate(arxiv.categories):
        if not _CATEGORY.match(cat):
            raise ConfigError(f"{source}: sources.arxiv.categories[{i}]: not an arXiv category: {cat!r}")
    if cfg.sources.reddit.time_filter not in _TIME_FILTERS:
        raise ConfigError(f"{source}: sources.reddit.time_filter: expected one of {', '.join(_TIME_FILTERS)}")
    for i, feed in enumerate(cfg.sources.rss.feeds):
        if feed.kind not in ("rss", "hn"):
            raise ConfigError(f"{source}: sources.rss.feeds[{i}].kind: expected rss or hn")
        if not feed.url.startswith(("http://", "https://", "file://")):
            raise ConfigError(f"{source}: sources.rss.feeds[{i}].url: not an http(s) URL: {feed.url}")
    p = cfg.profile
    if not p.interests and not p.liked and not p.liked_file and p.negatives:
        raise ConfigError(
            f"{source}: profile: only negatives given; add profile.interests or profile.liked "
            "so the ranking knows what you want, not only what you do not"
        )
