"""Where a result came from: versions, git commit, host-independent facts only."""

from __future__ import annotations

import platform
import subprocess
from functools import lru_cache
from importlib import metadata
from pathlib import Path

PACKAGES = ("openai", "httpx", "PyYAML", "inspect-ai")


@lru_cache(maxsize=1)
def package_versions() -> dict[str, str | None]:
    from evals import __version__

    versions: dict[str, str | None] = {"python": platform.python_version(), "evals": __version__}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


@lru_cache(maxsize=1)
def git_commit() -> str | None:
    """The project's commit, best effort: None outside git or before the first commit."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--verify", "--quiet", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    commit = out.stdout.strip()
    return commit if out.returncode == 0 and len(commit) >= 40 else None
