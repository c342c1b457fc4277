"""
Learning benchmarks and ablations at equal budgets: A2CPlus against SB3's A2C, each with its
RL Zoo settings (a2c.yml / a2c_plus.yml), several seeds, models built by the zoo itself.

    python benchmarks/learning.py lunarlander --jobs 2
    python benchmarks/learning.py spaceinvaders breakout --n-timesteps 500000
    python benchmarks/learning.py --list

The experiments and their configs are data: benchmarks/experiments.yml (a new experiment is a new entry).
Every (experiment, config, seed) runs in its own process and appends one row to
docs/benchmarks/<experiment>.csv; runs already there are skipped, so a command can be resumed.
Its Monitor logs and final model go to benchmarks/runs/<experiment>/<config>/seed_<n>/ in the zoo's
layout (``python -m rl_zoo3.enjoy --algo <algo> --env <env> -f <that folder>`` plays the model).
After a change of defaults, ``--rerun`` runs the selected configs and seeds again; each new row
replaces the old one only once its run has finished. Experiments longer than a session save
checkpoints (see benchmarks/checkpoints.py): run the same command again to go on from the last one.
Learning curves (mean and std over seeds) go to docs/benchmarks/<experiment>.png, the binned
per-seed curves they are drawn from to docs/benchmarks/<experiment>_curves.csv.
"""

import argparse
import contextlib
import csv
import fcntl
import io
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import checkpoints  # noqa: E402
from benchmarks.common import (  # noqa: E402
    RESULTS_DIR,
    command_line,
    environment_info,
    source_commit,
    write_csv,
    write_text_atomically,
    zoo_experiment,
)
from benchmarks.curves import LOG_DIR_SEPARATOR, plot_curves  # noqa: E402
from benchmarks.curves import binned_curves as _curves  # noqa: E402
from benchmarks.registry import EXPERIMENTS, Config, Experiment  # noqa: E402

RUNS_DIR = Path(__file__).resolve().parent / "runs"

FIELDS = ["experiment", "config", "algo", "env", "seed", "n_timesteps", "eval_mean", "eval_std", "eval_episodes"]
FIELDS += ["last_100_train_mean", "steps_to_threshold", "train_seconds", "fps", "log_dir", "commit", "date"]


def _quickstart(config: Config, env_id: str, seed: int, log_folder: Path):
    """
    README's quickstart, ``ALGO("MlpPolicy", env_id, seed=seed)``: the class defaults, unless the config sets some.
    The env is what SB3 makes of the id (``gym.make``, Monitor), its Monitor writing the log the curves read.
    """
    import gymnasium as gym
    from stable_baselines3 import A2C
    from stable_baselines3.common.monitor import Monitor

    from sb3_a2c_plus import A2CPlus

    log_folder.mkdir(parents=True, exist_ok=True)
    env = Monitor(gym.make(env_id), str(log_folder / "monitor"))
    return {"a2c": A2C, "a2c_plus": A2CPlus}[config.algo]("MlpPolicy", env, seed=seed, **config.hyperparams)


def _evaluate(experiment: Experiment, model, manager, seed: int) -> tuple[float, float]:
    from stable_baselines3.common.env_util import make_atari_env, make_vec_env
    from stable_baselines3.common.evaluation import evaluate_policy
    from stable_baselines3.common.vec_env import VecFrameStack, sync_envs_normalization

    if experiment.evaluation == "atari":
        # As the reference notebook scores: full games (no life-loss episodes), raw score (no
        # reward clipping), stochastic actions. Monitor sits under the Atari wrapper.
        eval_env = VecFrameStack(
            make_atari_env(
                experiment.env_id,
                n_envs=5,
                seed=10_000 + seed,
                wrapper_kwargs=dict(terminal_on_life_loss=False, clip_reward=False),
            ),
            n_stack=4,
        )
        deterministic = False
    elif manager is None:  # the quickstart's model: one env, as it trained on
        eval_env, deterministic = make_vec_env(experiment.env_id, n_envs=1, seed=10_000 + seed), True
    else:
        eval_env = manager.create_envs(n_envs=10, eval_env=True)
        eval_env.seed(10_000 + seed)
        if model.get_vec_normalize_env() is not None:
            sync_envs_normalization(model.get_env(), eval_env)
        deterministic = True
    rewards, _ = evaluate_policy(
        model, eval_env, n_eval_episodes=experiment.eval_episodes, deterministic=deterministic, return_episode_rewards=True
    )
    eval_env.close()
    return float(np.mean(rewards)), float(np.std(rewards))


