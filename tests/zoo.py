"""Running RL Zoo's entry points as users do: subprocesses using the installed package."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

BIN_DIR = Path(sys.executable).parent


def run(args: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = 600) -> str:
    """Run ``python <args>`` with this interpreter and return its output."""
    return _run([sys.executable, *args], cwd, env, timeout)


def run_script(name: str, args: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = 600) -> str:
    """Run an installed console script, e.g. ``rl_zoo3``, and return its output."""
    return _run([str(BIN_DIR / name), *args], cwd, env, timeout)


def _run(command: list[str], cwd: Path, env: dict[str, str] | None, timeout: float) -> str:
    full_env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        # record_training calls `python -m rl_zoo3.record_video`: it must be this interpreter
        "PATH": f"{BIN_DIR}{os.pathsep}{os.environ.get('PATH', '')}",
        **(env or {}),
    }
    result = subprocess.run(command, cwd=cwd, env=full_env, capture_output=True, text=True, timeout=timeout)
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"{' '.join(command)} exited with {result.returncode}:\n{output[-6000:]}"
    return output


def run_python(code: str, cwd: Path, env: dict[str, str] | None = None) -> str:
    return run(["-c", code], cwd, env).strip()


def require(available: bool, what: str) -> None:
    """Skip when a prerequisite is missing, except in CI (SB3_A2C_PLUS_CI=1), where it must be there."""
    if available:
        return
    if os.environ.get("SB3_A2C_PLUS_CI") == "1":
        pytest.fail(f"{what} is required in CI (.ci/run provides it)")
    pytest.skip(f"{what} is not available here")


def require_ffmpeg() -> None:
    require(shutil.which("ffmpeg") is not None, "an ffmpeg executable on PATH (Debian package ffmpeg)")
