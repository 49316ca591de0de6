"""Feedback without a server: mailto links in each issue, and reading the replies back from an mbox.

A reader clicks "like" under a story; their mail client opens a reply whose subject says
`digest feedback: like arxiv:2506.11093`. `digest feedback import MBOX` reads those replies from any
mailbox export, so the loop closes with nothing of ours listening on the internet.
"""

from __future__ import annotations

import email.errors
import email.header
import email.utils
import mailbox
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from email.message import Message
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote, urlsplit

from digest.errors import InputError
from digest.errors import warn as default_warn
from digest.profile import Feedback
from digest.textfmt import strip_controls, truncate
from digest.urls import arxiv_ids, canonical_url

if TYPE_CHECKING:
    from digest.store import SQLiteStore

KINDS = ("like", "dislike", "mute")
_KEY = re.compile(r"^(arxiv|reddit|hn|rss|x|youtube|bsky|mastodon|liked|potw)(:\S.*)$", re.I)
_BARE_ARXIV = re.compile(r"^(?:arxiv:\s*)?(\d{4}\.\d{4,5})(?:v\d+)?$", re.I)
_POST_KEY = re.compile(r"https://(?:reddit\.com/comments/([a-z0-9]+)|news\.ycombinator\.com/item\?id=(\d+))")
_SUBJECT = re.compile(r"\bdigest(?:\s+feedback)?\s*:?\s+(like|dislike|mute)\s+(.+?)\s*$", re.I)
_BODY = re.compile(r"\s*(like|dislike|mute)\s+(\S.*?)\s*", re.I)  # one line of a reply's body
_ID_LABEL = re.compile(r"^id:\s*", re.I)  # the plain-text email's "id: arxiv:2504.16074" under each story


def parse_target(s: str) -> str:
    """An item key, URL, arXiv id or keyword → the form the store and the ranking match on.

    arXiv ids lose their version (v1 and v2 are one paper); Reddit and HN URLs become item keys;
    other URLs their canonical form; anything else is a keyword, lower-cased.
    """
    s = " ".join((s or "").split())
    if not s:
        return ""
    m = _BARE_ARXIV.match(s)
    if m:
        return f"arxiv:{m.group(1)}"
    if not s.lower().startswith(("http://", "https://", "www.")):
        k = _KEY.match(s)
        if k:
            return k.group(1).lower() + k.group(2)
        if re.match(r"^[\w.-]+\.[a-z]{2,}/\S*$", s, re.I):  # example.com/post without a scheme
            s = "https://" + s
        else:
            return s.lower()
    ids = arxiv_ids(s)
    if len(ids) == 1 and "arxiv" in s.lower():
        return f"arxiv:{ids.pop()}"
    url = canonical_url(s)
    post = _POST_KEY.fullmatch(url)  # canonical_url spells a thread one way: its id is the item key
    if post:
        return f"{'reddit' if post.group(1) else 'hn'}:{post.group(1) or post.group(2)}"
    return url or s


def judged_target(kind: str, raw: str) -> str:
    """What a judgement is stored under: an item key as given ("rss:Kagi Blog:08f2…" keeps its case and
    spaces), a URL or arXiv id as `parse_target` spells it, and a muted phrase ("vibe coding") as itself.
    The plain-text email's spelling, "id: arxiv:2504.16074", is the id it labels.

    One rule for the command line and for mailed replies, so the email's "Mute this" on a blog post whose
    feed name has a space mutes that feed, whichever way it comes back.
    """
    raw = _ID_LABEL.sub("", " ".join((raw or "").split()))
    if kind == "mute" and " " in raw and not _KEY.match(raw):
        return raw.lower()
    return parse_target(raw)


def is_item_ref(target: str) -> bool:
    """Whether a parsed target names an item (an item key, arXiv id or URL), not a keyword: only those can
    be liked or disliked, since the ranking learns from the item's text."""
    return target.startswith(("http://", "https://")) or bool(_KEY.match(target))


def resolve_target(store: SQLiteStore, target: str) -> str:
    """An item key as stored: "rss:ainews:cecabe3119e5" is "rss:AINews:cecabe3119e5" when that is the only
    stored key spelled so in any case (a feed's name keeps its case in the key, a typed key seldom does).
    Anything else, or a key stored as given, or one matching several, is returned unchanged."""
    if not _KEY.match(target) or store.find_items(target):
        return target
    keys = store.item_keys_nocase(target)
    return keys[0] if len(keys) == 1 else target


