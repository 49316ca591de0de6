"""MIME building and SMTP delivery, exactly once per recipient through a send ledger.

Per recipient the ledger goes "sending" → "sent" (or "failed"). Only an accepted DATA marks "sent", so a
refused or dropped send is retried by the next run. A crash between the server accepting and the ledger
write leaves "sending", which the next run resends: the Message-ID is stable (week + recipient + list id),
so a receiving server or client that deduplicates by Message-ID shows it once.
"""

from __future__ import annotations

import hashlib
import re
import smtplib
import ssl
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from pathlib import Path
from typing import Protocol

from digest.config import Config, EmailConfig
from digest.errors import ConfigError, DeliveryError
from digest.models import Issue
from digest.render import render_email, unsubscribe_url
from digest.textfmt import strip_controls


class SendLedger(Protocol):
    """Who got which week; the real one is digest.store.SQLiteStore."""

    def send_status(self, week: str, recipient: str) -> str | None: ...  # None|"sending"|"sent"|"failed"
    def mark_sending(self, week: str, recipient: str, message_id: str) -> None: ...
    def mark_sent(self, week: str, recipient: str, message_id: str) -> None: ...
    def mark_failed(self, week: str, recipient: str, error: str) -> None: ...


@dataclass(frozen=True)
class SendReport:
    week: str
    sent: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()  # already sent (no --force)
    failed: tuple[str, ...] = ()  # "recipient: error"
    eml: tuple[Path, ...] = ()  # --dry-run files

    def __str__(self) -> str:
        if self.eml:
            return f"dry run: {len(self.eml)} message(s) written to {self.eml[0].parent}"
        return f"{len(self.sent)} sent, {len(self.skipped)} already sent, {len(self.failed)} failed"


class SendFailed(DeliveryError):
    """Some recipients were not sent to; carries the report of what did happen."""

    def __init__(self, message: str, report: SendReport) -> None:
        super().__init__(message)
        self.report = report


class _Temporary(Exception):
    """A 4xx reply or a dropped connection: worth retrying."""


class _RecipientLater(_Temporary):
    """A 4xx at RCPT (greylisting, a full mailbox): this recipient later, the others now."""


class _Permanent(Exception):
    """A 5xx reply about this message or recipient: the others may still go."""


class _Fatal(Exception):
    """Login, TLS or configuration trouble: no recipient can go."""


def mailbox_key(recipient: str) -> str:
    """One key per mailbox, however its address is spelled ("Alice <A@x.org>" → "a@x.org")."""
    return parseaddr(recipient)[1].lower() or recipient


def message_id(week: str, recipient: str, list_id: str) -> str:
    digest = hashlib.sha256(f"{week}\n{mailbox_key(recipient)}\n{list_id}".encode()).hexdigest()
    domain = re.sub(r"[^A-Za-z0-9.-]", "", list_id) or "digest.invalid"
    return f"<{week}.{digest[:24]}@{domain}>"


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.replace("—", "-").replace("–", "-"))
    return re.sub(r"[^\x20-\x7e]|[\"<>\\]", "", folded.encode("ascii", "ignore").decode()).strip()


def build_message(
    issue: Issue, html: str, text: str, cfg: Config, recipient: str, *, date: datetime | None = None
) -> EmailMessage:
    """multipart/alternative (text, then HTML), list headers, a Message-ID stable per week and recipient."""
    e = cfg.email
    if "@" not in parseaddr(recipient)[1]:
        raise ConfigError(f"email.to: not an email address: {recipient!r}")
    unsub = unsubscribe_url(cfg)
    msg = EmailMessage(policy=policy.SMTP)
    try:
        msg["Subject"] = " ".join(strip_controls(issue.title).split())
        msg["From"] = e.from_
        msg["To"] = recipient
        if e.reply_to:
            msg["Reply-To"] = e.reply_to
        msg["Date"] = format_datetime(date or datetime.now(timezone.utc))
        msg["Message-ID"] = message_id(issue.week, recipient, e.list_label)
        name = _ascii(cfg.archive.title)
        msg["List-Id"] = f"{name} <{e.list_label}>" if name else f"<{e.list_label}>"
        msg["List-Unsubscribe"] = f"<{unsub}>"
        if unsub.startswith("https://"):
            msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        msg["Auto-Submitted"] = "auto-generated"
    except (ValueError, TypeError) as err:
        raise ConfigError(f"email: bad header value ({err})") from None
    msg.set_content(text, subtype="plain", charset="utf-8")
    msg.add_alternative(html, subtype="html", charset="utf-8")
    return msg


