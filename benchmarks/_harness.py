"""What the benchmark scripts share: peak memory (Linux), versions, which Seawall ran."""

from __future__ import annotations

import platform
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path

__all__ = ["reset_peak", "seawall_source", "status_kib", "versions"]


def status_kib() -> dict[str, int]:
    """The process's resident set (VmRSS), its high-water mark (VmHWM) and VmSize, in KiB."""
    out: dict[str, int] = {}
    with open("/proc/self/status") as fh:
        for line in fh:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM", "VmSize"):
                out[key] = int(value.split()[0])
    return out


def reset_peak() -> bool:
    """Reset the resident high-water mark (Linux >= 4.0); False where not allowed."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        return False
    return True


def versions(packages: Iterable[str]) -> dict[str, str]:
    """Versions of Python and of ``packages`` ("not installed" for a missing one)."""
    out = {"python": platform.python_version()}
    for pkg in packages:
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def seawall_source() -> str:
    """Where ``seawall`` is imported from, its commit and whether its monitoring differs.

    The detector's internals change between commits; the results say which code ran.
    """
    import subprocess

    import seawall

    src = Path(seawall.__file__).resolve().parent
    try:
        head = subprocess.run(
            ["git", "-C", str(src), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        diff = subprocess.run(
            ["git", "-C", str(src), "diff", "--stat", "HEAD", "--", "monitoring"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return str(src)
    return f"{src} at {head}" + (" with uncommitted changes in monitoring/" if diff else "")
