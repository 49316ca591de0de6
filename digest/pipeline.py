"""The order of the stages, nothing else: collect → store → embed → cluster → rank → render → deliver.

Each step is idempotent and the store is the hand-off between runs, so any step can be re-run from cron.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from digest.config import Config
from digest.errors import InputError, NothingStoredError
from digest.itemfile import read_items
from digest.models import Issue, Item, RankedStory, SourceResult
from digest.profile import check_wants
from digest.serialize import issue_from_dict, issue_to_dict
from digest.store import SQLiteStore
from digest.textfmt import date_range, short_name
from digest.weeks import current_week, previous_week, week_of, week_window

Log = Callable[[str], None]


def _quiet(_msg: str) -> None:
    pass


def open_store(cfg: Config) -> SQLiteStore:
    return SQLiteStore(cfg.resolve(cfg.store.path))


def effective_config(cfg: Config, store: SQLiteStore) -> Config:
    """The config plus the feeds imported from OPML into the store."""
    imported = [f for f in store.feeds() if f.url not in {x.url for x in cfg.sources.rss.feeds}]
    if not imported:
        return cfg
    rss = dataclasses.replace(cfg.sources.rss, feeds=(*cfg.sources.rss.feeds, *imported))
    return dataclasses.replace(cfg, sources=dataclasses.replace(cfg.sources, rss=rss))


# -- collect -----------------------------------------------------------------------------------------
def collect(
    cfg: Config, store: SQLiteStore, week: str | None = None, log: Log = _quiet
) -> list[SourceResult]:
    """Run every enabled source once; store what is new. One failing source never stops the others."""
    import sources

    if week:
        start, end = week_window(week)
        start -= timedelta(days=LATE_DAYS)  # the week before's late arrivals (see late_items)
    else:
        end = datetime.now(timezone.utc)
        start = end - timedelta(days=8)  # daily runs overlap a little so nothing falls between them
        week = week_of(end)
    results: list[SourceResult] = []
    for source in sources.from_config(effective_config(cfg, store)):
        try:
            result = source.collect(start, end, store.get_state(source.name))
        except Exception as e:  # a bug in one collector must not sink the others
            result = SourceResult(name=source.name, errors=(f"{source.name}: {type(e).__name__}: {e}",))
        new = store.save_source_result(week, result)
        result = dataclasses.replace(result, new=new, items=())
        results.append(result)
        # A failure's detail follows as its own warning line (the CLI prints those, cron or not).
        status = "failed" if result.errors else f"fell back to {result.fallback}" if result.fallback else "ok"
        log(f"{result.name}: fetched {result.fetched}, new {new}, {status}")
    return results


# -- build -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Built:
    issue: Issue
    archive_page: Path
    changed: bool
    mailed: bool = False  # already sent to someone: the stored issue was kept as it was mailed

    def summary(self) -> str:
        """The line a command ends with: `2026-W06: 10 stories → archive/2026-W06/index.html`."""
        sent = " (already sent: kept as mailed)" if self.mailed else ""
        return f"{self.issue.week}: {len(self.issue.stories)} stories → {self.archive_page}{sent}"


def _health(store: SQLiteStore, week: str, items: Sequence[Item]) -> tuple[SourceResult, ...]:
    """Per source: items of this week in the store, and the latest run's errors and fallback.

    Counting what is stored (not what the last run fetched) keeps a re-run's footer identical; for the
    same reason a 304 (`not_modified`) is not carried over: an unchanged feed is not news for the issue.
    """
    out = []
    for run in store.latest_runs(week):
        kind, _, label = run.name.partition(":")
        count = sum(1 for i in items if i.source == kind and (not label or i.feed == label))
        out.append(
            SourceResult(
                name=run.name,
                fetched=count,
                errors=run.errors,
                fallback=run.fallback,
            )
        )
    return tuple(out)


def _liked_items(cfg: Config, store: SQLiteStore, log: Log = _quiet) -> list[Item]:
    """The configured liked examples: `[profile] liked` references found in the store, and the liked file.

    A reference to nothing stored yet is left out (said with -v): embedding its bare URL as a paper
    would make the issue about the words of that URL.
    """
    from digest.feedback import parse_target

    liked: list[Item] = []
    for ref in cfg.profile.liked:
        found = store.find_items(parse_target(ref))
        if not found:
            log(f"profile.liked: {ref} is not stored yet; it counts once an item of that id or URL is stored")
        liked.extend(found)
    if cfg.profile.liked_file:
        liked.extend(read_items(str(cfg.resolve(cfg.profile.liked_file))))
    return liked


def check_profile(cfg: Config, store: SQLiteStore) -> None:
    """An empty or negatives-only profile fails before an hour of collecting, not after it."""
    p = cfg.profile
    kinds = {fb.kind for fb in store.feedback()}
    check_wants(p, bool(p.liked or p.liked_file) or "like" in kinds, bool(kinds - {"like"}))


def rank_week(
    cfg: Config,
    store: SQLiteStore,
    week: str,
    items: Sequence[Item],
    log: Log = _quiet,
    times: dict[str, float] | None = None,
) -> list[RankedStory]:
    """Embed, cluster and rank `items`; returns the selected top stories.

    A week of `embed.two_stage_min` items or more goes through twostage.py (static model first, the
    transformer on what can still make the issue); a smaller one is embedded whole by the transformer.
    Vectors of both models are cached in the store, and the transformer loads only if something is
    missing. `times` (seconds per stage: embed, cluster, rank) is filled for the benchmark.
    """
    from digest.embed import CachedEmbedder, Embedder, load_embedder
    from digest.profile import Profile, build_profile, item_ids, muted, muted_channel
    from digest.rank import select
    from digest.static_embed import load_static_embedder
    from digest.twostage import one_stage, rank_two_stage

    if not items:
        return []
    embedder = CachedEmbedder(load_embedder(cfg.embed, lazy=True), store)
    feedback = store.feedback()
    feedback_items = {}
    for fb in feedback:
        found = store.find_items(fb.target)
        if found:
            feedback_items[fb.target] = found[0]
    mutes = muted(cfg.profile, feedback, feedback_items)
    # A muted item itself stays, so the story it joins is left out whole (its "Mute this" link).
    kept = [i for i in items if not muted_channel(i, mutes) or item_ids(i) & mutes.keys]
    if len(kept) < len(items):
        log(f"{len(items) - len(kept)} items from muted sources, feeds or domains left out")
    items = kept
    if not items:
        return []
    liked = _liked_items(cfg, store, log)
    start, end = week_window(week)
    featured = store.featured_before(week)

    def profile_of(emb: Embedder) -> Profile:
        return build_profile(cfg.profile, emb, liked, feedback, feedback_items, featured=featured)

    two = len(items) >= cfg.embed.two_stage_min and cfg.embed.static_model.strip().lower() != "none"
    static = load_static_embedder(cfg.embed) if two else None
    if static is not None:
        out = rank_two_stage(
            cfg, items, embedder, CachedEmbedder(static, store), profile_of, featured, start, end, times
        )
    else:
        out = one_stage(cfg, items, embedder, profile_of, featured, start, end, times)
    log(
        f"{len(items)} items → {out.stories} stories; transformer vectors for {out.transformer_items} items "
        f"({embedder.encoded} newly encoded)"
    )
    return list(select(out.ranked, cfg.rank, out.vectors, cfg.render.summary_chars))


TITLE_CHARS = 70  # what follows "digest WEEK: " in a subject line; inboxes show about this much


def _short_name(story: RankedStory) -> str:
    headline = story.story.headline or story.story.lead.title or "untitled"
    return short_name(headline, story.story.lead.source == "arxiv")


def issue_title(week: str, stories: Sequence[RankedStory]) -> str:
    """ "digest 2026-W06: Claude Opus 4.6, Qwen3-Coder-Next, CPMobius and 7 more": the top stories by
    name, as many as fit in `TITLE_CHARS` (always one), so the subject line says what is inside."""
    if not stories:
        return f"digest {week}: a quiet week"
    names = [_short_name(s) for s in stories]

    def listing(k: int) -> str:
        more = len(names) - k
        return ", ".join(names[:k]) + (f" and {more} more" if more else "")

    shown = 1
    while shown < len(names) and len(listing(shown + 1)) <= TITLE_CHARS:
        shown += 1
    return f"digest {week}: {listing(shown)}"


LATE_DAYS = 3  # a week's collect also reads this far back: late arrivals of the week before


def late_items(store: SQLiteStore, week: str) -> list[Item]:
    """Items of the week before `week` stored only after that week's issue was built.

    arXiv announces papers submitted Friday to Sunday on Monday evening, after a Monday-morning run has
    sent the week's issue; dated by submission they belong to a week that is already out. They join the
    next issue instead of no issue at all.
    """
    prev = previous_week(week)
    issue = store.get_issue(prev)
    if issue is None:  # that week never had an issue: nothing of it was passed over
        return []
    start, end = week_window(prev)
    return store.items_between(start, end, stored_after=datetime.fromisoformat(issue["built_at"]))


def build(cfg: Config, store: SQLiteStore, week: str | None = None, log: Log = _quiet) -> Built:
    """Build `week`'s issue from stored items, archive it and record it; sends nothing."""
    from digest.archive import write_issue
    from digest.ledger import featured_records

    week = week or current_week()
    previous = store.get_issue(week)
    if previous is not None and any(status in ("sent", "sending") for _, status in store.sends(week)):
        # What a reader received is the issue: new items, feedback or a new config after the send must
        # not rewrite its archive page, its feed entry or the ledger of what was sent (a later
        # recipient, or `send --force`, gets the same issue).
        issue = issue_from_dict(previous)
        log(f"{week}: already sent; the issue stays as it was mailed")
        return Built(issue=issue, archive_page=write_issue(issue, cfg), changed=False, mailed=True)
    start, end = week_window(week)
    items = store.items_between(start, end) + late_items(store, week)
    if not items:  # an outage or a week never collected, not a quiet week: publish nothing
        raise NothingStoredError(
            f"--week: no items stored for {week} ({date_range(start, end)}); "
            f"run `digest collect --week {week}` first"
        )
    top = rank_week(cfg, store, week, items, log)
    # A changed issue is a new build (its Atom entry's <updated> moves, and late_items counts from it);
    # an unchanged one keeps its time and re-renders byte for byte.
    built_at = datetime.now(timezone.utc)
    issue = Issue(
        week=week,
        title=issue_title(week, top),
        stories=tuple(top),
        health=_health(store, week, items),
        built_at=built_at,
        start=start,
        end=end,
        item_count=len(items),
        story_count=len({s.story.id for s in top}),
    )
    payload = issue_to_dict(issue)
    changed = previous is None or {**previous, "built_at": ""} != {**payload, "built_at": ""}
    if previous is not None and not changed:
        issue = issue_from_dict(previous)  # byte-identical re-render
    page = write_issue(issue, cfg)
    if changed:
        store.save_issue(week, built_at, payload, featured_records(week, top))  # one transaction
    return Built(issue=issue, archive_page=page, changed=changed)


def load_issue(store: SQLiteStore, week: str) -> Issue:
    payload = store.get_issue(week)
    if payload is None:
        raise InputError(f"--week: no issue built for {week}; run `digest build --week {week}` first")
    return issue_from_dict(payload)
