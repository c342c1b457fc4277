"""
Checkpoints of long learning runs (``Experiment.checkpoint_every``). A run stopped part-way (the end
of a session, a lent machine handed back) goes on from its last checkpoint when the same command
runs again: weights, optimiser state and BatchNorm statistics, the step count (so the learning-rate
schedule goes on where it was) and the last 100 training episodes. The games in play at the
checkpoint are not saved; the run goes on with new games, in a new log folder (a *segment*).
To go on on another machine, copy the run's folder (``benchmarks/runs/<experiment>/<config>/seed_<n>``)
and ``docs/benchmarks/<experiment>_progress.csv`` there and back (:func:`resume` maps the checkpoint
onto the device of the new model).
"""

import csv
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.save_util import load_from_zip_file

from benchmarks.common import write_csv, write_text_atomically

CHECKPOINT = "checkpoint.zip"
STATE = "run_state.json"
# A2CPlus's training diagnostics (``train/<name>`` in SB3's logger), each averaged over the rows the run's CSV
# logger wrote since the previous checkpoint; last in a row, so rows written before them read as empty there
DIAGNOSTICS = ("grad_norm", "clipped_share", "inactive_units_pi", "inactive_units_vf", "entropy_loss")
DIAGNOSTICS += ("explained_variance", "value_mean", "value_target_mean")
PROGRESS_FIELDS = ["config", "seed", "timesteps", "last_100_train_mean", "train_seconds", "commit", "date", "machine"]
PROGRESS_FIELDS += DIAGNOSTICS


class RunCheckpoint(BaseCallback):
    """
    Saves the model and the run's state every ``every`` agent steps, at the start of a rollout
    (so every collected step has had its update), in place of the previous checkpoint.

    :param folder: the run's folder (one config and seed of an experiment)
    :param every: agent steps between checkpoints
    :param state: the run's state so far (:func:`resume`), with this segment already added
    :param progress: if given, a CSV file to add a row of the run's progress to at each checkpoint
        (``PROGRESS_FIELDS``), and the ``config`` and ``seed`` of its rows
    """

    def __init__(
        self, folder: Path, every: int, state: dict[str, Any], progress: tuple[Path, dict[str, Any]] | None = None
    ) -> None:
        super().__init__()
        self.folder, self.every, self.state, self.progress = folder, every, state, progress
        self._saved_at = 0
        self._started = 0.0

    def _on_training_start(self) -> None:
        self._saved_at = self.num_timesteps
        self._started = time.perf_counter()

    def _on_rollout_start(self) -> None:
        if self.num_timesteps - self._saved_at >= self.every:
            self.save()

    def _on_step(self) -> bool:
        return True

    def seconds(self) -> float:
        """Training seconds of the whole run so far, earlier segments included."""
        return self.state["train_seconds"] + time.perf_counter() - self._started

    def diagnostics(self) -> dict[str, float]:
        """The means of :data:`DIAGNOSTICS` over the rows of the logger's progress.csv since the last checkpoint."""
        path = Path(self.model.logger.get_dir() or "") / "progress.csv"
        if not path.is_file():
            return {}
        with open(path, newline="") as file:
            rows = [
                row for row in csv.DictReader(file) if self._saved_at < int(row["time/total_timesteps"]) <= self.num_timesteps
            ]
        means = {}
        for name in DIAGNOSTICS:
            values = [float(row[f"train/{name}"]) for row in rows if row.get(f"train/{name}")]
            if values:
                means[name] = round(float(np.mean(values)), 4)
        return means

    def save(self) -> None:
        diagnostics = self.diagnostics()
        partial = self.folder / f"{CHECKPOINT}.partial.zip"
        self.model.save(partial)
        partial.replace(self.folder / CHECKPOINT)  # a run killed while saving keeps its previous checkpoint
        state = {**self.state, "num_timesteps": self.num_timesteps, "train_seconds": round(self.seconds(), 1)}
        write_text_atomically(self.folder / STATE, json.dumps(state, indent=2) + "\n")
        self._saved_at = self.num_timesteps
        if self.progress is not None:
            path, run = self.progress
            returns = [info["r"] for info in self.model.ep_info_buffer]
            row = {**run, "timesteps": self.num_timesteps, "train_seconds": state["train_seconds"]}
            row["last_100_train_mean"] = round(float(np.mean(returns)), 2) if returns else ""
            segment = self.state["segments"][-1]
            row.update(commit=segment["commit"], date=time.strftime("%Y-%m-%d"), machine=segment["machine"])
            existing = _read_progress(path)
            if existing is None or existing[0] != PROGRESS_FIELDS:  # new, or from before the diagnostics: header
                write_csv(path, PROGRESS_FIELDS, existing[1] if existing else [])
            with open(path, "a", newline="") as file:
                csv.DictWriter(file, fieldnames=PROGRESS_FIELDS).writerow(row | diagnostics)


