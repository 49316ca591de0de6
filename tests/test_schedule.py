"""The README's crontab, systemd units and CI schedule are checked for syntax, not only shown."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from digest.cli_args import parser

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", README, re.S)


def _digest_args(command: str) -> list[str]:
    """The arguments after the `digest` executable in a shell command line."""
    for part in command.split("&&"):
        words = shlex.split(part)
        for i, w in enumerate(words):
            if w.endswith("bin/digest") or w == "digest":
                return words[i + 1 :]
    raise AssertionError(f"no digest command in {command!r}")


def test_crontab_lines_parse_and_call_valid_commands() -> None:
    from croniter import croniter

    (block,) = _blocks("crontab")
    lines = [ln for ln in block.splitlines() if ln.strip() and not ln.startswith("#")]
    assert len(lines) == 2
    for line in lines:
        fields = line.split(None, 5)
        assert croniter.is_valid(" ".join(fields[:5])), line
        parser().parse_args(_digest_args(fields[5]))  # exits on an invalid flag


def test_systemd_units_verify(tmp_path: Path) -> None:
    if not shutil.which("systemd-analyze"):
        pytest.skip("systemd-analyze is not installed")
    units = {}
    for block in _blocks("ini"):
        name = block.splitlines()[0].lstrip("# ").strip()
        units[name] = block
    assert set(units) == {"digest.service", "digest.timer"}
    exe = Path(sys.executable).with_name("digest")
    for name, text in units.items():
        # %h is the user's home in a user unit; verify with real paths so ExecStart can be checked.
        text = text.replace("%h/digest/.venv/bin/digest", str(exe)).replace("%h/digest", str(tmp_path))
        (tmp_path / name).write_text(text)
    r = subprocess.run(
        ["systemd-analyze", "verify", str(tmp_path / "digest.service"), str(tmp_path / "digest.timer")],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr
    exec_line = re.search(r"^ExecStart=(.*)$", units["digest.service"], re.M)
    assert exec_line
    parser().parse_args(_digest_args(exec_line.group(1)))


def test_ci_schedule_is_valid_yaml_with_a_valid_cron() -> None:
    import yaml
    from croniter import croniter

    (block,) = _blocks("yaml")
    wf = yaml.safe_load(block)
    on = wf.get("on", wf.get(True))  # YAML 1.1 reads a bare `on` key as True
    (schedule,) = on["schedule"]
    assert croniter.is_valid(schedule["cron"])
    runs = [s["run"] for job in wf["jobs"].values() for s in job["steps"] if "run" in s]
    assert runs
    for run in runs:
        parser().parse_args(_digest_args(run))