def unmatchable_mute(target: str) -> str:
    """Why muting a URL of nothing stored could never silence anything, or "".

    Reddit's own media hosts (v.redd.it, i.redd.it, preview.redd.it) are never an item's URL: the Reddit
    source gives such a post its thread's URL, so "everything from v.redd.it" would be nothing.
    """
    from sources.reddit import MEDIA_HOSTS

    if not target.startswith(("http://", "https://")):
        return ""
    host = urlsplit(target).hostname or ""
    for media in (h for h in MEDIA_HOSTS if h.endswith("redd.it")):
        if host == media or host.endswith("." + media):
            return (
                f"{target}: Reddit shows its {media} media under the post's thread URL, so no item comes "
                "from there; mute the thread's URL or the subreddit ([profile] muted_sources) instead"
            )
    return ""


def superseded(feedback: Sequence[Feedback]) -> dict[tuple[str, str], Feedback]:
    """(kind, target) of each like or dislike that a later opposite judgement on the same target overrides
    → that judgement. The latest like or dislike on a target is the one that counts, as the ranking reads
    them (`profile.build_profile`); mutes stand on their own."""
    latest: dict[str, Feedback] = {}
    for fb in sorted(feedback, key=lambda f: f.at):
        if fb.kind in ("like", "dislike"):
            latest[fb.target] = fb
    return {
        (fb.kind, fb.target): latest[fb.target]
        for fb in feedback
        if fb.kind in ("like", "dislike") and latest[fb.target].kind != fb.kind
    }


def feedback_links(target: str, reply_to: str, week: str) -> dict[str, str]:
    """mailto: links for like, dislike and mute; each opens a reply that `read_mbox` understands."""
    out: dict[str, str] = {}
    for kind in KINDS:
        subject = quote(f"digest feedback: {kind} {target}", safe="")
        body = quote(f"{kind} {target}\nweek: {week}\n", safe="")
        out[kind] = f"mailto:{quote(reply_to, safe='@')}?subject={subject}&body={body}"
    return out


def _decode(data: bytes, charset: str | None) -> str:
    """Bytes in the charset a message declares; an unknown or unusable charset reads as UTF-8 (a reply's
    judgement is ASCII whatever the charset says), undecodable bytes as U+FFFD."""
    try:
        return data.decode(charset or "utf-8", "replace")
    except (LookupError, ValueError):  # "bogus", a non-text codec ("base64"), a codec refusing "replace"
        return data.decode("utf-8", "replace")


def _header(msg: Message, name: str) -> str:
    raw = msg.get(name)
    if raw is None:
        return ""
    try:
        parts = email.header.decode_header(str(raw))
    except email.errors.HeaderParseError:  # a broken encoded word (bad base64): read the header as it is
        parts = [(str(raw), None)]
    text = ""
    for chunk, charset in parts:
        if isinstance(chunk, bytes):
            text += _decode(chunk, charset)
        else:
            text += chunk
    return " ".join(text.split())


class _HTMLLines(HTMLParser):
    """The text of an HTML reply above the quoted mail, a line per block (div, p, br, li: how clients lay
    out lines). The quote starts at a <blockquote> or at an element marked as one (Gmail's "gmail_quote",
    Thunderbird's "moz-cite-prefix", Outlook's "divRplyFwdMsg")."""

    _BLOCKS = frozenset({"br", "div", "p", "li", "tr", "h1", "h2", "h3"})
    _QUOTE = re.compile(r"quote|cite|RplyFwd", re.I)

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.quoted = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        marks = " ".join(v or "" for k, v in attrs if k in ("class", "id"))
        if tag == "blockquote" or self._QUOTE.search(marks):
            self.quoted = True
        if tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.quoted:
            self.parts.append(" ".join(data.split()))


def _body(msg: Message) -> str:
    """The reply's text: its text/plain part, else its HTML part as lines (some clients send only HTML)."""
    html = ""
    for part in msg.walk() if msg.is_multipart() else [msg]:
        kind = part.get_content_type()
        if kind not in ("text/plain", "text/html"):
            continue
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            continue
        try:
            charset = part.get_content_charset()
        except (LookupError, ValueError):  # an RFC 2231 charset parameter that is itself garbled
            charset = None
        text = _decode(payload, charset)
        if kind == "text/plain":
            return text
        html = html or text
    if not html:
        return ""
    parser = _HTMLLines()
    parser.feed(html)
    parser.close()
    # Blank lines are markup here (a closing and an opening div, a trailing <br>), not a pause in the text.
    return "\n".join(line.strip() for line in "".join(parser.parts).splitlines() if line.strip())


def _when(msg: Message) -> datetime:
    raw = msg.get("Date")
    if raw:
        try:
            dt = email.utils.parsedate_to_datetime(str(raw))
        except (TypeError, ValueError):
            dt = None
        if dt is not None:
            return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)
    return datetime.now(timezone.utc)


def _judgement(m: re.Match[str]) -> tuple[str, str] | None:
    """A matched "like|dislike|mute TARGET" as (kind, stored target); None when it judges nothing the
    ranking could use: an empty target, or a like or dislike of a word ("Like GPT-5, it plans …")."""
    kind = m.group(1).lower()
    target = judged_target(kind, m.group(2).strip())
    if not target or (kind != "mute" and not is_item_ref(target)):
        return None
    return kind, target


