"""Delivery against a real SMTP server (aiosmtpd on 127.0.0.1) and the real SQLite send ledger."""

from __future__ import annotations

import dataclasses
import email
import shutil
import ssl
import subprocess
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from conftest import free_port
from render_fixtures import sample_issue

from digest.config import Config, EmailConfig
from digest.deliver import SendFailed, build_message, mailbox_key, message_id, send_issue
from digest.errors import ConfigError, DeliveryError
from digest.render import GMAIL_CLIP_BYTES, render_email
from digest.store import SQLiteStore

RECIPIENTS = ("ada@example.org", "Grace Hopper <grace@example.net>")


WEEK = "2026-W06"


class Handler:
    """Records accepted messages; `mode` makes DATA answer 451/554, or drop the connection."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.attempts = 0
        self.mode = "ok"
        self.refuse_rcpt: set[str] = set()
        self.greylist: set[str] = set()

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address in self.refuse_rcpt:
            return "550 5.1.1 no such user"
        if address in self.greylist:
            return "451 4.7.1 greylisted, try later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.attempts += 1
        if self.mode == "451":
            return "451 4.3.0 try again later"
        if self.mode == "554":
            return "554 5.7.1 message rejected as spam"
        if self.mode == "drop":
            server.transport.close()
            return "250 OK"  # never reaches the client
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK queued"


@pytest.fixture
def smtp() -> Iterator[tuple[Handler, Controller]]:
    handler = Handler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())  # its start() cannot use port 0
    controller.start()
    yield handler, controller
    controller.stop()


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[SQLiteStore]:
    with SQLiteStore(tmp_path / "digest.db") as store:
        yield store


def cfg_for(controller: Controller, **kw: Any) -> Config:
    port = controller.port
    email_cfg = EmailConfig(
        host="127.0.0.1", port=port, from_="digest <digest@example.com>", to=RECIPIENTS,
        list_id="ai.example.com", unsubscribe="https://example.com/unsubscribe?u=1",
        retries=2, backoff_s=0.0, timeout_s=5.0,
    )  # fmt: skip
    return Config(email=dataclasses.replace(email_cfg, **kw))


def parse(raw: bytes) -> EmailMessage:
    msg = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def test_one_well_formed_message_per_recipient_and_a_rerun_sends_nothing(smtp, ledger):
    handler, controller = smtp
    cfg = cfg_for(controller)
    report = send_issue(sample_issue(), cfg, ledger)
    assert report.sent == RECIPIENTS and not report.failed
    assert sorted(rcpts[0] for _, rcpts, _ in handler.messages) == ["ada@example.org", "grace@example.net"]
    for mail_from, rcpts, raw in handler.messages:
        assert mail_from == "digest@example.com"
        msg = parse(raw)
        assert msg.get_content_type() == "multipart/alternative"
        assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
        assert msg["Subject"] == sample_issue().title
        assert rcpts[0] in msg["To"]
        assert msg["Message-ID"] == message_id(WEEK, rcpts[0], "ai.example.com")
        assert msg["List-Id"] == "digest - the week in AI <ai.example.com>"
        assert msg["List-Unsubscribe"] == "<https://example.com/unsubscribe?u=1>"
        assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert msg["Date"]
        html = msg.get_body(("html",))
        text = msg.get_body(("plain",))
        assert html is not None and text is not None
        assert "<table" in html.get_content() and "1.  Claude Opus 4.6" in text.get_content()
        assert len(html.get_content().encode()) < GMAIL_CLIP_BYTES
    assert all(ledger.send_status(WEEK, mailbox_key(r)) == "sent" for r in RECIPIENTS)

    again = send_issue(sample_issue(), cfg, ledger)
    assert again.sent == () and again.skipped == RECIPIENTS
    assert len(handler.messages) == 2


def test_message_id_is_stable_per_week_and_recipient():
    cfg = Config(email=EmailConfig(list_id="ai.example.com"))
    html, text = render_email(sample_issue(), cfg)
    a = build_message(sample_issue(), html, text, cfg, "ada@example.org")
    b = build_message(sample_issue(), html, text, cfg, "ada@example.org")
    c = build_message(sample_issue(), html, text, cfg, "grace@example.net")
    assert a["Message-ID"] == b["Message-ID"] != c["Message-ID"]
    assert a["List-Unsubscribe"] == "<mailto:digest@localhost?subject=unsubscribe>"
    assert a["List-Unsubscribe-Post"] is None  # one-click only for https


@pytest.mark.parametrize("mode", ["451", "drop"])
def test_temporary_failure_is_retried_then_left_unsent_and_the_next_run_sends(smtp, ledger, mode):
    handler, controller = smtp
    cfg = cfg_for(controller, to=("ada@example.org",))
    handler.mode = mode
    with pytest.raises(SendFailed) as e:
        send_issue(sample_issue(), cfg, ledger)
    line = str(e.value)
    assert "\n" not in line and f"127.0.0.1:{cfg.email.port}" in line
    assert ("451 4.3.0 try again later" if mode == "451" else "connection closed") in line
    assert handler.attempts == 3  # first try + 2 retries
    assert ledger.send_status(WEEK, "ada@example.org") == "failed"
    assert e.value.report.failed and not e.value.report.sent

    handler.mode = "ok"
    report = send_issue(sample_issue(), cfg, ledger)
    assert report.sent == ("ada@example.org",)
    assert len(handler.messages) == 1
    assert ledger.send_status(WEEK, "ada@example.org") == "sent"


def test_permanent_refusal_is_not_retried_and_never_marked_sent(smtp, ledger):
    handler, controller = smtp
    handler.mode = "554"
    cfg = cfg_for(controller)
    with pytest.raises(DeliveryError, match=r"127\.0\.0\.1:\d+: 554 5\.7\.1 message rejected as spam"):
        send_issue(sample_issue(), cfg, ledger)
    assert handler.attempts == 2  # once per recipient, no retries for a 5xx
    assert [ledger.send_status(WEEK, mailbox_key(r)) for r in RECIPIENTS] == ["failed", "failed"]


def test_one_refused_recipient_does_not_block_the_others(smtp, ledger):
    handler, controller = smtp
    handler.refuse_rcpt = {"ada@example.org"}
    cfg = cfg_for(controller)
    with pytest.raises(SendFailed, match="recipient refused: 550") as e:
        send_issue(sample_issue(), cfg, ledger)
    assert e.value.report.sent == (RECIPIENTS[1],)
    assert ledger.send_status(WEEK, "ada@example.org") == "failed"
    handler.refuse_rcpt = set()
    report = send_issue(sample_issue(), cfg, ledger)
    assert report.sent == ("ada@example.org",) and report.skipped == (RECIPIENTS[1],)
    assert len(handler.messages) == 2


def test_a_greylisted_recipient_waits_alone_and_the_count_is_right(smtp, ledger):
    """A 4xx at RCPT is about that mailbox: the others are still sent, and the line counts only what
    is really unsent (an already-sent recipient is not)."""
    handler, controller = smtp
    first = cfg_for(controller, to=("ada@example.org",))
    send_issue(sample_issue(), first, ledger)
    handler.greylist = {"grey@example.org"}
    cfg = cfg_for(controller, to=("grey@example.org", "ada@example.org", "dan@example.org"), retries=1)
    with pytest.raises(SendFailed) as e:
        send_issue(sample_issue(), cfg, ledger)
    assert str(e.value).startswith("2026-W06: 1 of 3 recipient(s) not sent; grey@example.org: ")
    assert "451 4.7.1 greylisted" in str(e.value)
    assert e.value.report.sent == ("dan@example.org",) and e.value.report.skipped == ("ada@example.org",)
    assert ledger.send_status(WEEK, "grey@example.org") == "failed"


def test_one_copy_per_mailbox_however_the_address_is_spelled(smtp, ledger):
    handler, controller = smtp
    send_issue(sample_issue(), cfg_for(controller, to=("ada@example.org",)), ledger)
    spellings = ("ada@example.org", "ADA@Example.org", "Ada Lovelace <ada@example.org>", "bob@example.org")
    report = send_issue(sample_issue(), cfg_for(controller, to=spellings), ledger)
    assert report.sent == ("bob@example.org",) and report.skipped == ("ada@example.org",)
    assert [rcpts for _, rcpts, _ in handler.messages] == [["ada@example.org"], ["bob@example.org"]]


def test_force_resends_with_the_same_message_id(smtp, ledger):
    handler, controller = smtp
    cfg = cfg_for(controller)
    send_issue(sample_issue(), cfg, ledger)
    report = send_issue(sample_issue(), cfg, ledger, force=True)
    assert report.sent == RECIPIENTS
    assert len(handler.messages) == 4
    ids = [parse(raw)["Message-ID"] for _, _, raw in handler.messages]
    assert ids[0] == ids[2] and ids[1] == ids[3]


def test_dry_run_writes_eml_and_records_nothing(smtp, ledger, tmp_path: Path):
    handler, controller = smtp
    cfg = cfg_for(controller)
    report = send_issue(sample_issue(), cfg, ledger, dry_run_dir=tmp_path / "out")
    assert [p.name for p in report.eml] == [f"{WEEK}-ada@example.org.eml", f"{WEEK}-grace@example.net.eml"]
    msg = parse(report.eml[0].read_bytes())
    assert msg.get_content_type() == "multipart/alternative" and msg["To"] == "ada@example.org"
    assert handler.messages == [] and handler.attempts == 0
    assert all(ledger.send_status(WEEK, r) is None for r in RECIPIENTS)


def test_unreachable_server_is_one_line_naming_host_and_port(ledger):
    port = free_port()  # closed again: nothing listens there
    cfg = Config(
        email=EmailConfig(host="127.0.0.1", port=port, to=("ada@example.org",), retries=1, backoff_s=0)
    )
    with pytest.raises(DeliveryError, match=rf"127\.0\.0\.1:{port}: cannot connect"):
        send_issue(sample_issue(), cfg, ledger)
    assert ledger.send_status(WEEK, "ada@example.org") == "failed"


def test_an_unreachable_server_stops_the_send_after_the_first_recipient(ledger):
    port, waits, to = free_port(), [], ("ada@example.org", "grace@example.net", "alan@example.com")
    cfg = Config(email=EmailConfig(host="127.0.0.1", port=port, to=to, retries=2, backoff_s=1.0))
    with pytest.raises(SendFailed, match=r"3 of 3 recipient\(s\) not sent; ada@example\.org: ") as e:
        send_issue(sample_issue(), cfg, ledger, sleep=waits.append)
    assert str(e.value).endswith("; not tried: grace@example.net, alan@example.com")
    assert waits == [1.0, 2.0] and len(e.value.report.failed) == 1  # only the first one's retries
    assert [ledger.send_status(WEEK, r) for r in to] == ["failed", None, None]


def test_login_uses_credentials_from_the_environment(ledger, monkeypatch):
    seen: list[tuple[bytes, bytes]] = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        assert isinstance(auth_data, LoginPassword)
        seen.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == b"s3cret", handled=False)

    handler = Handler()
    controller = Controller(
        handler, hostname="127.0.0.1", port=free_port(), authenticator=authenticator, auth_require_tls=False
    )
    controller.start()
    try:
        cfg = cfg_for(controller, to=("ada@example.org",))
        monkeypatch.setenv("DIGEST_SMTP_USER", "digest")
        monkeypatch.setenv("DIGEST_SMTP_PASSWORD", "wrong")
        with pytest.raises(DeliveryError, match=r"login refused: 535"):
            send_issue(sample_issue(), cfg, ledger)
        monkeypatch.setenv("DIGEST_SMTP_PASSWORD", "s3cret")
        assert send_issue(sample_issue(), cfg, ledger).sent == ("ada@example.org",)
        assert seen[-1] == (b"digest", b"s3cret")
        assert len(handler.messages) == 1
    finally:
        controller.stop()


def test_starttls_required_but_not_offered_is_a_clear_error(smtp, ledger):
    _, controller = smtp
    cfg = cfg_for(controller, security="starttls", to=("ada@example.org",))
    with pytest.raises(DeliveryError, match="does not offer STARTTLS"):
        send_issue(sample_issue(), cfg, ledger)
    assert ledger.send_status(WEEK, "ada@example.org") == "failed"


def test_credentials_for_a_server_without_auth_say_so_not_starttls(smtp, ledger, monkeypatch):
    """A plain aiosmtpd offers no AUTH without TLS; the error must name the login, not STARTTLS."""
    handler, controller = smtp
    cfg = cfg_for(controller, security="none", to=("ada@example.org",))
    monkeypatch.setenv("DIGEST_SMTP_USER", "u")
    monkeypatch.setenv("DIGEST_SMTP_PASSWORD", "p")
    with pytest.raises(DeliveryError) as e:
        send_issue(sample_issue(), cfg, ledger)
    line = str(e.value)
    assert "server offers no AUTH; the login comes from $DIGEST_SMTP_USER (email.username_env)" in line
    assert "does not offer STARTTLS" not in line and "\n" not in line
    assert ledger.send_status(WEEK, "ada@example.org") == "failed" and handler.attempts == 0


def test_a_server_offering_only_an_unknown_auth_mechanism_fails_at_once(ledger, monkeypatch):
    """smtplib speaks PLAIN, LOGIN and CRAM-MD5; a server offering none of them will not change on retry."""

    class OnlyToken:
        async def handle_DATA(self, server, session, envelope):
            return "250 OK"

        async def auth_XTOKEN(self, server, args):
            return None

    port = free_port()
    ctl = Controller(OnlyToken(), hostname="127.0.0.1", port=port, auth_require_tls=False,
                     auth_exclude_mechanism=["LOGIN", "PLAIN"])  # fmt: skip
    ctl.start()
    try:
        cfg = Config(email=EmailConfig(host="127.0.0.1", port=port, to=("ada@example.org",), retries=3,
                                       backoff_s=30.0))  # fmt: skip
        monkeypatch.setenv("DIGEST_SMTP_USER", "u")
        monkeypatch.setenv("DIGEST_SMTP_PASSWORD", "p")
        with pytest.raises(DeliveryError) as e:
            send_issue(sample_issue(), cfg, ledger)  # a retry would sleep 30 s first
    finally:
        ctl.stop()
    assert "login failed: No suitable authentication method found. (server offers: XTOKEN)" in str(e.value)
    assert ledger.send_status(WEEK, "ada@example.org") == "failed"


def test_config_problems_are_config_errors(ledger):
    with pytest.raises(ConfigError, match=r"email\.to: no recipients"):
        send_issue(sample_issue(), Config(), ledger)
    with pytest.raises(ConfigError, match=r"email\.to: not an email address"):
        send_issue(
            sample_issue(),
            Config(email=EmailConfig(to=("nobody",))),
            ledger,
            dry_run_dir=Path("/nonexistent"),
        )


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, made with the openssl command."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl command not installed")
    d = tmp_path_factory.mktemp("tls")
    cert, key = d / "cert.pem", d / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def tls_controller(handler: Handler, cert: Path, key: Path, implicit: bool) -> Controller:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    if implicit:
        return Controller(handler, hostname="127.0.0.1", port=free_port(), ssl_context=ctx)
    return Controller(
        handler, hostname="127.0.0.1", port=free_port(), tls_context=ctx, require_starttls=True,
        authenticator=lambda *a: AuthResult(success=True), auth_required=True,
    )  # fmt: skip


@pytest.mark.parametrize("security", ["ssl", "starttls"])
def test_tls_modes_send_when_the_certificate_is_trusted(certificate, ledger, monkeypatch, security):
    cert, key = certificate
    handler = Handler()
    controller = tls_controller(handler, cert, key, implicit=security == "ssl")
    controller.start()
    try:
        cfg = cfg_for(controller, security=security, to=("ada@example.org",))
        with pytest.raises(DeliveryError, match="TLS failed: CERTIFICATE_VERIFY_FAILED"):
            send_issue(sample_issue(), cfg, ledger)  # not trusted yet: fatal, no retries, nothing sent
        assert handler.messages == [] and ledger.send_status(WEEK, "ada@example.org") == "failed"
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))
        if security == "starttls":  # login only ever happens inside TLS here (auth_require_tls)
            monkeypatch.setenv("DIGEST_SMTP_USER", "digest")
            monkeypatch.setenv("DIGEST_SMTP_PASSWORD", "s3cret")
        assert send_issue(sample_issue(), cfg, ledger).sent == ("ada@example.org",)
        assert len(handler.messages) == 1
    finally:
        controller.stop()


@pytest.mark.parametrize(
    "field, value",
    [("unsubscribe", "https://x.example/u\r\nBcc: evil@example.com"), ("from_", "a@example.com\nBcc: e@x")],
)
def test_header_injection_from_config_is_refused(field, value):
    cfg = Config(email=dataclasses.replace(EmailConfig(), **{field: value}))
    with pytest.raises(ConfigError, match="bad header value"):
        build_message(sample_issue(), "<p>h</p>", "t", cfg, "ada@example.org")
