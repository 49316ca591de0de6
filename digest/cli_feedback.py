"""`digest feedback`: like, dislike, mute, forget, list, and import the readers' replies from an mbox."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from digest.config import Config
from digest.errors import InputError


def cmd_feedback(cfg: Config, args: argparse.Namespace, log: Any) -> int:
    from digest.pipeline import open_store

    with open_store(cfg) as store:
        if args.action == "list":
            return _list_feedback(store)
        if args.action == "import":
            return _import_feedback(cfg, store, args.mbox)
        if args.action == "forget":
            return _forget(store, args.target)
        return _judge(store, args.action, args.target)


def _judge(store: Any, kind: str, raw: str) -> int:
    """Store a like, dislike or mute and say what it judged and whether it counts now."""
    from datetime import datetime, timezone

    from digest.feedback import is_item_ref, judged_target, resolve_target, unmatchable_mute
    from digest.profile import Feedback, mute_terms

    target = judged_target(kind, raw)
    if not target:
        raise InputError(f"feedback {kind}: empty target")
    if kind != "mute" and not is_item_ref(target):
        raise InputError(
            f"feedback {kind}: '{_shown(target)}' is neither an item id nor a URL; only mute takes words"
        )
    target = resolve_target(store, target)
    found = store.find_items(target)
    if not found and kind == "mute" and (why := unmatchable_mute(target)):
        raise InputError(f"feedback mute: {why}")
    before = [fb for fb in store.feedback() if fb.target == target]
    store.add_feedback(kind, target)
    after = [fb for fb in store.feedback() if fb.target == target]
    if found:  # say what was judged, so a mistyped id or URL shows at once
        note = f" — {_title(found[0])}"
    elif kind == "mute":  # what the ranking will silence: a URL's site, or a keyword
        _, domain, _ = mute_terms(Feedback(kind="mute", target=target, at=datetime.now(timezone.utc)), {})
        note = f" — everything from {domain}" if domain else " — every item containing it"
    else:
        note = " — not in the store: it counts once an item by that id or URL is collected"
    print(f"{kind}: {_shown(target)}{note}{_standing(kind, before, after)}")
    return 0


def _standing(kind: str, before: Sequence[Any], after: Sequence[Any]) -> str:
    """Whether a judgement counts now: the latest like or dislike on a target wins, so one given again
    after the opposite one overrides it (and says so); given again otherwise, it changes nothing."""

    def of(fbs: Sequence[Any], k: str | None) -> Any:
        return next((fb for fb in fbs if fb.kind == k), None)

    was, now = of(before, kind), of(after, kind)
    other = of(after, {"like": "dislike", "dislike": "like"}.get(kind))
    if other is not None:
        what = f"the {other.kind} of {other.at:%Y-%m-%d}"
        if now.at <= other.at:  # a reply dated ahead of this machine's clock
            return f" ({what} is later and still counts)"
        if was is None:
            return f" (this overrides {what})"
        if was.at <= other.at:
            return f" (again; this now overrides {what})"
    return "" if was is None else " (already stored)"


def _forget(store: Any, raw: str) -> int:
    """Delete every judgement on a target, however it was given (as like, dislike or mute resolve it)."""
    from digest.feedback import KINDS, judged_target, resolve_target

    # as like, dislike or mute store it, and as typed (an older digest stored "id: arxiv:…" as a word)
    targets = ({judged_target(k, raw) for k in KINDS} | {" ".join(raw.split())}) - {""}
    if not targets:
        raise InputError("feedback forget: empty target")
    removed = store.forget_feedback(targets | {resolve_target(store, t) for t in targets})
    if not removed:
        print(f"forget: no judgement stored on {_shown(min(targets, key=len))}; nothing to forget")
    for fb in removed:
        found = store.find_items(fb.target)
        title = f" — {_title(found[0])}" if found else ""
        print(f"forgot: {fb.kind} {_shown(fb.target)} of {fb.at:%Y-%m-%d}{title}")
    return 0


def _list_feedback(store: Any) -> int:
    """Every judgement, oldest first, each with its item's title; a like or dislike that a later opposite
    judgement overrides is marked, since only the latest of the two counts."""
    from digest.feedback import is_item_ref, superseded

    stored = store.feedback()
    over = superseded(stored)
    for fb in sorted(stored, key=lambda f: f.at):
        found = store.find_items(fb.target)
        title = f"  {_title(found[0])}" if found else ""
        later = over.get((fb.kind, fb.target))
        mark = f"  (superseded by the {later.kind} of {later.at:%Y-%m-%d})" if later else ""
        if fb.kind != "mute" and not is_item_ref(fb.target):  # stored by an older digest
            mark = "  (counts for nothing: only mute takes words; `digest feedback forget` removes it)"
        print(f"{fb.at:%Y-%m-%d}  {fb.kind:8} {_shown(fb.target)}{title}{mark}")
    return 0


def _import_feedback(cfg: Config, store: Any, path: str) -> int:
    """Store the judgements of the readers' replies in an mbox (`[email] to` and `from`); others are
    skipped with a warning per sender."""
    from digest.feedback import read_replies, resolve_target

    got = read_replies(path, (*cfg.email.to, cfg.email.from_, *cfg.email.feedback_from))
    new = sum(store.add_feedback(fb.kind, resolve_target(store, fb.target), fb.at) for fb in got.judgements)
    skipped = sum(n for _, n in got.skipped)
    senders = len(got.skipped)
    tail = (
        f"; {skipped} repl{'y' if skipped == 1 else 'ies'} from {senders} other sender"
        f"{'' if senders == 1 else 's'} skipped"
        if skipped
        else ""
    )
    print(f"{path}: {len(got.judgements)} judgements read, {new} new{tail}")
    return 0


def _shown(text: str) -> str:
    """Stored text as the terminal gets it: no control characters (a feed title's ESC or BEL)."""
    from digest.textfmt import strip_controls

    return strip_controls(text)


def _title(item: Any) -> str:
    """A stored item as feedback output names it: its title (or text, or URL), quoted and clipped, without
    control characters (a hostile feed's title must not drive the terminal)."""
    from digest.signals import clip

    return f'"{clip(_shown(item.title or item.text or item.url))}"'