def _judgements(msg: Message) -> tuple[list[tuple[str, str]], str]:
    """What a reply judges: its subject's judgement (a feedback link's reply), else its body's first lines;
    and a judgement it opens with that judges nothing usable (a like of a word), to be said.

    A body is read from the top while its lines are judgements ("like arxiv:2602.02979", one per line):
    a plain reply to an issue may quote the issue below without "> " marks, and a summary line that
    begins "Like GPT-5, …" must not count as feedback (nor be warned about, unless it opens the reply).
    """
    m = _SUBJECT.search(_header(msg, "Subject"))
    if m is not None:
        return ([j], "") if (j := _judgement(m)) else ([], m.group(0).strip())
    out: list[tuple[str, str]] = []
    for line in _body(msg).lstrip().splitlines():  # a client may drop the subject; the body says the same
        if not (b := _BODY.fullmatch(line)) or not (j := _judgement(b)):
            return out, (line.strip() if b and not out else "")
        out.append(j)
    return out, ""


@dataclass(frozen=True)
class Replies:
    """The judgements of an mbox's replies from the digest's own readers, and what others sent."""

    judgements: tuple[Feedback, ...]  # oldest first
    skipped: tuple[tuple[str, int], ...] = ()  # (sender, replies with a judgement) per sender not a reader


def _read(path: str, warn: Callable[[str], None] | None) -> list[tuple[str, list[Feedback]]]:
    """(the From mailbox, its judgements) for each message of the mbox at `path`, in mbox order."""
    from digest.deliver import mailbox_key

    p = Path(path)
    if not p.is_file():
        raise InputError(f"{path}: no such mbox file")
    out: list[tuple[str, list[Feedback]]] = []
    try:
        box = mailbox.mbox(str(p), create=False)
        try:
            for n, key in enumerate(box.keys(), 1):
                try:
                    # Its bytes, not get_message: that decodes the "From " line as ASCII and fails on 8-bit.
                    msg = email.message_from_bytes(box.get_bytes(key))
                    found, refused = _judgements(msg)
                    got = [Feedback(kind=k, target=t, at=_when(msg)) for k, t in found]
                    if refused:
                        said = truncate(strip_controls(refused), 60)
                        (warn or default_warn)(
                            f"{path}: message {n}: '{said}' judges no item: like and dislike take an id "
                            "or URL, only mute takes words (skipped)"
                        )
                    out.append((mailbox_key(" ".join(str(msg.get("From") or "").split())), got))
                except (LookupError, ValueError, email.errors.MessageError) as e:
                    reason = " ".join(str(e).split()) or type(e).__name__
                    (warn or default_warn)(f"{path}: skipped message {n}: cannot read it ({reason})")
        finally:
            box.close()
    except (OSError, UnicodeError, mailbox.Error) as e:
        raise InputError(f"{path}: cannot read mbox: {e}") from None
    return out


def read_mbox(path: str, warn: Callable[[str], None] | None = None) -> list[Feedback]:
    """Every like/dislike/mute reply in the mbox at `path`, oldest first, whoever sent it; other mail is
    ignored. What the store takes is `read_replies`: the readers' replies only.

    A message that cannot be read is skipped with one warning line naming the mbox and the message's
    number (counting from 1), passed to `warn` (default: stderr); the other messages still count.
    """
    return sorted((fb for _, got in _read(path, warn) for fb in got), key=lambda f: f.at)


def read_replies(path: str, readers: Iterable[str], warn: Callable[[str], None] | None = None) -> Replies:
    """The judgements of the replies in the mbox at `path` whose From is one of `readers` (addresses,
    compared by mailbox as `deliver.mailbox_key` does), oldest first.

    The email's links and the archive's public pages carry the same mailto links, so anyone can send a
    "mute llm": a reply from anyone else is skipped, with one warning line per sender naming it and how
    many of its replies were skipped. (A From line can be forged; this keeps out strangers, not forgers.)
    """
    from digest.deliver import mailbox_key

    allowed = {mailbox_key(r) for r in readers if r.strip()}
    kept: list[Feedback] = []
    skipped: dict[str, int] = {}
    for sender, got in _read(path, warn):
        if sender and sender in allowed:
            kept += got
        elif got:
            skipped[sender] = skipped.get(sender, 0) + 1
    for sender, n in skipped.items():
        who = strip_controls(sender) or "a message without a From address"
        (warn or default_warn)(
            f"{path}: skipped {n} repl{'y' if n == 1 else 'ies'} from {who}: not an address of "
            "[email] to, from or feedback_from (list it in feedback_from to take its replies)"
        )
    kept.sort(key=lambda f: f.at)
    return Replies(judgements=tuple(kept), skipped=tuple(skipped.items()))