def eml_name(week: str, recipient: str) -> str:
    return f"{week}-{re.sub(r'[^A-Za-z0-9@._+-]', '_', parseaddr(recipient)[1] or recipient)}.eml"


class _Smtp:
    """One lazily opened SMTP connection, reopened after any failure."""

    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg
        self.where = f"{cfg.email.host}:{cfg.email.port}"
        self.conn: smtplib.SMTP | None = None

    def open(self) -> smtplib.SMTP:
        if self.conn is not None:
            return self.conn
        e = self.cfg.email
        helo = parseaddr(e.from_)[1].rpartition("@")[2] or "localhost"
        if e.username and not e.password:
            raise _Fatal(f"{self.where}: ${e.username_env} is set but ${e.password_env} is not")
        phase = "cannot connect"
        try:
            ctx = ssl.create_default_context()
            if e.security == "ssl":
                conn: smtplib.SMTP = smtplib.SMTP_SSL(
                    e.host, e.port, local_hostname=helo, timeout=e.timeout_s, context=ctx
                )
            else:
                conn = smtplib.SMTP(e.host, e.port, local_hostname=helo, timeout=e.timeout_s)
            self.conn = conn
            if e.security == "starttls":
                phase = "STARTTLS failed"
                conn.ehlo()
                conn.starttls(context=ctx)
                conn.ehlo()
            if e.username and e.password:
                phase = "login failed"
                conn.login(e.username, e.password)
        except smtplib.SMTPAuthenticationError as err:
            self.close()
            raise _Fatal(f"{self.where}: login refused: {_reply(err)}") from None
        except smtplib.SMTPNotSupportedError:  # from starttls() or from login()
            self.close()
            raise _Fatal(f"{self.where}: {_not_offered(phase, e)}") from None
        except ssl.SSLError as err:
            self.close()
            raise _Fatal(f"{self.where}: TLS failed: {err.reason or err}") from None
        except smtplib.SMTPResponseException as err:
            self.close()
            kind = _Temporary if 400 <= err.smtp_code < 500 else _Fatal
            raise kind(f"{self.where}: {phase}: {_reply(err)}") from None
        except smtplib.SMTPException as err:
            offered = " ".join(self.conn.esmtp_features.get("auth", "").split()) if self.conn else ""
            self.close()
            if phase == "login failed":  # "No suitable authentication method found": no retry mends that
                raise _Fatal(f"{self.where}: {phase}: {err} (server offers: {offered or 'none'})") from None
            raise _Temporary(f"{self.where}: {phase}: {err}") from None
        except OSError as err:
            self.close()
            raise _Temporary(f"{self.where}: {phase}: {err}") from None
        return conn

    def send(self, msg: EmailMessage, sender: str, rcpt: str) -> None:
        conn = self.open()
        try:
            conn.send_message(msg, from_addr=sender, to_addrs=[rcpt])
        except smtplib.SMTPRecipientsRefused as err:
            self.close()
            code, reply = next(iter(err.recipients.values()))
            line = f"{self.where}: recipient refused: {code} {reply.decode('utf-8', 'replace')}"
            raise (_RecipientLater if 400 <= code < 500 else _Permanent)(line) from None
        except smtplib.SMTPResponseException as err:
            self.close()
            line = f"{self.where}: {_reply(err)}"
            raise (_Temporary if 400 <= err.smtp_code < 500 else _Permanent)(line) from None
        except smtplib.SMTPServerDisconnected:
            self.close()
            raise _Temporary(f"{self.where}: connection closed by the server during the send") from None
        except (OSError, smtplib.SMTPException) as err:
            self.close()
            raise _Temporary(f"{self.where}: {err}") from None

    def close(self) -> None:
        conn, self.conn = self.conn, None
        if conn is None:
            return
        try:
            conn.quit()
        except (OSError, smtplib.SMTPException):
            conn.close()


