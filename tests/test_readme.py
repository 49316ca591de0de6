"""The README is tested: its quick start is what CI runs, its config loads, every command is documented."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from digest.cli import COMMANDS, _parser
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
    subparsers = next(a for a in _parser()._actions if a.dest == "command")
    names = set(subparsers.choices)  # type: ignore[union-attr]
    assert names == set(COMMANDS)
    table = _section("Commands")
    missing = [n for n in sorted(names) if f"`digest {n}" not in table]
    assert not missing, f"undocumented commands: {missing}"
