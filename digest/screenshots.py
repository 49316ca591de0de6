"""Screenshots of the email (375 px and 800 px) and of the archive pages, with headless Chromium.

    python -m digest.screenshots --out DIR [--issue ARCHIVE/2026-W06/issue.json] [--config digest.toml]

Without --issue it renders the sample issue of tests/render_fixtures.py (a checkout only). Chromium is
found as `chromium`, `chromium-browser` or `google-chrome` on PATH, or via $DIGEST_CHROMIUM.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import digest
from digest.config import Config, load_config
from digest.errors import DigestError, InputError
from digest.models import Issue

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)


def find_chromium() -> str | None:
    env = os.environ.get("DIGEST_CHROMIUM")
    if env:
        return env
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def run_chromium(args: list[str], timeout_s: float = 90.0) -> str:
    """Run headless Chromium with a throwaway profile; returns stdout (the DOM for --dump-dom)."""
    exe = find_chromium()
    if exe is None:
        raise DigestError("chromium not found on PATH (apt-get install chromium, or set DIGEST_CHROMIUM)")
    with tempfile.TemporaryDirectory(prefix="digest-chromium-") as profile:
        cmd = [exe, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, check=False)
        except subprocess.TimeoutExpired:
            raise DigestError(f"chromium timed out after {timeout_s:.0f} s: {' '.join(args)}") from None
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise DigestError(f"chromium exited with {done.returncode}: {last}")
    return done.stdout


def screenshot(page: Path, png: Path, width: int, height: int, dark: bool = False) -> Path:
    extra = ["--force-dark-mode", "--blink-settings=preferredColorScheme=0"] if dark else []
    run_chromium([*extra, f"--screenshot={png}", f"--window-size={width},{height}", page.resolve().as_uri()])
    if not png.is_file():
        raise DigestError(f"chromium wrote no screenshot to {png}")
    return png


def dump_dom(page: Path, budget_ms: int = 2000) -> str:
    """The DOM after scripts had `budget_ms` of virtual time to run."""
    return run_chromium([f"--virtual-time-budget={budget_ms}", "--dump-dom", page.resolve().as_uri()])


def sample_issue() -> Issue:
    """The 10-story sample issue from tests/render_fixtures.py (available in a checkout)."""
    path = Path(digest.__file__).resolve().parent.parent / "tests" / "render_fixtures.py"
    spec = importlib.util.spec_from_file_location("digest_render_fixtures", path)
    if spec is None or spec.loader is None or not path.is_file():
        raise InputError(f"--issue: not given and no sample issue at {path} (not a checkout?)")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    issue: Issue = mod.sample_issue()
    return issue


def load_issue_json(path: Path) -> Issue:
    from digest.serialize import issue_from_dict

    try:
        return issue_from_dict(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise InputError(f"--issue: {path}: file not found") from None
    except (ValueError, KeyError, TypeError) as e:
        raise InputError(f"--issue: {path}: not an issue.json ({e})") from None


def take_all(issue: Issue, cfg: Config, out: Path) -> list[Path]:
    """Email at 375 and 800 px (and 800 px dark), an issue page at 375 and 1024 px, the index at 800 px."""
    from digest.archive import write_issue
    from digest.render import render_email

    out.mkdir(parents=True, exist_ok=True)
    html, text = render_email(issue, cfg)
    email = out / "email.html"
    email.write_text(html, encoding="utf-8")
    (out / "email.txt").write_text(text, encoding="utf-8")
    site = out / "archive"
    cfg = dataclasses.replace(cfg, archive=dataclasses.replace(cfg.archive, path=str(site.resolve())))
    page = write_issue(issue, cfg)
    return [
        screenshot(email, out / "email-375.png", 375, 7600),
        screenshot(email, out / "email-800.png", 800, 5200),
        screenshot(email, out / "email-800-dark.png", 800, 1400, dark=True),
        screenshot(page, out / "issue-375.png", 375, 7000),
        screenshot(page, out / "issue-1024.png", 1024, 4600),
        screenshot(site / "index.html", out / "index-800.png", 800, 600),
    ]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m digest.screenshots", description=__doc__.splitlines()[0])
    p.add_argument("--out", required=True, metavar="DIR", help="folder for the PNGs and the rendered pages")
    p.add_argument(
        "--issue", metavar="FILE", help="an issue.json from the archive (default: the sample issue)"
    )
    p.add_argument("--config", metavar="FILE", help="config file (default: built-in defaults)")
    args = p.parse_args(argv)
    try:
        cfg = load_config(args.config) if args.config else Config()
        issue = load_issue_json(Path(args.issue)) if args.issue else sample_issue()
        for png in take_all(issue, cfg, Path(args.out)):
            print(png)
    except DigestError as e:
        print(f"digest: {e}", file=sys.stderr)
        return e.exit_code
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