def resume(model: BaseAlgorithm, folder: Path, segment: dict[str, Any], zoo_config: str) -> dict[str, Any]:
    """
    Restore ``model``, just built by the zoo for this run, from the run's last checkpoint if it has one,
    and add ``segment`` to the run's state.

    :param model: the run's model, as the zoo builds it
    :param folder: the run's folder
    :param segment: this process's part of the run: ``log_dir`` (relative to the runs folder), ``commit``,
        ``date``, ``machine``
    :param zoo_config: the final hyperparameters the zoo wrote for this process (its ``config.yml``)
    :return: the run's state: its segments, and the training seconds before this one
    """
    if model.get_vec_normalize_env() is not None:
        raise ValueError("checkpoint_every: checkpoints do not keep VecNormalize statistics; use it without normalize")
    state_path = folder / STATE
    if not state_path.exists():
        return {"segments": [segment], "train_seconds": 0.0, "zoo_config": zoo_config}
    state = json.loads(state_path.read_text())
    if state["zoo_config"] != zoo_config:
        raise ValueError(
            f"{folder} holds a checkpoint of a run with other hyperparameters (compare {STATE} there with "
            f"{segment['log_dir']}); delete {folder / STATE} to start the run again"
        )
    restore(model, folder / CHECKPOINT)
    return {**state, "segments": [*state["segments"], segment]}


def restore(model: BaseAlgorithm, path: Path) -> None:
    """
    Put a checkpoint into ``model``: weights, optimiser state and BatchNorm statistics, the step and update
    counts (so the learning-rate schedule goes on where it was) and the last training episodes.
    """
    data, params, _ = load_from_zip_file(path, device=model.device)
    model.set_parameters(params, exact_match=True, device=model.device)
    for name in ("num_timesteps", "_n_updates", "ep_info_buffer", "ep_success_buffer"):
        setattr(model, name, data[name])


def _read_progress(path: Path) -> tuple[list[str], list[dict[str, str]]] | None:
    """A progress file's header and rows; None where there is none."""
    if not path.exists():
        return None
    with open(path, newline="") as file:
        reader = csv.DictReader(file)
        return list(reader.fieldnames or []), [{key: value or "" for key, value in row.items()} for row in reader]


def clear(folder: Path, progress: tuple[Path, dict[str, Any]] | None = None) -> None:
    """
    Remove a run's checkpoint and state: once it has finished, so that ``--rerun`` starts it afresh, and before
    a new run starts. With ``progress``, also the rows of that config and seed in the progress file (a new run's
    points are not an earlier run's); a finished run keeps them, its diagnostics along the way.
    """
    for name in (CHECKPOINT, STATE):
        (folder / name).unlink(missing_ok=True)
    if progress is None or (read := _read_progress(progress[0])) is None:
        return
    path, run = progress
    rows = [row for row in read[1] if (row["config"], row["seed"]) != (run["config"], str(run["seed"]))]
    if rows:
        write_csv(path, PROGRESS_FIELDS, rows)
    else:
        path.unlink()


def saved_steps(folder: Path) -> int | None:
    """The steps a run stopped part-way had done at its last checkpoint; ``None`` without one."""
    state_path = folder / STATE
    return json.loads(state_path.read_text())["num_timesteps"] if state_path.exists() else None