def _not_offered(phase: str, e: EmailConfig) -> str:
    """What the server lacks when smtplib says "not supported" during `phase` of opening."""
    if phase != "login failed":
        return "server does not offer STARTTLS (email.security)"
    hint = "; many servers offer it only after STARTTLS (email.security)" if e.security == "none" else ""
    return f"server offers no AUTH; the login comes from ${e.username_env} (email.username_env){hint}"


def _reply(err: smtplib.SMTPResponseException) -> str:
    text = (
        err.smtp_error.decode("utf-8", "replace")
        if isinstance(err.smtp_error, bytes)
        else str(err.smtp_error)
    )
    return f"{err.smtp_code} {' '.join(text.split())}"


def _send_one(smtp: _Smtp, msg: EmailMessage, sender: str, rcpt: str, cfg: Config, sleep: Callable) -> None:
    wait = cfg.email.backoff_s
    for attempt in range(cfg.email.retries + 1):
        try:
            smtp.send(msg, sender, rcpt)
            return
        except _Temporary:
            if attempt == cfg.email.retries:
                raise
            sleep(wait)
            wait *= 2


def send_issue(
    issue: Issue,
    cfg: Config,
    ledger: SendLedger,
    *,
    force: bool = False,
    dry_run_dir: Path | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> SendReport:
    """Send the issue to every `email.to` not yet marked sent (all of them with `force`).

    With `dry_run_dir`, writes `<week>-<recipient>.eml` files instead and records nothing. Raises
    SendFailed (a DeliveryError, one line) after trying everyone when any recipient failed.
    """
    # One copy per mailbox: "a@x.org", "A@X.org" and "Alice <a@x.org>" are one recipient, first spelling kept.
    by_box: dict[str, str] = {}
    for r in (r.strip() for r in cfg.email.to if r.strip()):
        by_box.setdefault(mailbox_key(r), r)
    recipients = list(by_box.values())
    box = {r: key for key, r in by_box.items()}  # the send ledger's key for each recipient
    if not recipients:
        raise ConfigError("email.to: no recipients configured")
    html, text = render_email(issue, cfg)
    week = issue.week
    if dry_run_dir is not None:
        paths = []
        for r in recipients:
            path = Path(dry_run_dir) / eml_name(week, r)
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(build_message(issue, html, text, cfg, r).as_bytes())
            except OSError as err:
                raise DeliveryError(f"{path}: cannot write dry-run message: {err.strerror or err}") from None
            paths.append(path)
        return SendReport(week=week, eml=tuple(paths))

    sender = parseaddr(cfg.email.from_)[1]
    sent: list[str] = []
    skipped: list[str] = []
    failed: list[str] = []
    smtp = _Smtp(cfg)
    if not force:  # rows of older versions are keyed by the address as configured
        skipped = [r for r in recipients if "sent" in {ledger.send_status(week, k) for k in (box[r], r)}]
    todo = [r for r in recipients if r not in skipped]
    untried: list[str] = []
    try:
        for n, r in enumerate(todo):
            msg = build_message(issue, html, text, cfg, r)
            mid = str(msg["Message-ID"])
            ledger.mark_sending(week, box[r], mid)
            try:
                _send_one(smtp, msg, sender, parseaddr(r)[1], cfg, sleep)
            except (_Temporary, _Permanent, _Fatal) as err:
                ledger.mark_failed(week, box[r], str(err))
                failed.append(f"{r}: {err}")
                if not isinstance(err, (_Permanent, _RecipientLater)):
                    untried = todo[n + 1 :]  # server unreachable or refusing us: the rest would fail too
                    break
                continue
            ledger.mark_sent(week, box[r], mid)
            sent.append(r)
    finally:
        smtp.close()
    report = SendReport(week=week, sent=tuple(sent), skipped=tuple(skipped), failed=tuple(failed))
    if failed:
        unsent = len(failed) + len(untried)
        later = f"; not tried: {', '.join(untried)}" if untried else ""
        raise SendFailed(
            f"{week}: {unsent} of {len(recipients)} recipient(s) not sent; {failed[0]}{later}", report
        )
    return report
