"""
The registry of benchmarks/learning.py's experiments: benchmarks/experiments.yml read into :class:`Experiment`
and :class:`Config`, one entry an experiment, so that adding one means adding data, not code.
"""

import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

A2C_PLUS_ENTRIES = yaml.safe_load((Path(__file__).resolve().parent.parent / "hyperparams" / "a2c_plus.yml").read_text())
EXPERIMENTS_FILE = Path(__file__).resolve().parent / "experiments.yml"


@dataclass(frozen=True)
class Config:
    """
    One contender: a zoo algorithm with its zoo settings (or, in an experiment with ``zoo: false``, the class
    defaults), plus optional overrides.
    """

    algo: str
    hyperparams: dict[str, Any] = field(default_factory=dict)
    # A learning-rate schedule the zoo's config language cannot express, as (start, end)
    linear_learning_rate: tuple[float, float] | None = None


@dataclass(frozen=True)
class Experiment:
    env_id: str
    n_timesteps: int
    seeds: tuple[int, ...]
    configs: dict[str, Config]
    evaluation: str  # "deterministic" (n episodes), "atari" (full games, raw score, stochastic), "threshold"
    eval_episodes: int = 100
    threshold: float | None = None
    threads: int = 1
    vec_env: str = "dummy"  # or "subproc", or "native" (Atari on AtariVecEnv, the zoo's `native_atari: True`)
    curve_window: int = 100
    # Agent steps between checkpoints, for runs longer than a session: a stopped run resumes from its last one
    checkpoint_every: int | None = None
    # False: README's quickstart, ``ALGO("MlpPolicy", env_id)`` with the class defaults, no zoo settings
    zoo: bool = True
    # A screen's rule, set before its runs: a config stops at the ``misses``-th of its seeds whose last 100
    # training episodes average below ``below`` (seeds run in order), its verdict decided. ``below`` is a score, or
    # the name of a reference config: its median over all the experiment's seeds, once it has run them
    stop_rule: dict[str, float | str] | None = None

    def _stop_threshold(self, rows: list[dict[str, Any]]) -> float | None:
        below = self.stop_rule["below"]
        if not isinstance(below, str):
            return float(below)
        scores = [float(row["last_100_train_mean"]) for row in rows if row["config"] == below]
        return statistics.median(scores) if len(scores) >= len(self.seeds) else None

    def stopped(self, rows: list[dict[str, Any]], config: str) -> bool:
        """Whether ``config``'s finished runs (``rows``: results rows, any config) decide it under ``stop_rule``."""
        if self.stop_rule is None or config == self.stop_rule["below"]:
            return False
        threshold = self._stop_threshold(rows)
        if threshold is None:
            return False
        below = [row for row in rows if row["config"] == config and float(row["last_100_train_mean"]) < threshold]
        return len(below) >= self.stop_rule["misses"]

    def stop_rule_text(self, rows: list[dict[str, Any]]) -> str:
        below = self.stop_rule["below"]
        threshold = f"{below}'s median ({self._stop_threshold(rows):.1f})" if isinstance(below, str) else f"{below:g}"
        return f"{self.stop_rule['misses']:g} seeds below {threshold} in the last 100 training episodes"


def _config(settings: dict[str, Any]) -> Config:
    """A config of experiments.yml: ``algo``, an optional ``linear_learning_rate`` and the hyperparameters."""
    hyperparams = dict(settings)
    algo = hyperparams.pop("algo")
    linear_learning_rate = hyperparams.pop("linear_learning_rate", None)
    return Config(algo, hyperparams, tuple(linear_learning_rate) if linear_learning_rate else None)


def _experiment(settings: dict[str, Any]) -> Experiment:
    """An experiment of experiments.yml, its seeds a tuple and its configs :class:`Config`."""
    configs = {name: _config(config) for name, config in settings["configs"].items()}
    experiment = Experiment(**{**settings, "seeds": tuple(settings["seeds"]), "configs": configs})
    if not experiment.zoo and (experiment.checkpoint_every or experiment.vec_env != "dummy"):
        raise ValueError("an experiment with zoo: false runs the quickstart: no checkpoint_every, vec_env dummy")
    return experiment


# `shared` holds the settings that the experiments merge: it is no experiment
REGISTRY = yaml.safe_load(EXPERIMENTS_FILE.read_text())
EXPERIMENTS = {name: _experiment(settings) for name, settings in REGISTRY.items() if name != "shared"}

# The names other modules and the tests use
SHARED_HEADS_ATARI = dict(REGISTRY["shared"]["shared_heads_atari"])
CONTENDERS = EXPERIMENTS["cartpole"].configs
ATARI_CONTENDERS = EXPERIMENTS["breakout"].configs
ATARI_ABLATIONS = EXPERIMENTS["ablation_atari"].configs
ENTRY_VARIANTS = EXPERIMENTS["lunarlander_entry_variants"].configs
ADAM_VARIANTS = EXPERIMENTS["lunarlander_adam"].configs
NOTEBOOK_LUNAR_LANDER = EXPERIMENTS["lunarlander"].configs["a2c_plus_notebook"]
NOTEBOOK_LUNAR_LANDER_FAITHFUL = EXPERIMENTS["lunarlander"].configs["a2c_plus_notebook_faithful"]
NOTEBOOK_SPACE_INVADERS = EXPERIMENTS["spaceinvaders_10m"].configs["a2c_plus_notebook"]
