"""
How much of each network's fully connected part still learns after an Atari run, for every run of an experiment
whose model is kept (benchmarks/runs/: a finished run's final model, a checkpointed run's last checkpoint):
``sb3_a2c_plus.common.diagnostics``' share of hidden units that never fire while the model plays (--games games
of the native backend, --steps steps, sampled actions), the share that fires per state, RMSprop's step, and
the policy's mean entropy.

    python benchmarks/heads.py ablation_atari_1m

Adds its rows to docs/benchmarks/<experiment>_heads.csv, in place of earlier rows of the same model and keeping
those of models no longer here (and to the .json beside it: commands and machine); the report shows them.
"""

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch as th

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import checkpoints  # noqa: E402
from benchmarks.common import RESULTS_DIR, command_line, environment_info, write_csv, write_text_atomically  # noqa: E402
from benchmarks.learning import LOG_DIR_SEPARATOR, RUNS_DIR, _read_rows, _run_folder  # noqa: E402
from benchmarks.registry import EXPERIMENTS  # noqa: E402
from sb3_a2c_plus.common.diagnostics import rmsprop_step_to_learning_rate, unit_activity  # noqa: E402

FIELDS = ["config", "algo", "seed", "n_timesteps", "layer", "units", "never_fire", "active_per_state", "step_to_lr"]
FIELDS += ["policy_entropy", "uniform_entropy", "commit", "date"]
# One model's rows: a run measured again replaces them
MODEL_KEY = ("config", "seed", "n_timesteps")


def kept_models(experiment_name: str, results_path: Path, runs_dir: Path) -> tuple[list[tuple[dict, Path]], list[str]]:
    """
    The models of an experiment's runs that this machine keeps: each finished run's final model (the zoo
    keeps it in the run's last log folder) and, for a checkpointed run not finished yet, its last checkpoint.

    :return: the runs' labels (``config``, ``algo``, ``seed``, ``n_timesteps``) with their models' paths, and
        the paths of finished runs' models that are missing
    """
    experiment = EXPERIMENTS[experiment_name]
    models, missing, finished = [], [], set()
    for run in _read_rows(results_path):
        finished.add((run["config"], run["seed"]))
        model_path = runs_dir / run["log_dir"].split(LOG_DIR_SEPARATOR)[-1] / f"{experiment.env_id}.zip"
        if model_path.exists():
            models.append(({key: run[key] for key in ("config", "algo", "seed", "n_timesteps")}, model_path))
        else:
            missing.append(str(model_path))
    if experiment.checkpoint_every:
        for config_name, config in experiment.configs.items():
            for seed in experiment.seeds:
                folder = _run_folder(runs_dir, experiment_name, config_name, seed)
                steps = checkpoints.saved_steps(folder)
                if steps is not None and (config_name, str(seed)) not in finished:
                    labels = {"config": config_name, "algo": config.algo, "seed": str(seed), "n_timesteps": str(steps)}
                    models.append((labels, folder / checkpoints.CHECKPOINT))
    return models, missing


def main() -> None:
    from rl_zoo3.utils import ALGOS

    from sb3_a2c_plus.envs import AtariVecEnv
    from sb3_a2c_plus.zoo import register_algorithm

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("experiment", choices=[name for name, e in EXPERIMENTS.items() if e.evaluation == "atari"])
    parser.add_argument("--games", type=int, default=8)
    parser.add_argument("--steps", type=int, default=400, help="agent steps each game is played for")
    parser.add_argument("--seed", type=int, default=123, help="seed of the games")
    parser.add_argument("--output-dir", type=Path, default=RESULTS_DIR)
    parser.add_argument("--runs-dir", type=Path, default=RUNS_DIR)
    args = parser.parse_args()
    th.set_num_threads(1)

    results_path = args.output_dir / f"{args.experiment}.csv"
    models, missing = kept_models(args.experiment, results_path, args.runs_dir)
    register_algorithm()  # where the site hook did not run (python -S); the zoo's ALGOS then has every algo
    experiment = EXPERIMENTS[args.experiment]
    environment = environment_info()
    rows = []
    for labels, model_path in models:
        model = ALGOS[labels["algo"]].load(model_path, device="cpu")
        env = AtariVecEnv(experiment.env_id, args.games, seed=args.seed)
        try:
            layers, entropy = unit_activity(model.policy, env, args.steps)
        finally:
            env.close()
        uniform = float(np.log(model.action_space.n))
        for layer, (units, never_fire, active_per_state) in layers.items():
            step = rmsprop_step_to_learning_rate(model.policy, layer)
            rows.append(
                {**labels, "layer": layer, "units": units, "never_fire": round(never_fire, 4)}
                | {"active_per_state": round(active_per_state, 4)}
                | {"step_to_lr": "" if step is None else float(f"{step:.4g}")}
                | {"policy_entropy": round(entropy, 4), "uniform_entropy": round(uniform, 4)}
                | {"commit": environment["commit"], "date": environment["date"]}
            )
        run = f"{labels['config']} seed {labels['seed']} at {int(labels['n_timesteps']):,} steps"
        print(f"{run}: {layers}, entropy {entropy:.3f}")
    if missing:
        print("no final model (runs from before models were kept, or another machine's):", *missing, sep="\n  ")
    if not rows:
        raise SystemExit(f"no model of {args.experiment} to examine in {args.runs_dir}")
    heads_path = args.output_dir / f"{args.experiment}_heads.csv"
    measured = {tuple(str(row[key]) for key in MODEL_KEY) for row in rows}
    meta_path = args.output_dir / f"{args.experiment}_heads.json"
    earlier = json.loads(meta_path.read_text()) if meta_path.exists() else {}
    kept = [row for row in _read_rows(heads_path) if tuple(row[key] for key in MODEL_KEY) not in measured]
    for row in kept:  # rows from before they recorded their commit: all written by the command the file names
        if not row.get("commit") and "environment" in earlier:
            row["commit"], row["date"] = earlier["environment"]["commit"], earlier["environment"]["date"]
    write_csv(heads_path, FIELDS, [*kept, *rows])
    commands = earlier.get("commands", [earlier["command"]] if "command" in earlier else [])
    command = command_line("benchmarks/heads.py", sys.argv[1:])
    meta = {
        "commands": [*commands, *([command] if command not in commands else [])],
        "games": args.games,
        "steps": args.steps,
        "environment": environment,
    }
    write_text_atomically(meta_path, json.dumps(meta, indent=2) + "\n")


if __name__ == "__main__":
    main()
