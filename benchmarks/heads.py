"""
How much of each network's fully connected part still learns after an Atari run: for every finished
run of an experiment whose final model is kept (benchmarks/runs/), the share of hidden units (a ReLU
or leaky ReLU after a linear layer) that never fire while the model plays, how far RMSprop moves
the weights before them (from the saved optimizer state), and the policy's mean entropy over the
states it visits.

    python benchmarks/heads.py ablation_atari_1m

A ReLU unit that never fires passes no gradient to its weights, so it has stopped learning for good
(a leaky ReLU still passes a hundredth). The model plays --games games of the native backend for
--steps steps with sampled actions and BatchNorm's running statistics, as in its rollouts. Writes
docs/benchmarks/<experiment>_heads.csv (and .json: command and machine), which the report shows
under the experiment.
"""

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch as th
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import RESULTS_DIR, command_line, environment_info, write_csv, write_text_atomically  # noqa: E402
from benchmarks.learning import EXPERIMENTS, LOG_DIR_SEPARATOR, RUNS_DIR, _read_rows  # noqa: E402

FIELDS = ["config", "algo", "seed", "n_timesteps", "layer", "units", "never_fire", "step_to_lr"]
FIELDS += ["policy_entropy", "uniform_entropy"]


def step_to_learning_rate(policy: Any, activation: str) -> float | None:
    """
    How far RMSprop moves the weights of the linear layer before ``activation``, as a share of the learning
    rate: the mean over its weights of the gradient's RMS (the root of RMSprop's squared-gradient average)
    over RMSprop's denominator. TF-like RMSprop adds epsilon under the root, torch's after it, so gradients
    far below the root of epsilon get steps far below the learning rate from the TF-like one.
    """
    from stable_baselines3.common.sb2_compat.rmsprop_tf_like import RMSpropTFLike

    prefix, index = activation.rsplit(".", 1)
    linear = policy.get_submodule(f"{prefix}.{int(index) - 1}") if index.isdigit() and int(index) > 0 else None
    optimizer = policy.optimizer
    state = optimizer.state.get(linear.weight, {}) if isinstance(linear, nn.Linear) else {}
    if "square_avg" not in state or not isinstance(optimizer, RMSpropTFLike | th.optim.RMSprop):
        return None  # not a linear layer's activation, no update yet, or not RMSprop
    square_avg, eps = state["square_avg"], optimizer.param_groups[0]["eps"]
    rms = square_avg.sqrt()
    denominator = (square_avg + eps).sqrt() if isinstance(optimizer, RMSpropTFLike) else rms + eps
    return (rms / denominator).mean().item()


def unit_activity(policy: Any, env: Any, steps: int) -> tuple[dict[str, tuple[int, float]], float]:
    """
    Play ``env`` with ``policy`` (sampled actions) and watch its fully connected activations.

    :return: per activation layer (named by its module path) its number of units and the share that never
        fired; and the mean entropy of the action distribution over the visited states
    """
    fired: dict[str, th.Tensor] = {}

    def watch(name: str):
        def hook(module: nn.Module, inputs: tuple[th.Tensor, ...], output: th.Tensor) -> None:
            if inputs[0].dim() == 2:  # after a linear layer; the convolutions' activations are 4-D
                active = (inputs[0] > 0).any(dim=0)
                fired[name] = fired[name] | active if name in fired else active

        return hook

    handles = [
        module.register_forward_hook(watch(name))
        for name, module in policy.named_modules()
        if isinstance(module, nn.ReLU | nn.LeakyReLU)
    ]
    policy.set_training_mode(False)
    entropies = []
    observations = env.reset()
    try:
        with th.no_grad():
            for _ in range(steps):
                tensor = policy.obs_to_tensor(observations)[0]
                distribution = policy.get_distribution(tensor)
                policy.predict_values(tensor)  # the critic's own hidden layers, where it has them
                entropies.append(distribution.entropy().mean().item())
                observations, _, _, _ = env.step(distribution.get_actions().cpu().numpy())
    finally:
        for handle in handles:
            handle.remove()
    layers = {name: (active.numel(), 1.0 - active.float().mean().item()) for name, active in fired.items()}
    return layers, float(np.mean(entropies))


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
    runs = _read_rows(results_path)
    if not runs:
        raise SystemExit(f"no finished runs of {args.experiment} in {results_path}")
    register_algorithm()  # where the site hook did not run (python -S); the zoo's ALGOS then has every algo
    experiment = EXPERIMENTS[args.experiment]
    rows, missing = [], []
    for run in runs:
        # The zoo keeps the final model in the run's last log folder
        model_path = args.runs_dir / run["log_dir"].split(LOG_DIR_SEPARATOR)[-1] / f"{experiment.env_id}.zip"
        if not model_path.exists():
            missing.append(str(model_path))
            continue
        model = ALGOS[run["algo"]].load(model_path, device="cpu")
        env = AtariVecEnv(experiment.env_id, args.games, seed=args.seed)
        try:
            layers, entropy = unit_activity(model.policy, env, args.steps)
        finally:
            env.close()
        labels = {key: run[key] for key in ("config", "algo", "seed", "n_timesteps")}
        uniform = float(np.log(model.action_space.n))
        for layer, (units, never_fire) in layers.items():
            step = step_to_learning_rate(model.policy, layer)
            rows.append(
                {**labels, "layer": layer, "units": units, "never_fire": round(never_fire, 4)}
                | {"step_to_lr": "" if step is None else float(f"{step:.4g}")}
                | {"policy_entropy": round(entropy, 4), "uniform_entropy": round(uniform, 4)}
            )
        print(f"{run['config']} seed {run['seed']}: {layers}, entropy {entropy:.3f}")
    if missing:
        print("no final model (runs from before models were kept, or another machine's):", *missing, sep="\n  ")
    if not rows:
        raise SystemExit("no final model to examine")
    write_csv(args.output_dir / f"{args.experiment}_heads.csv", FIELDS, rows)
    meta = {
        "command": command_line("benchmarks/heads.py", sys.argv[1:]),
        "games": args.games,
        "steps": args.steps,
        "environment": environment_info(),
    }
    write_text_atomically(args.output_dir / f"{args.experiment}_heads.json", json.dumps(meta, indent=2) + "\n")


if __name__ == "__main__":
    main()
