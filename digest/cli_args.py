"""The command line's grammar: every command, its options and its help, for `digest.cli` to run."""

from __future__ import annotations

import argparse
from typing import Any

from digest import __version__
from digest.weeks import current_week, parse_week, previous_week


def resolve_week(text: str) -> str:
    """`YYYY-Www`, or `last` / `current` relative to today (what a Monday cron job wants)."""
    word = text.strip().lower()
    if word in ("last", "previous"):
        return previous_week(current_week())
    if word in ("current", "this"):
        return current_week()
    return parse_week(text)


def _port(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise argparse.ArgumentTypeError(f"'{text}' is not a TCP port (1-65535)")
    return int(text)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="digest",
        description="Turn a week of AI news (arXiv, Reddit, feeds) into one short newsletter.",
        epilog="Exit codes: 0 ok, 1 unexpected, 2 bad config/input, 3 all sources failed, 4 storage, "
        "5 delivery, 6 locked by another run, 7 model missing.",
    )
    _common_options(p, None, False)
    p.add_argument("--version", action="version", version=f"digest {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def week_arg(c: argparse.ArgumentParser, what: str) -> None:
        c.add_argument("--week", metavar="YYYY-Www", help=what + "; also 'last' or 'current'")

    c = sub.add_parser("collect", help="run every enabled source once and store new items")
    week_arg(c, "collect that ISO week's window (default: the last 8 days)")
    c = sub.add_parser("export", help="write stored items as item lines (JSONL) to stdout")
    week_arg(c, "only items published in that ISO week (default: all)")
    c.add_argument(
        "--source", metavar="NAME", help="only items of this source (arxiv, reddit, hn, rss or a feed)"
    )
    c = sub.add_parser("build", help="build a week's issue from stored items and archive it (sends nothing)")
    week_arg(c, "the week to build (default: the current ISO week)")
    c.add_argument("--out", metavar="DIR", help="archive folder (default: [archive] path)")
    c = sub.add_parser("send", help="send a built issue by SMTP, once per recipient")
    week_arg(c, "the issue to send (default: the current ISO week)")
    c.add_argument("--dry-run", action="store_true", help="write the .eml files instead of sending")
    c.add_argument("--out", metavar="DIR", default=".", help="where --dry-run writes .eml files (default: .)")
    c.add_argument("--force", action="store_true", help="send again even to recipients already sent to")
    c = sub.add_parser("run", help="collect, build, archive and send: the command cron calls")
    week_arg(c, "the week (default: the current ISO week)")
    c.add_argument("--no-send", action="store_true", help="build and archive but send nothing")
    c = sub.add_parser("cluster", help="deduplicate an item file into stories (no store, no network)")
    c.add_argument("--input", required=True, metavar="items.jsonl")
    c.add_argument("--output", required=True, metavar="stories.jsonl")
    c = sub.add_parser("rank", help="rank an item file against the profile (no store, no network)")
    c.add_argument("--input", required=True, metavar="items.jsonl")
    c.add_argument("--output", required=True, metavar="ranked.jsonl")
    c.add_argument("--likes", metavar="likes.jsonl", help="item lines the reader liked")
    c.add_argument("--top", type=int, metavar="N", help="write only the best N")
    c = sub.add_parser("eval", help="measure dedup or ranking on labelled files")
    ev = c.add_subparsers(dest="what", required=True, metavar="WHAT")
    e = ev.add_parser("dedup", help="pairwise P/R/F1, B-cubed F1 and ARI against the `story` labels")
    e.add_argument("--input", required=True, metavar="labelled.jsonl")
    e = ev.add_parser("rank", help="recall@10, recall@50 and nDCG@10 on weekly pools, ours and two baselines")
    e.add_argument("--pools", required=True, metavar="DIR")
    c = sub.add_parser("feedback", help="teach the ranking: like, dislike or mute; import replies")
    fb = c.add_subparsers(dest="action", required=True, metavar="ACTION")
    for kind, what, target in (
        ("like", "more like this", "item key, URL or arXiv id (also as the email's 'id: KEY')"),
        ("dislike", "less like this", "item key, URL or arXiv id (also as the email's 'id: KEY')"),
        ("mute", "never show this", "item key, URL, arXiv id, or a word or phrase"),
        ("forget", "delete every judgement on this (undo)", "what was judged, as `feedback list` shows it"),
    ):
        f = fb.add_parser(kind, help=what)
        f.add_argument(
            "target", metavar="ITEM-OR-URL" if kind in ("like", "dislike") else "TARGET", help=target
        )
    f = fb.add_parser("import", help="read the readers' feedback replies ([email] to and from) from an mbox")
    f.add_argument("mbox", metavar="MBOX")
    fb.add_parser("list", help="show stored feedback, marking what a later judgement overrides")
    c = sub.add_parser("feeds", help="manage RSS/Atom feeds beyond the config")
    fd = c.add_subparsers(dest="action", required=True, metavar="ACTION")
    f = fd.add_parser("import", help="add the feeds of an OPML file")
    f.add_argument("opml", metavar="FILE.opml")
    fd.add_parser("list", help="list configured and imported feeds")
    c = sub.add_parser("serve", help="preview the archive on 127.0.0.1")
    c.add_argument("--port", type=_port, default=8000, help="TCP port, 1-65535 (default: 8000)")
    _after_command(sub)
    return p


def _common_options(p: argparse.ArgumentParser, config: Any, verbose: Any) -> None:
    p.add_argument(
        "--config",
        metavar="PATH",
        default=config,
        help="TOML config (default ./digest.toml, else built-in defaults)",
    )
    p.add_argument("-v", "--verbose", action="store_true", default=verbose, help="say what each stage did")


def _after_command(sub: Any) -> None:
    """`--config` and `-v` also after the command (`digest run --config x.toml`), at every level.

    Defaults are suppressed there, so an option given before the command is not reset by the
    subcommand's parser."""
    for c in dict.fromkeys(sub.choices.values()):
        _common_options(c, argparse.SUPPRESS, argparse.SUPPRESS)
        for a in c._actions:
            if isinstance(a, argparse._SubParsersAction):
                _after_command(a)
