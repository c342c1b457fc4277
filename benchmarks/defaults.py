"""
What a newcomer sees first: README's vector quickstart, ``A2CPlus("MlpPolicy", env_id).learn(budget)``
with every argument at its default, against SB3's ``A2C("MlpPolicy", env_id)`` the same way, per seed.
Both metrics: the training mean of the last 100 episodes (sampled actions, what ``ep_rew_mean`` shows)
and a deterministic evaluation of the final model (20 episodes).

    python benchmarks/defaults.py --jobs 2
    python benchmarks/defaults.py --envs CartPole-v1 --seeds 0 1

Rows go to docs/benchmarks/defaults.csv; (algo, env, seed) already there are skipped. ``--variant``
screens a candidate default against them (A2CPlus with those arguments set, in a row of its own).
"""

import argparse
import csv
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import RESULTS_DIR, source_commit, write_csv  # noqa: E402

# The quickstart's budget for CartPole; Acrobot and LunarLander need more to separate from random play
BUDGETS = {"CartPole-v1": 100_000, "Acrobot-v1": 100_000, "LunarLander-v3": 300_000}
# Candidate defaults screened before one became the default (the arguments set on top of the defaults of the time)
VARIANTS = {"linear_lr": "learning_rate=LinearSchedule(7e-4, 0.0, 1.0)"}
FIELDS = ["algo", "env", "seed", "n_timesteps", "last_100_train_mean", "eval_mean", "eval_std", "train_seconds", "commit"]


def run_one(algo: str, env_id: str, seed: int, n_timesteps: int, variant: str = "") -> dict[str, Any]:
    import numpy as np
    import torch as th
    from stable_baselines3 import A2C
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.evaluation import evaluate_policy
    from stable_baselines3.common.utils import LinearSchedule  # noqa: F401 (for VARIANTS)

    from sb3_a2c_plus import A2CPlus

    th.set_num_threads(1)
    start = time.perf_counter()
    kwargs = eval(f"dict({VARIANTS[variant]})") if variant else {}
    model = {"a2c_plus": A2CPlus, "a2c": A2C}[algo]("MlpPolicy", env_id, seed=seed, **kwargs).learn(n_timesteps)
    train_seconds = time.perf_counter() - start
    eval_env = make_vec_env(env_id, n_envs=1, seed=10_000 + seed)
    rewards, _ = evaluate_policy(model, eval_env, n_eval_episodes=20, deterministic=True, return_episode_rewards=True)
    return {
        "algo": f"{algo} {variant}".strip(),
        "env": env_id,
        "seed": seed,
        "n_timesteps": model.num_timesteps,
        "last_100_train_mean": round(float(np.mean([info["r"] for info in model.ep_info_buffer])), 2),
        "eval_mean": round(float(np.mean(rewards)), 2),
        "eval_std": round(float(np.std(rewards)), 2),
        "train_seconds": round(train_seconds, 1),
        "commit": source_commit(),
    }


def markdown_table(rows: list[dict[str, str]]) -> str:
    """Both metrics per seed, and their means, one line per (env, algo): the report's table."""
    lines = [
        "| env, steps | algo | last 100 training episodes, per seed | mean | deterministic evaluation, per seed | mean |",
        "|---|---|---|---|---|---|",
    ]
    groups: dict[tuple[str, str], list[dict[str, str]]] = {}
    for row in rows:
        groups.setdefault((row["env"], row["algo"]), []).append(row)
    for (env_id, algo), runs in sorted(groups.items()):
        runs.sort(key=lambda run: int(run["seed"]))
        train, evaluation = ([float(run[key]) for run in runs] for key in ("last_100_train_mean", "eval_mean"))
        seeds = ", ".join(run["seed"] for run in runs)
        lines.append(
            f"| {env_id}, {int(runs[0]['n_timesteps']):,} | {algo} (seeds {seeds}) | {' / '.join(f'{v:.1f}' for v in train)} "
            f"| {sum(train) / len(train):.1f} | {' / '.join(f'{v:.1f}' for v in evaluation)} "
            f"| {sum(evaluation) / len(evaluation):.1f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--envs", nargs="+", default=list(BUDGETS), choices=list(BUDGETS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--jobs", type=int, default=1, help="runs at a time, one process each")
    parser.add_argument("--variant", choices=list(VARIANTS), help="run only A2CPlus, with this candidate default")
    parser.add_argument("--output", type=Path, default=RESULTS_DIR / "defaults.csv")
    args = parser.parse_args()

    rows = list(csv.DictReader(open(args.output))) if args.output.exists() else []
    done = {(row["algo"], row["env"], int(row["seed"])) for row in rows}
    algos = [("a2c_plus", args.variant)] if args.variant else [("a2c_plus", ""), ("a2c", "")]
    todo = [
        (algo, env_id, seed, BUDGETS[env_id], variant)
        for env_id in args.envs
        for seed in args.seeds
        for algo, variant in algos
        if (f"{algo} {variant}".strip(), env_id, seed) not in done
    ]
    with ProcessPoolExecutor(args.jobs) as pool:
        for row in pool.map(run_one, *zip(*todo)) if todo else []:
            rows.append(row)
            write_csv(args.output, FIELDS, sorted(rows, key=lambda r: (r["env"], r["algo"], int(r["seed"]))))
            label = f"{row['algo']} {row['env']} seed {row['seed']}"
            print(f"{label}: last 100 training episodes {row['last_100_train_mean']}, eval {row['eval_mean']}", flush=True)


if __name__ == "__main__":
    main()
