"""strip_controls and safe_url: what a feed sends cannot hide, reverse or disguise displayed text or links."""

from __future__ import annotations

import dataclasses

import pytest
from render_fixtures import sample_issue, summaries

from digest.config import Config
from digest.deliver import build_message
from digest.render import render_email, render_index
from digest.textfmt import safe_url, short_link, strip_controls

# Bidi embeddings/overrides/isolates/marks and zero-width characters, one each.
HIDDEN = (
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c\u200b\u200c\u200d\u2060\ufeff"
)


def test_strip_controls_drops_bidi_and_zero_width_characters_but_keeps_text() -> None:
    assert strip_controls("Voxtral \u202eTranscribe 2") == "Voxtral Transcribe 2"
    assert strip_controls("a" + HIDDEN + "b\x07c\td") == "abc\td"
    assert strip_controls("Ünïcödé — 中文 עברית café") == "Ünïcödé — 中文 עברית café"


def test_a_bidi_override_in_a_title_reaches_neither_subject_nor_email_nor_index() -> None:
    issue = sample_issue()
    issue = dataclasses.replace(issue, title="digest: Voxtral \u202eTranscribe 2\u2066 and 9 more")
    html, text = render_email(issue, Config())
    msg = build_message(issue, html, text, Config(), "ada@example.org")
    assert msg["Subject"] == "digest: Voxtral Transcribe 2 and 9 more"
    index = render_index([dataclasses.replace(summaries()[1], title="Voxtral \u202eTranscribe 2")], Config())
    for shown in (html, text, index):
        assert not any(c in shown for c in HIDDEN), repr(shown)
    assert "Voxtral Transcribe 2" in index


@pytest.mark.parametrize(
    "url",
    [
        "https://goo\u200bgle.com/t8",
        "https://google.com\u202e/t8",
        "https://user\u2060@example.com/",
        "https://exa\u00admple.com/",  # a soft hyphen is format too
        "https://example.com\x85/",
    ],
)
def test_safe_url_refuses_a_host_with_format_or_control_characters(url: str) -> None:
    assert safe_url(url) == ""


def test_safe_url_percent_encodes_format_characters_elsewhere() -> None:
    url = safe_url("https://google.com/t\u200b8?q=a\u202eb#c\u2066")
    assert url == "https://google.com/t%E2%80%8B8?q=a%E2%80%AEb#c%E2%81%A6"
    assert short_link(url) == "google.com/t%E2%80%8B8?q=a%E2%80%AEb"
    assert safe_url("https://example.com/café?q=日本") == "https://example.com/café?q=日本"  # letters stay
    assert safe_url("http://[::1") == ""  # a broken host is no link, not a crash
