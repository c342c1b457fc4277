"""
Learning curves of benchmarks/learning.py's runs: training returns binned on the agent-step axis, read
from the runs' Monitor logs, and their plot (mean and std over seeds).
"""

from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.registry import Experiment

CURVE_BINS = 50
# What the curves' step axis counts; Atari curves written before this column counted emulator frames
CURVE_AXIS = "agent steps"
# Between the log folders of a checkpointed run's segments, in a row's log_dir
LOG_DIR_SEPARATOR = ";"


def binned_curves(
    experiment: Experiment,
    results: list[dict[str, str]],
    n_timesteps: int,
    runs_dir: Path,
    previous: list[dict[str, str]],
) -> list[dict[str, Any]]:
    """
    Training returns (rolling mean over ``curve_window`` episodes), binned on the agent-step axis.
    A run whose monitor logs are gone (made on another machine, or the runs folder was cleaned)
    keeps its rows of ``previous``, the curves written before, so adding seeds never drops old
    curves; except Atari rows from before the ``axis`` column, which counted emulator frames.
    """
    import pandas
    from stable_baselines3.common.monitor import LoadMonitorResultsError, load_results
    from stable_baselines3.common.results_plotter import X_TIMESTEPS, ts2xy, window_func

    atari = experiment.evaluation == "atari"
    rows = []
    bins = np.linspace(0, n_timesteps, CURVE_BINS + 1)[1:]
    for result in results:
        try:
            # A checkpointed run's segments, in order: its episodes one after the other
            segments = [load_results(str(runs_dir / log_dir)) for log_dir in result["log_dir"].split(LOG_DIR_SEPARATOR)]
            x, y = ts2xy(pandas.concat(segments, ignore_index=True), X_TIMESTEPS)
        except LoadMonitorResultsError:
            rows += [
                {**row, "timesteps": int(row["timesteps"]), "return": float(row["return"]), "axis": CURVE_AXIS}
                for row in previous
                if (row["config"], row["seed"]) == (result["config"], result["seed"])
                and (row.get("axis") == CURVE_AXIS or not atari)
            ]
            continue
        if len(x) < experiment.curve_window:
            continue
        if atari:
            # Monitor sits under AtariWrapper's frame skip, so its lengths are emulator frames, which
            # also count the reset frames the agent never sees: spread the run's agent steps over them.
            x = x * int(result["n_timesteps"]) / x[-1]
        x, y = window_func(x, y, experiment.curve_window, np.mean)
        for step in bins[(bins >= x[0]) & (bins <= x[-1])]:
            rows.append(
                {
                    "config": result["config"],
                    "seed": result["seed"],
                    "timesteps": int(step),
                    "return": float(np.interp(step, x, y)),
                    "axis": CURVE_AXIS,
                }
            )
    return rows


def plot_curves(name: str, experiment: Experiment, curves: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    figure, axis = plt.subplots(figsize=(7, 4.5))
    for config_name in experiment.configs:
        points: dict[int, list[float]] = {}
        for row in curves:
            if row["config"] == config_name:
                points.setdefault(row["timesteps"], []).append(row["return"])
        if not points:
            continue
        steps = np.array(sorted(points))
        mean = np.array([np.mean(points[step]) for step in steps])
        std = np.array([np.std(points[step]) for step in steps])
        seeds = len({row["seed"] for row in curves if row["config"] == config_name})
        axis.plot(steps, mean, label=f"{config_name} ({seeds} seeds)")
        axis.fill_between(steps, mean - std, mean + std, alpha=0.2)
    axis.set_xlabel("environment steps")
    axis.set_ylabel(f"training return (mean of last {experiment.curve_window} episodes)")
    axis.set_title(f"{experiment.env_id}: mean ± std over seeds")
    axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
