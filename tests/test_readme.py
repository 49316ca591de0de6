"""The README is tested: its quick start is what CI runs, its config loads, every command is documented."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from digest.cli import COMMANDS
from digest.cli_args import parser
from digest.config import parse_config

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _section(title: str) -> str:
    m = re.search(rf"^## {title}\n(.*?)(?=^## )", README, re.S | re.M)
    assert m, f"README has no '## {title}' section"
    return m.group(1)


def test_quick_start_is_exactly_two_commands_and_ci_runs_the_second() -> None:
    blocks = re.findall(r"```sh\n(.*?)```", _section("Quick start"), re.S)
    assert len(blocks) == 2
    commands = [b.strip() for b in blocks]
    assert all("\n" not in c for c in commands)
    assert "digest run" in commands[0] and "pytest" in commands[1]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()
    assert ci[-1] == commands[1]


def test_offline_example_config_is_valid() -> None:
    block = re.search(r"with `offline.toml`:\s*```toml\n(.*?)```", README, re.S)
    assert block
    cfg = parse_config(tomllib.loads(block.group(1)), "README offline.toml")
    assert cfg.sources.arxiv.api_url.startswith("http://127.0.0.1:")
    assert cfg.email.to == ("reader@example.org",)


def test_every_command_is_documented() -> None:
    subparsers = next(a for a in parser()._actions if a.dest == "command")
    names = set(subparsers.choices)  # type: ignore[union-attr]
    assert names == set(COMMANDS)
    table = _section("Commands")
    missing = [n for n in sorted(names) if f"`digest {n}" not in table]
    assert not missing, f"undocumented commands: {missing}"


def _config_keys() -> list[tuple[str, str]]:
    """(table, key) for every leaf key of the config, as a user writes it in TOML."""
    import dataclasses
    import typing

    from digest.config import Config

    out: list[tuple[str, str]] = []

    def walk(cls: type, table: str) -> None:
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            if f.metadata.get("internal"):
                continue
            if dataclasses.is_dataclass(hints[f.name]):
                walk(hints[f.name], f"{table}.{f.name}".strip("."))
            else:
                out.append((table, f.name.rstrip("_")))

    walk(Config, "")
    return out


def test_every_config_key_is_documented_in_its_table() -> None:
    ref = re.search(r"^### Reference\n(.*?)(?=^### )", README, re.S | re.M)
    assert ref
    entries = {
        m.group(1): m.group(2) for m in re.finditer(r"`\[([a-z.]+)\]` — (.*?)(?=`\[|\Z)", ref.group(1), re.S)
    }
    missing = [f"{t}.{k}" for t, k in _config_keys() if f"`{k}`" not in entries.get(t, "")]
    assert not missing, f"config keys missing from the README reference: {missing}"
