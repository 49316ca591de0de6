"""Both packages and the templates work from a built wheel, not only from the checkout."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_carries_packages_and_templates_and_runs_from_them(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("digest-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "digest/cli.py" in names and "sources/arxiv.py" in names
    assert {"templates/email.html.j2", "templates/email.txt.j2", "templates/issue.html.j2"} <= set(names)
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
        check=True,
        capture_output=True,
    )
    probe = (
        "import digest, sources, templates; from digest.render import templates_dir;"
        "print(digest.__file__); print(templates_dir())"
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, env=env, check=True, capture_output=True, text=True
    ).stdout.split()
    assert all(line.startswith(str(target)) for line in out), out
    help_out = subprocess.run(
        [sys.executable, "-m", "digest", "--help"], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert help_out.returncode == 0 and "collect" in help_out.stdout


def test_the_clustering_benchmark_runs_without_a_replay_world_beside_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An installed package has no ../shared: the benchmark's base texts become synthetic, and it says so."""
    from digest.bench_cluster import load_world

    items = load_world(tmp_path / "no-world")
    assert len(items) > 1000 and {i.source for i in items} == {"arxiv", "reddit", "hn"}
    assert len({i.key for i in items}) == len(items)
    assert "no replay world at" in capsys.readouterr().err