def _run_folder(runs_dir: Path, name: str, config_name: str, seed: int) -> Path:
    """Where one (experiment, config, seed) keeps its logs and checkpoints."""
    return runs_dir / name / config_name / f"seed_{seed}"


def _progress(output_dir: Path, name: str, config_name: str, seed: int) -> tuple[Path, dict[str, Any]]:
    """Where a checkpointed run of an experiment records its progress, and the labels of its rows."""
    return output_dir / f"{name}_progress.csv", {"config": config_name, "seed": seed}


def run_one(
    name: str, config_name: str, seed: int, n_timesteps: int, runs_dir: Path, output_dir: Path = RESULTS_DIR
) -> dict[str, Any]:
    """Train and evaluate one (config, seed) in this process (``output_dir``: for a checkpointed run's progress)."""
    import torch as th
    from stable_baselines3.common.callbacks import EvalCallback, StopTrainingOnRewardThreshold
    from stable_baselines3.common.logger import configure
    from stable_baselines3.common.utils import LinearSchedule

    experiment = EXPERIMENTS[name]
    config = experiment.configs[config_name]
    th.set_num_threads(experiment.threads)
    log_folder = _run_folder(runs_dir, name, config_name, seed)
    hyperparams = dict(config.hyperparams)
    if experiment.vec_env == "native":
        hyperparams["native_atari"] = True
    if experiment.zoo:
        manager, model = zoo_experiment(
            config.algo,
            experiment.env_id,
            seed=seed,
            n_timesteps=n_timesteps,
            log_folder=log_folder,
            hyperparams=hyperparams or None,
            vec_env="dummy" if experiment.vec_env == "native" else experiment.vec_env,
        )
        log_dir = str(Path(manager.save_path).relative_to(runs_dir))
    else:
        manager, model = None, _quickstart(config, experiment.env_id, seed, log_folder)
        log_dir = str(log_folder.relative_to(runs_dir))
    # The training diagnostics (losses, gradient norm, clipped share, inactive units) every log_interval updates
    model.set_logger(configure(str(runs_dir / log_dir), ["csv"]))
    commit, date = source_commit(), time.strftime("%Y-%m-%d")
    checkpoint = None
    if experiment.checkpoint_every:
        zoo_config = (Path(manager.params_path) / "config.yml").read_text()
        # The parts of a long run may run on different machines
        machine = environment_info()
        machine = f"{machine['cores']} cores, gpu {machine['gpu']}, torch {machine['torch']}"
        segment = {"log_dir": log_dir, "commit": commit, "date": date, "machine": machine}
        state = checkpoints.resume(model, log_folder, segment, zoo_config)
        progress = _progress(output_dir, name, config_name, seed)
        if len(state["segments"]) == 1:
            # A new run: progress recorded for this config and seed belongs to an earlier run, whose checkpoint is gone
            checkpoints.clear(log_folder, progress)
        checkpoint = checkpoints.RunCheckpoint(log_folder, experiment.checkpoint_every, state, progress)
    if config.linear_learning_rate is not None:
        start, end = config.linear_learning_rate
        model.learning_rate = LinearSchedule(start, end, 1.0)
        model._setup_lr_schedule()

    callback = None
    if experiment.evaluation == "threshold":
        eval_env = manager.create_envs(n_envs=1, eval_env=True)
        eval_env.seed(10_000 + seed)
        stop = StopTrainingOnRewardThreshold(reward_threshold=experiment.threshold, verbose=0)
        callback = EvalCallback(
            eval_env,
            callback_on_new_best=stop,
            n_eval_episodes=experiment.eval_episodes,
            eval_freq=max(5_000 // model.n_envs, 1),
            deterministic=True,
            verbose=0,
        )

    start_time = time.perf_counter()
    if checkpoint is None:
        model.learn(n_timesteps, callback=callback)
    else:
        # The step count goes on from the checkpoint: learn() adds it to the steps asked for
        remaining = max(n_timesteps - model.num_timesteps, 0)
        model.learn(remaining, callback=[checkpoint, *([callback] if callback else [])], reset_num_timesteps=False)
    train_seconds = checkpoint.seconds() if checkpoint else time.perf_counter() - start_time
    # Where the zoo keeps it (<log_dir>/<env>.zip, VecNormalize statistics beside config.yml), so
    # rl_zoo3.enjoy and record_video play it; a checkpointed run's checkpoint goes once its row is written
    if manager is None:
        model.save(log_folder / experiment.env_id)
    else:
        with contextlib.redirect_stdout(io.StringIO()):
            manager.save_trained_model(model)
    last_episodes = [info["r"] for info in model.ep_info_buffer]
    segments = checkpoint.state["segments"] if checkpoint else [{"log_dir": log_dir, "commit": commit, "date": date}]

    row: dict[str, Any] = {
        "experiment": name,
        "config": config_name,
        "algo": config.algo,
        "env": experiment.env_id,
        "seed": seed,
        "n_timesteps": model.num_timesteps,
        "last_100_train_mean": float(np.mean(last_episodes)) if last_episodes else float("nan"),
        "train_seconds": round(train_seconds, 1),
        "fps": round(model.num_timesteps / train_seconds),
        "eval_episodes": experiment.eval_episodes,
        # One log folder per process a checkpointed run took
        "log_dir": LOG_DIR_SEPARATOR.join(segment["log_dir"] for segment in segments),
        # Each run's own: an experiment resumed or extended later spans commits and days
        "commit": " + ".join(dict.fromkeys(segment["commit"] for segment in segments)),
        "date": date,
    }
    if experiment.evaluation == "threshold":
        reached = callback.best_mean_reward >= experiment.threshold
        row.update(steps_to_threshold=model.num_timesteps if reached else "", eval_mean=callback.best_mean_reward, eval_std="")
    else:
        row["eval_mean"], row["eval_std"] = _evaluate(experiment, model, manager, seed)
    model.get_env().close()
    return row


def _read_rows(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    with open(path, newline="") as file:
        return list(csv.DictReader(file))


def _write_row(path: Path, row: dict[str, Any]) -> None:
    """Add ``row`` to the results, in place of an earlier row of the same config and seed."""
    # Commands run side by side (one per config or seed) share the file: one read-modify-write at a time
    with open(path.with_name(f".{path.name}.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        rows = [old for old in _read_rows(path) if (old["config"], old["seed"]) != (row["config"], str(row["seed"]))]
        write_csv(path, FIELDS, [*rows, row])


def _record_command(meta_path: Path, command: str) -> None:
    """Add ``command`` to the commands that wrote rows of an experiment (resumed, or a config at a time)."""
    meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
    commands = meta.get("commands") or ([meta["command"]] if "command" in meta else [])
    if command not in commands:
        commands.append(command)
    write_text_atomically(meta_path, json.dumps({"commands": commands, "environment": environment_info()}, indent=2) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("experiments", nargs="*", help=f"experiments to run: {', '.join(EXPERIMENTS)}")
    parser.add_argument("--list", action="store_true", help="list the experiments and their configurations")
    parser.add_argument("--configs", nargs="+", help="only these configurations")
    parser.add_argument("--seeds", type=int, nargs="+", help="only these seeds")
    parser.add_argument("--rerun", action="store_true", help="run the selected configs and seeds again, replacing their rows")
    parser.add_argument("--n-timesteps", type=int, help="override the experiments' budget")
    parser.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="runs at a time, each one process (an Atari run takes every core: one at a time there)",
    )
    parser.add_argument("--output-dir", type=Path, default=RESULTS_DIR)
    parser.add_argument("--runs-dir", type=Path, default=RUNS_DIR, help="where the runs' logs and models go")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.list:
        for name, experiment in EXPERIMENTS.items():
            print(f"{name}: {experiment.env_id}, {experiment.n_timesteps} steps, seeds {experiment.seeds}")
            for config_name, config in experiment.configs.items():
                print(f"    {config_name}: {config}")
        return
    unknown = [name for name in args.experiments if name not in EXPERIMENTS]
    if unknown:
        parser.error(f"unknown experiment(s) {unknown}; choose from {list(EXPERIMENTS)}")
    if args.worker:
        name, config_name, seed, n_timesteps = args.worker.split(",")
        print(json.dumps(run_one(name, config_name, int(seed), int(n_timesteps), args.runs_dir, args.output_dir)))
        return

    args.output_dir.mkdir(parents=True, exist_ok=True)
    command = command_line("benchmarks/learning.py", sys.argv[1:])
    for name in args.experiments:
        experiment = EXPERIMENTS[name]
        n_timesteps = args.n_timesteps or experiment.n_timesteps
        results_path = args.output_dir / f"{name}.csv"
        rows = [] if args.rerun else _read_rows(results_path)
        done = {(row["config"], int(row["seed"])) for row in rows if int(row["n_timesteps"]) > 0}
        todo = [
            (config_name, seed)
            for seed in (args.seeds or experiment.seeds)
            for config_name in (args.configs or experiment.configs)
            if (config_name, seed) not in done
        ]
        running: list[tuple[subprocess.Popen, str, int, Any]] = []
        while todo or running:
            while todo and len(running) < args.jobs:
                config_name, seed = todo.pop(0)
                # Decided by the rows this command counts as done (none of the ones it reruns) and those it wrote
                if experiment.stopped(rows, config_name):
                    stopped = f"{config_name} stopped at {experiment.stop_rule_text(rows)}"
                    print(f"{name} {config_name} seed {seed}: not run, {stopped}", flush=True)
                    continue
                saved = checkpoints.saved_steps(_run_folder(args.runs_dir, name, config_name, seed))
                if saved is not None:
                    print(f"{name} {config_name} seed {seed}: going on from its checkpoint at {saved:,} steps", flush=True)
                log = tempfile.TemporaryFile(mode="w+")
                worker = [sys.executable, __file__, "--runs-dir", str(args.runs_dir), "--output-dir", str(args.output_dir)]
                worker += ["--worker", f"{name},{config_name},{seed},{n_timesteps}"]
                running.append(
                    (subprocess.Popen(worker, stdout=log, stderr=subprocess.STDOUT, text=True), config_name, seed, log)
                )
            time.sleep(1.0)
            for job in [job for job in running if job[0].poll() is not None]:
                running.remove(job)
                process, config_name, seed, log = job
                log.seek(0)
                output = log.read()
                if process.returncode != 0:
                    print(f"{name} {config_name} seed {seed} FAILED:\n{output[-3000:]}", flush=True)
                    continue
                row = json.loads(output.strip().splitlines()[-1])
                rows.append(row)
                _write_row(results_path, {key: row.get(key, "") for key in FIELDS})
                checkpoints.clear(_run_folder(args.runs_dir, name, config_name, seed))  # its progress rows stay
                print(f"{name} {config_name} seed {seed}: eval {row['eval_mean']:.1f}, {row['fps']} steps/s", flush=True)
                _record_command(args.output_dir / f"{name}.json", command)

        curves_path = args.output_dir / f"{name}_curves.csv"
        curves = _curves(experiment, _read_rows(results_path), n_timesteps, args.runs_dir, _read_rows(curves_path))
        if curves:
            write_csv(curves_path, ["config", "seed", "timesteps", "return", "axis"], curves)
            plot_curves(name, experiment, curves, args.output_dir / f"{name}.png")
        else:
            # No curve left to draw: stale files would show what the table no longer holds
            curves_path.unlink(missing_ok=True)
            (args.output_dir / f"{name}.png").unlink(missing_ok=True)


if __name__ == "__main__":
    main()
