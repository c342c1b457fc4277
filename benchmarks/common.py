"""Shared helpers of the benchmark scripts: models built exactly as ``rl_zoo3.train`` builds them."""

import argparse
import contextlib
import csv
import io
import os
import platform
import subprocess
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import gymnasium as gym
import psutil
import torch as th
from rl_zoo3.exp_manager import ExperimentManager
from stable_baselines3.common.base_class import BaseAlgorithm

REPO_ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = REPO_ROOT / "docs" / "benchmarks"
# What a benchmark runs: a change to these (not to results or docs) makes a checkout "-dirty"
CODE_PATHS = ("sb3_a2c_plus", "hyperparams", "benchmarks/*.py", "benchmarks/experiments.yml", "setup.cfg")
# Writes the report from the results: editing it changes no figure
NOT_CODE_PATHS = ("benchmarks/report.py", "benchmarks/tables.py", "benchmarks/results.py")


# Allocator settings change the speed of every run (the workers inherit them): a saved command names them
ALLOCATOR_VARIABLES = ("MALLOC_", "GLIBC_TUNABLES", "LD_PRELOAD")


def command_line(script: str, arguments: list[str]) -> str:
    """
    The command that made a results file, as run from the repository root: arguments naming paths
    inside the repository are written relative to it, so the command reads the same in any checkout,
    and the allocator settings it ran under come first.

    :param script: the script, relative to the repository root
    :param arguments: its command-line arguments (``sys.argv[1:]``)
    """

    def portable(argument: str) -> str:
        option, equals, value = argument.partition("=") if argument.startswith("--") else ("", "", argument)
        path = Path(value)
        if path.is_absolute() and path.resolve().is_relative_to(REPO_ROOT):
            value = str(path.resolve().relative_to(REPO_ROOT))
        return f"{option}{equals}{value}"

    allocator = [f"{key}={value}" for key, value in sorted(os.environ.items()) if key.startswith(ALLOCATOR_VARIABLES)]
    return " ".join([*allocator, "python", script, *map(portable, arguments)])


def zoo_experiment(
    algo: str,
    env_id: str,
    *,
    seed: int,
    n_timesteps: int,
    log_folder: str | Path,
    hyperparams: dict[str, Any] | None = None,
    config: str | None = None,
    vec_env: str = "dummy",
    verbose: int = 0,
) -> tuple[ExperimentManager, BaseAlgorithm]:
    """
    The zoo's ExperimentManager and model for ``algo`` on ``env_id``: the zoo's hyperparameter file
    (``a2c.yml`` for SB3's A2C, ``a2c_plus.yml`` for A2CPlus) unless ``config`` names another,
    with ``hyperparams`` overriding single entries, Monitor logs in ``log_folder``.
    """
    # Saved as args.yml, where enjoy and record_video look for env_kwargs
    args = argparse.Namespace(
        algo=algo, env=env_id, seed=seed, n_timesteps=n_timesteps, hyperparams=hyperparams, env_kwargs=None
    )
    manager = ExperimentManager(
        args,
        algo,
        env_id,
        str(log_folder),
        n_timesteps=n_timesteps,
        eval_freq=-1,
        hyperparams=hyperparams,
        seed=seed,
        vec_env_type=vec_env,
        config=config,
        verbose=verbose,
    )
    with contextlib.redirect_stdout(io.StringIO()):  # the zoo prints its whole configuration
        model, _ = manager.setup_experiment()
    return manager, model


def write_text_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a rename: an interrupted write leaves the old file whole."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text)
    partial.replace(path)


def write_csv(path: Path, fieldnames: list[str], rows: Iterable[dict[str, Any]]) -> None:
    """Write ``rows`` under a header to the CSV file ``path``, atomically."""
    text = io.StringIO(newline="")
    writer = csv.DictWriter(text, fieldnames=fieldnames)
    writer.writeheader()
    writer.writerows(rows)
    write_text_atomically(path, text.getvalue())


class PeakMemory:
    """Peak resident memory of this process and all its children (the subprocess envs), sampled."""

    def __init__(self, interval: float = 0.2) -> None:
        self.interval = interval
        self.peak_bytes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        root = psutil.Process()
        while not self._stop.is_set():
            total = 0
            for process in [root, *root.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):
                    total += process.memory_info().rss
            self.peak_bytes = max(self.peak_bytes, total)
            time.sleep(self.interval)

    def __enter__(self) -> "PeakMemory":
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join()


def source_commit() -> str:
    """
    The checkout's commit, with ``-dirty`` when its code has uncommitted changes, or ``unknown``
    outside a git checkout: which code produced a figure.
    """

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=True).stdout.strip()

    try:
        commit = git("rev-parse", "--short", "HEAD")
        excluded = [f":(exclude){path}" for path in NOT_CODE_PATHS]
        dirty = git("status", "--porcelain", "--untracked-files=no", "--", *CODE_PATHS, *excluded)
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("-dirty" if dirty else "")


def environment_info() -> dict[str, str]:
    """What a reader needs to compare a figure: hardware, package versions and the code's commit."""
    import ale_py
    import rl_zoo3
    import stable_baselines3

    import sb3_a2c_plus

    return {
        "cpu": platform.processor() or platform.machine(),
        "cores": str(psutil.cpu_count(logical=True)),
        "gpu": th.cuda.get_device_name(0) if th.cuda.is_available() else "none",
        "python": platform.python_version(),
        "torch": th.__version__,
        "stable_baselines3": stable_baselines3.__version__,
        "rl_zoo3": rl_zoo3.__version__,
        "gymnasium": gym.__version__,
        "ale_py": ale_py.__version__,
        "sb3_a2c_plus": sb3_a2c_plus.__version__,
        "commit": source_commit(),
        "date": time.strftime("%Y-%m-%d"),
    }
