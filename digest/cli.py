"""Commands: run what `cli_args.py` parsed, call the pipeline, map errors to exit codes.

Exit codes: 0 success · 1 unexpected error · 2 bad config or input · 3 every source failed ·
4 storage (corrupt, locked, full) · 5 delivery failed · 6 another run holds the lock · 7 model missing.
Quiet on success; errors and warnings go to stderr, one line each.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from digest.cli_args import parser, resolve_week
from digest.cli_feedback import cmd_feedback
from digest.config import Config, load_config
from digest.errors import DigestError, InputError, NothingStoredError, say, warn, watch_interrupts
from digest.weeks import current_week


@contextmanager
def _locked(cfg: Config) -> Any:
    from digest.lock import run_lock

    path = (
        cfg.resolve(cfg.run.lock_path) if cfg.run.lock_path else Path(f"{cfg.resolve(cfg.store.path)}.lock")
    )
    with run_lock(path, cfg.run.lock_wait_s):
        yield


def _report_sources(results: Sequence[Any]) -> int:
    failed = [r for r in results if r.errors]
    for r in failed:
        for e in r.errors:
            warn(f"source {r.name} failed: {e}")
    # exit 3 says nothing came in: a source that failed partway (arXiv's third page) still delivered
    nothing = [r for r in failed if not r.fetched]
    return 3 if results and len(nothing) == len(results) else 0


def _collect(cfg: Config, store: Any, week: str | None, log: Any) -> int:
    """Collect with each source's line shown at a terminal as it finishes (arXiv alone can take
    minutes), then one line of totals; under cron only failures are printed."""
    from digest.pipeline import collect

    results = collect(cfg, store, week, lambda msg: log(msg, summary=True))
    failed = sum(1 for r in results if r.errors)
    new = sum(r.new for r in results)
    log(
        f"collected {new:,} new item{'' if new == 1 else 's'} from {len(results)} source"
        + ("" if len(results) == 1 else "s")
        + (f"; {failed} failed" if failed else ""),
        summary=True,
    )
    return _report_sources(results)


def cmd_collect(cfg: Config, args: argparse.Namespace, log: Any) -> int:
    from digest.pipeline import open_store

    with _locked(cfg), open_store(cfg) as store:
        return _collect(cfg, store, args.week, log)


def cmd_export(cfg: Config, args: argparse.Namespace, log: Any) -> int:
    from datetime import datetime, timezone

    from digest.models import item_to_json
    from digest.pipeline import open_store
    from digest.weeks import week_window

    if args.week:
        start, end = week_window(args.week)
    else:
        start, end = datetime(1970, 1, 1, tzinfo=timezone.utc), datetime(9999, 1, 1, tzinfo=timezone.utc)
    with open_store(cfg) as store:
        if args.source and args.source not in (names := store.source_names()):
            raise InputError(
                f"--source: no stored item comes from '{args.source}' (known: {', '.join(names) or 'none'})"
            )
        whole = not args.week and not args.source
        for item in store.each_item() if whole else store.items_between(start, end, args.source):
            sys.stdout.write(item_to_json(item) + "\n")
    return 0


def cmd_build(cfg: Config, args: argparse.Namespace, log: Any) -> int:
    import dataclasses

    from digest.pipeline import build, open_store

    if args.out:
        cfg = dataclasses.replace(
            cfg, archive=dataclasses.replace(cfg.archive, path=str(Path(args.out).resolve()))
        )
    with _locked(cfg), open_store(cfg) as store:
        built = build(cfg, store, args.week, log)
    log(built.summary(), summary=True)
    return 0


def _send(cfg: Config, store: Any, week: str, args: argparse.Namespace, log: Any) -> int:
    from digest.deliver import send_issue
    from digest.pipeline import load_issue

    if not cfg.email.to:
        log("no recipients in [email] to; nothing sent", summary=True)
        return 0
    issue = load_issue(store, week)
    dry = Path(args.out) if getattr(args, "dry_run", False) else None
    report = send_issue(issue, cfg, store, force=getattr(args, "force", False), dry_run_dir=dry)
    log(f"{week}: {report}", summary=True)
    for earlier in store.undelivered_before(week)[-4:]:  # a cron run of `--week last` never retries it
        warn(
            f"{earlier}: its issue reached nobody (all sends failed); `digest send --week {earlier}` sends it"
        )
    return 0


def cmd_send(cfg: Config, args: argparse.Namespace, log: Any) -> int:
    from digest.pipeline import open_store

    with _locked(cfg), open_store(cfg) as store:
        return _send(cfg, store, args.week or current_week(), args, log)


def cmd_run(cfg: Config, args: argparse.Namespace, log: Any) -> int:
    from digest.embed import load_embedder
    from digest.pipeline import build, check_profile, open_store

    week = args.week or current_week()
    load_embedder(cfg.embed, lazy=True)  # a missing model fails now, before an hour of collecting
    with _locked(cfg), open_store(cfg) as store:
        check_profile(cfg, store)  # so does a profile that says nothing the reader wants
        # every source failing is exit 3, but the items already stored still make (and send) the issue
        sources_status = _collect(cfg, store, week, log)
        try:
            built = build(cfg, store, week, log)
        except NothingStoredError:  # an empty issue would only say "outage" to the reader: build none
            if not sources_status:
                raise NothingStoredError(
                    f"no issue for {week}: the sources gave no item of the week"
                ) from None
            say(f"no issue for {week}: every source failed and no item of the week is stored")
            return sources_status
        log(built.summary(), summary=True)
        if args.no_send:
            return sources_status
        return _send(cfg, store, week, args, log) or sources_status


def cmd_cluster(cfg: Config, args: argparse.Namespace, log: Any) -> int:
    from digest.cluster_file import run_cluster_file

    n = run_cluster_file(args.input, args.output, cfg)
    log(f"{n} items clustered → {args.output}", summary=True)
    return 0


def cmd_rank(cfg: Config, args: argparse.Namespace, log: Any) -> int:
    from digest.rank_file import run_rank_file

    if args.top is not None and args.top < 1:
        raise InputError("--top: must be at least 1")
    n = run_rank_file(args.input, args.output, args.likes, args.top, cfg)
    log(f"{n} items ranked → {args.output}", summary=True)
    return 0


def cmd_eval(cfg: Config, args: argparse.Namespace, log: Any) -> int:
    if args.what == "dedup":
        from digest.eval_dedup import evaluate_dedup

        print(evaluate_dedup(args.input, cfg))
    else:
        from digest.eval_rank import evaluate_rank

        print(evaluate_rank(args.pools, cfg))
    return 0


def cmd_feeds(cfg: Config, args: argparse.Namespace, log: Any) -> int:
    from digest.pipeline import effective_config, open_store

    with open_store(cfg) as store:
        if args.action == "import":
            from sources.opml import read_opml

            feeds, skipped = read_opml(args.opml)
            for line in skipped:
                warn(line)
            configured = {f.url.rstrip("/") for f in cfg.sources.rss.feeds}
            fresh = [f for f in feeds if f.url.rstrip("/") not in configured]
            added = store.add_feeds(fresh)
            known = len(feeds) - added
            print(
                f"{args.opml}: {len(feeds)} feeds read, {added} added, {known} already known, "
                f"{len(skipped)} skipped"
            )
            return 0
        for f in effective_config(cfg, store).sources.rss.feeds:
            print(f"{f.label}\t{f.kind}\tweight {f.weight:g}\t{f.url}")
    return 0


def cmd_serve(cfg: Config, args: argparse.Namespace, log: Any) -> int:
    from digest.serve import serve

    serve(cfg, port=args.port)
    return 0


COMMANDS = {
    "collect": cmd_collect,
    "export": cmd_export,
    "build": cmd_build,
    "send": cmd_send,
    "run": cmd_run,
    "cluster": cmd_cluster,
    "rank": cmd_rank,
    "eval": cmd_eval,
    "feedback": cmd_feedback,
    "feeds": cmd_feeds,
    "serve": cmd_serve,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)

    def log(msg: str, *, summary: bool = False) -> None:
        """Stage detail with -v only; a command's one-line summary also on a terminal (never in cron's
        mail: cron gives no terminal, so a quiet run stays quiet)."""
        if args.verbose or (summary and sys.stderr.isatty()):
            print(msg, file=sys.stderr)

    try:
        with watch_interrupts() as interrupted:
            if getattr(args, "week", None) is not None:  # "" is a mistake, not "no week"
                args.week = resolve_week(args.week)
            cfg = load_config(args.config)
            return COMMANDS[args.command](cfg, args, log)
    except (DigestError, KeyboardInterrupt) as e:
        if isinstance(e, DigestError) and not interrupted:
            say(str(e))
            return e.exit_code
        say("interrupted")
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
