"""Item-line files (../shared/FORMATS.md): a key of the wrong type is a one-line error naming the file,
the line and the key (exit 2) in `digest cluster` and `digest rank`, never a traceback or a silent
misreading; absent and null optional keys still read as empty, and unambiguous spellings are read (one
string for a list, a number for a title, a zone-less time as UTC, an unreadable metric as unknown)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from digest.cli import main
from digest.itemfile import read_items

GOOD = {
    "id": "hn:1",
    "source": "hn",
    "url": "https://example.com/a",
    "title": "A title",
    "text": "Some text",
    "published": "2026-02-02T12:07:46+00:00",
    "authors": ["Ada"],
    "categories": ["cs.CL"],
    "metrics": {"points": 76},
    "links": ["https://example.com/b"],
}


@pytest.fixture
def cfg(tmp_path: Path) -> str:
    p = tmp_path / "digest.toml"
    p.write_text('[store]\npath = "d.db"\n[archive]\npath = "site"\n')
    return str(p)


def _file(tmp_path: Path, second_line: str) -> str:
    """An item file whose first line is good and whose second is `second_line` (raw JSON text)."""
    p = tmp_path / "f.jsonl"
    p.write_text(json.dumps(GOOD) + "\n" + second_line + "\n", encoding="utf-8")
    return str(p)


def _bad_obj(**keys: object) -> dict[str, object]:
    return {**GOOD, "id": "reddit:2", **keys}


def _bad(**keys: object) -> str:
    return json.dumps(_bad_obj(**keys))


def _run_both(cfg: str, path: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> list[str]:
    """The one-line stderr of `digest cluster` and of `digest rank` on `path`, each asserted to exit 2."""
    errors = []
    for command in ("cluster", "rank"):
        out = str(tmp_path / f"{command}.jsonl")
        assert main(["--config", cfg, command, "--input", path, "--output", out]) == 2
        err = capsys.readouterr().err.strip()
        assert "\n" not in err and "Traceback" not in err, err
        assert not Path(out).exists()
        errors.append(err)
    return errors


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("authors", 5),
        ("authors", ["Ada", 3]),
        ("categories", {"a": 1}),
        ("categories", 7),
        ("links", 5),
    ],
)
def test_a_list_key_of_another_type_is_a_one_line_error(
    key: str, value: object, cfg: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _file(tmp_path, _bad(**{key: value}))
    for err in _run_both(cfg, path, tmp_path, capsys):
        assert f"f.jsonl:2: key '{key}': expected a list of strings, got {json.dumps(value)}" in err


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("title", ["x"], "expected a string"),
        ("text", ["x"], "expected a string"),
        ("url", {"a": 1}, "expected a string"),
        ("source", {"a": 1}, "expected a string"),
        ("id", {"a": 1}, "expected a non-empty string"),
        ("id", "", "expected a non-empty string"),
        ("metrics", [1, 2], "expected an object of numbers"),
        ("metrics", "12", "expected an object of numbers"),
        ("published", 1738000000, "expected an ISO 8601 string"),
        ("published", "yesterday", "not ISO 8601"),
        ("published", "9999-12-31T23:59:59-01:00", "out of range"),
        ("comment", {"pages": 12}, "expected a string"),
        ("feed", ["x", "y"], "expected a string"),
        ("publisher", {"name": "x"}, "expected a string"),
    ],
)
def test_a_scalar_or_object_key_of_another_type_is_a_one_line_error(
    key: str, value: object, expected: str, cfg: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _file(tmp_path, _bad(**{key: value}))
    for err in _run_both(cfg, path, tmp_path, capsys):
        assert f"f.jsonl:2: key '{key}': {expected}" in err


def test_unambiguous_spellings_are_read_and_an_unreadable_metric_is_unknown(tmp_path: Path) -> None:
    """One string is a one-item list (it was split into letters), a number a title, a zone-less time
    UTC; a metric that is no finite number ("1.2K", true, NaN, 1e999) is unknown, as a missing one is,
    so a file from another tool still ranks. A numeric string is its number."""
    odd = {"score": "1.2K", "views": True, "likes": {"n": 1}, "a": 1, "b": "12"}
    line = _bad(authors="Alice", links="http://example.com", title=2048, published="2026-02-05T10:00:00")
    line = line[:-1] + ', "comment": 12, "feed": 404}'  # numbers read as their text, as a title
    metrics = json.dumps(odd)[:-1] + ', "c": NaN, "d": 1e999}'  # raw JSON text: json.dumps refuses these
    line = line.replace('"metrics": {"points": 76}', '"metrics": ' + metrics)
    _, item = read_items(_file(tmp_path, line))
    assert item.authors == ("Alice",) and item.links == ("http://example.com",) and item.title == "2048"
    assert (item.comment, item.feed) == ("12", "404")
    assert item.published.isoformat() == "2026-02-05T10:00:00+00:00"
    assert dict(item.metrics) == {"a": 1.0, "b": 12.0}


def test_absent_and_null_optional_keys_read_as_empty(tmp_path: Path) -> None:
    nulls = dict.fromkeys(("source", "url", "title", "text", "published", "authors", "categories", "links"))
    path = _file(tmp_path, json.dumps({"id": 7, **nulls, "metrics": {"score": None, "comments": 3}}))
    path2 = tmp_path / "g.jsonl"
    path2.write_text(
        Path(path).read_text() + '{"id": "only"}\n' + json.dumps(GOOD | {"id": "z", "metrics": None})
    )
    good, with_nulls, only_id, no_metrics = read_items(str(path2))
    assert (good.authors, good.links, dict(good.metrics)) == (
        ("Ada",),
        ("https://example.com/b",),
        {"points": 76},
    )
    assert with_nulls.key == "7" and with_nulls.source == "unknown"
    assert (with_nulls.url, with_nulls.title, with_nulls.text) == ("", "", "")
    assert with_nulls.authors == with_nulls.categories == with_nulls.links == ()
    assert dict(with_nulls.metrics) == {"comments": 3.0}  # null: unknown, not zero
    assert with_nulls.published.year == 1970 == only_id.published.year
    assert dict(no_metrics.metrics) == {}


def test_a_zone_offset_and_z_are_read_as_utc(tmp_path: Path) -> None:
    path = _file(tmp_path, _bad(published="2026-02-05T10:00:00+14:00"))
    path2 = tmp_path / "z.jsonl"
    path2.write_text(json.dumps(GOOD | {"published": "2026-02-05T10:00:00Z"}))
    assert read_items(path)[1].published.isoformat() == "2026-02-04T20:00:00+00:00"
    assert read_items(_file(tmp_path, _bad(published="2026-02-05")))[1].published.hour == 0
    assert read_items(str(path2))[0].published.isoformat() == "2026-02-05T10:00:00+00:00"


def test_a_line_break_character_inside_a_json_string_is_no_line_end(tmp_path: Path) -> None:
    """U+2028/U+2029/U+0085 stand unescaped in JSON written with ensure_ascii=False (as `digest export`
    writes); only "\\n" (or "\\r\\n") ends a line."""
    text = "first\u2028second\u2029third\x85fourth\u000bfifth\u001dsixth"
    line = json.dumps(_bad_obj(text=text, title="a\u2028b"), ensure_ascii=False)
    path = tmp_path / "f.jsonl"
    path.write_bytes((json.dumps(GOOD) + "\r\n" + line + "\n").encode("utf-8"))
    good, odd = read_items(str(path))
    assert good.key == "hn:1" and odd.text == text and odd.title == "a\u2028b"


def test_a_value_nested_too_deeply_is_a_one_line_error(
    cfg: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _file(tmp_path, _bad()[:-1] + ', "extra": ' + "[" * 100_000 + "]" * 100_000 + "}")
    for err in _run_both(cfg, path, tmp_path, capsys):
        assert "f.jsonl:2: not valid JSON (nested too deeply)" in err
