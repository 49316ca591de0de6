"""Item-line files (../shared/FORMATS.md): read JSONL with one-line errors naming the file and line."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from digest.errors import InputError
from digest.models import Item


def json_lines(path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(`path:line`, object) for every non-blank line of a JSONL file; `-` reads standard input.

    Lines end at "\n" (or "\r\n") only: U+2028, U+0085, \x1c and the other breaks `str.splitlines`
    knows may stand unescaped inside a JSON string (an exported Reddit selftext holds them).
    """
    if path == "-":
        text = sys.stdin.read()
    else:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise InputError(f"{path}: file not found") from None
        except (OSError, UnicodeDecodeError) as e:
            raise InputError(f"{path}: cannot read: {e}") from None
    for n, raw in enumerate(text.split("\n"), 1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw.removesuffix("\r"))
        except json.JSONDecodeError as e:
            raise InputError(f"{path}:{n}: not valid JSON ({e.msg})") from None
        except RecursionError:
            raise InputError(f"{path}:{n}: not valid JSON (nested too deeply)") from None
        if not isinstance(obj, dict):
            raise InputError(f"{path}:{n}: expected a JSON object")
        yield f"{path}:{n}", obj


def read_items(path: str) -> list[Item]:
    """Every item line of `path`; an id given twice is an error, since outputs are keyed by id."""
    items: list[Item] = []
    seen: set[str] = set()
    for where, obj in json_lines(path):
        item = Item.from_line(obj, where)
        if item.key in seen:
            raise InputError(f"{where}: duplicate id {item.key!r}")
        seen.add(item.key)
        items.append(item)
    return items


def write_lines(path: str, lines: Iterable[str]) -> None:
    """JSONL out: `-` is standard output; a file is written whole or not at all (a missing folder is
    made), so an interrupted run never leaves half an output behind."""
    if path == "-":
        sys.stdout.write("".join(line + "\n" for line in lines))
        return
    out = Path(path)
    tmp = out.with_name(out.name + ".tmp")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with tmp.open("w", encoding="utf-8") as f:
            for line in lines:
                f.write(line + "\n")
        tmp.replace(out)
    except OSError as e:
        raise InputError(f"{path}: cannot write: {e.strerror or e}") from None
