"""
Training throughput on Atari, side by side, each algorithm with the zoo's Atari settings
(a2c.yml / a2c_plus.yml), plus the stepping rate of the environments alone with random actions,
which bounds what training can reach. Runs alternate (A, B, ..., A, B, ...), each in a fresh
process, for every (n_envs, threads). The runs:

    a2c, a2c_plus     SB3's A2C and A2CPlus on SubprocVecEnv (AtariWrapper, 4-frame stack)
    a2c_plus_native   A2CPlus on the native backend (sb3_a2c_plus.envs.AtariVecEnv)
    a2c_plus_no_release, a2c_plus_native_no_release   the same two, with torch's idle OpenMP threads left
                      spin-waiting on the cores while the games are emulated (SB3_A2C_PLUS_KEEP_OPENMP_THREADS=1),
                      as A2CPlus ran until it released them before each step
    network_only      A2CPlus (the a2c_plus_native settings) on observations that cost nothing to make:
                      the training rate if emulation were free, which bounds every env backend
    env_only          the SubprocVecEnv pipeline alone
    env_only_native   AtariVecEnv alone
    env_only_raw      ale_py's AtariVectorEnv alone, with AtariVecEnv's settings

    python benchmarks/throughput.py --n-envs 8 16 --threads 1 2 --pairs 3 --steps 20000

Each recorded table's .json in docs/benchmarks/ names the command that made it (on a GPU machine the models go to
the GPU, as the zoo's do).

glibc's malloc returns the large blocks an update frees to the system and page-faults them back in
on the next update, at a cost that varies from process to process. The runs inherit this
process's environment, so prefixing the command with the allocator settings below measures every
run, baseline included, with freed memory kept (the command saved with the results names them):

    MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=4294967296 python benchmarks/throughput.py \
        --runs a2c a2c_plus_native network_only --n-envs 8 16 --threads 2 --output docs/benchmarks/native_atari_malloc

Recorded results also hold a2c_plus_native_pipelined, a run that no longer exists: A2CPlus on the native
backend with its games in two groups, each emulated while the policy computed the other's actions. It
never beat one group (docs/benchmarks.md) and was removed; the tables still show its rows.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from gymnasium import spaces
from stable_baselines3.common.vec_env import VecEnv

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import (  # noqa: E402
    RESULTS_DIR,
    PeakMemory,
    command_line,
    environment_info,
    write_csv,
    write_text_atomically,
    zoo_experiment,
)
from sb3_a2c_plus.common.openmp import KEEP_THREADS_VARIABLE  # noqa: E402

TRAINING_RUNS = ("a2c", "a2c_plus", "a2c_plus_no_release", "a2c_plus_native", "a2c_plus_native_no_release", "network_only")
# The training runs of the tables, in their order: recorded results also name a2c_plus_native_pipelined (see above)
TABLE_TRAINING_RUNS = (*TRAINING_RUNS[:5], "a2c_plus_native_pipelined", "network_only")
ENV_RUNS = ("env_only", "env_only_native", "env_only_raw")
FIELDS = ["env", "n_envs", "threads", "pair", "run", "steps", "seconds", "steps_per_second", "env_seconds"]
FIELDS += ["inference_seconds", "update_seconds", "peak_rss_mb"]


class _Timer:
    def __init__(self) -> None:
        self.seconds = 0.0

    def wrap(self, function):
        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - start

        return timed


class ConstantObservationVecEnv(VecEnv):
    """
    One fixed random frame stack for every game at every step, no reward, no episode end: what
    training costs when making observations costs nothing (SB3's ``FakeImageEnv`` samples a new
    image per game and step, which is not free).
    """

    def __init__(self, num_envs: int, observation_space: spaces.Box, action_space: spaces.Space) -> None:
        super().__init__(num_envs, observation_space, action_space)
        rng = np.random.default_rng(0)
        shape = (num_envs, *observation_space.shape)
        self._obs = rng.integers(0, 256, shape, dtype=np.uint8)

    def reset(self) -> np.ndarray:
        return self._obs.copy()

    def step_async(self, actions: np.ndarray) -> None:
        pass

    def step_wait(self):
        # A copy, as a real env returns fresh arrays that the rollout buffer keeps
        infos: list[dict] = [{} for _ in range(self.num_envs)]
        return self._obs.copy(), np.zeros(self.num_envs, dtype=np.float32), np.zeros(self.num_envs, dtype=bool), infos

    def close(self) -> None:
        pass

    def get_attr(self, attr_name: str, indices=None) -> list:
        return [None] * len(self._get_indices(indices))

    def set_attr(self, attr_name: str, value, indices=None) -> None:
        pass

    def env_method(self, method_name: str, *method_args, indices=None, **method_kwargs) -> list:
        return [None] * len(self._get_indices(indices))

    def env_is_wrapped(self, wrapper_class, indices=None) -> list[bool]:
        return [False] * len(self._get_indices(indices))


def _environment(run: str, env_id: str, n_envs: int):
    """The environment of an env-only run, stepping the way the training runs' environments do."""
    from sb3_a2c_plus.envs import AtariVecEnv, make_atari_vec_env

    if run == "env_only":
        return make_atari_vec_env(env_id, n_envs, seed=0, backend="subproc")
    if run == "env_only_native":
        return AtariVecEnv(env_id, n_envs, seed=0)
    import gymnasium as gym
    from ale_py.vector_env import AtariVectorEnv

    game = gym.spec(env_id).kwargs["game"]
    return AtariVectorEnv(game, n_envs, autoreset_mode="NextStep", life_loss_info=True, reward_clipping=False)


def measure(run: str, env_id: str, n_envs: int, threads: int, steps: int, warmup: int) -> dict:
    """One measurement in this process."""
    import torch as th

    th.set_num_threads(threads)
    result = {"env": env_id, "n_envs": n_envs, "threads": threads, "run": run, "steps": steps}
    if run in ENV_RUNS:
        env = _environment(run, env_id, n_envs)
        rng = np.random.default_rng(0)
        n_actions = (env.single_action_space if run == "env_only_raw" else env.action_space).n
        actions = [rng.integers(0, n_actions, n_envs) for _ in range((steps + warmup) // n_envs)]
        env.reset()
        for action in actions[: warmup // n_envs]:
            env.step(action)
        with PeakMemory() as memory:
            start = time.perf_counter()
            for action in actions[warmup // n_envs :]:
                env.step(action)
            seconds = time.perf_counter() - start
        env.close()
        result.update(seconds=seconds, env_seconds=seconds, inference_seconds=0.0, update_seconds=0.0)
    else:
        algo = "a2c" if run == "a2c" else "a2c_plus"
        hyperparams: dict = {"n_envs": n_envs}
        if run.startswith("a2c_plus_native") or run == "network_only":  # network_only: builds its model quickest
            hyperparams["native_atari"] = True
        with tempfile.TemporaryDirectory() as log_folder:
            _, model = zoo_experiment(
                algo, env_id, seed=0, n_timesteps=steps, log_folder=log_folder, hyperparams=hyperparams, vec_env="subproc"
            )
            if run == "network_only":
                model.get_env().close()  # type: ignore[union-attr]
                model.set_env(ConstantObservationVecEnv(n_envs, model.observation_space, model.action_space))
            env = model.get_env()
            assert env is not None
            model.learn(warmup)  # process and allocator warm-up, first BatchNorm updates: not timed
            env_timer, rollout_timer, update_timer = _Timer(), _Timer(), _Timer()
            env.step = env_timer.wrap(env.step)
            model.collect_rollouts = rollout_timer.wrap(model.collect_rollouts)
            model.train = update_timer.wrap(model.train)
            with PeakMemory() as memory:
                start = time.perf_counter()
                model.learn(steps, reset_num_timesteps=False)
                seconds = time.perf_counter() - start
            env.close()
        result.update(
            seconds=seconds,
            env_seconds=env_timer.seconds,
            inference_seconds=rollout_timer.seconds - env_timer.seconds,
            update_seconds=update_timer.seconds,
        )
    result["steps_per_second"] = steps / result["seconds"]
    result["peak_rss_mb"] = memory.peak_bytes / 2**20
    return result


def _rates(group: list[dict], run: str) -> list[float]:
    return [row["steps_per_second"] for row in sorted(group, key=lambda row: row["pair"]) if row["run"] == run]


def pair_ratios(rows: list[dict], run: str, base: str = "a2c") -> dict[tuple[int, int], list[float]]:
    """Per (n_envs, threads): the steps/s of ``run`` over those of ``base``, pair by pair."""
    ratios = {}
    for n_envs, threads in sorted({(row["n_envs"], row["threads"]) for row in rows}):
        group = [row for row in rows if (row["n_envs"], row["threads"]) == (n_envs, threads)]
        if _rates(group, run) and _rates(group, base):
            ratios[n_envs, threads] = [value / reference for reference, value in zip(_rates(group, base), _rates(group, run))]
    return ratios


def _cell(values: list[float]) -> str:
    return f"{statistics.mean(values):.0f} ± {statistics.pstdev(values):.0f}"


def _ratio_cell(ratios: list[float]) -> str:
    return f"{statistics.median(ratios):.3f} ({', '.join(f'{ratio:.3f}' for ratio in ratios)})"


# Paired ratios between two runs other than A2C, where both ran: (column, run, base)
PAIRED_RATIOS = (
    ("two groups / one group", "a2c_plus_native_pipelined", "a2c_plus_native"),  # recorded results only
    ("OpenMP threads released / left spinning, SubprocVecEnv", "a2c_plus", "a2c_plus_no_release"),
    ("OpenMP threads released / left spinning, native", "a2c_plus_native", "a2c_plus_native_no_release"),
)


def summarize(rows: list[dict]) -> str:
    runs = [run for run in (*TABLE_TRAINING_RUNS, *ENV_RUNS) if any(row["run"] == run for row in rows)]
    ratios = [run for run in runs if run in TABLE_TRAINING_RUNS and run != "a2c" and "a2c" in runs]
    header = ["n_envs", "torch threads", *(f"{run} (steps/s)" for run in runs)]
    header += [f"{run} / a2c (median of pairs)" for run in ratios]
    paired = [(column, run, base) for column, run, base in PAIRED_RATIOS if {run, base} <= set(runs)]
    header += [f"{column} (median of pairs)" for column, *_ in paired]
    compares_adapter = {"env_only_native", "env_only_raw"} <= set(runs)
    if compares_adapter:
        header.append("adapter overhead vs raw ale_py (median of pairs)")
    header.append("peak RSS (MB): " + ", ".join(runs))
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    run_ratios = {run: pair_ratios(rows, run) for run in ratios}
    paired_ratios = [pair_ratios(rows, run, base=base) for _, run, base in paired]
    adapter_ratios = pair_ratios(rows, "env_only_native", base="env_only_raw")
    for n_envs, threads in sorted({(row["n_envs"], row["threads"]) for row in rows}):
        group = [row for row in rows if (row["n_envs"], row["threads"]) == (n_envs, threads)]
        cells = [str(n_envs), str(threads), *(_cell(_rates(group, run)) for run in runs)]
        cells += [_ratio_cell(run_ratios[run][n_envs, threads]) for run in ratios]
        cells += [_ratio_cell(ratios_of_pair[n_envs, threads]) for ratios_of_pair in paired_ratios]
        if compares_adapter:
            overheads = [1 - ratio for ratio in adapter_ratios[n_envs, threads]]
            cells.append(f"{statistics.median(overheads):.1%} ({', '.join(f'{o:.1%}' for o in overheads)})")
        cells.append(", ".join(f"{max(row['peak_rss_mb'] for row in group if row['run'] == run):.0f}" for run in runs))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def breakdown(rows: list[dict]) -> str:
    lines = [
        "| n_envs | torch threads | run | env stepping (s) | rollout inference and bookkeeping (s) | update (s) | total (s) |",
        "|---|---|---|---|---|---|---|",
    ]
    measured = {(r["n_envs"], r["threads"], r["run"]) for r in rows if r["run"] in TABLE_TRAINING_RUNS}
    for n_envs, threads, run in sorted(measured):
        group = [r for r in rows if (r["n_envs"], r["threads"], r["run"]) == (n_envs, threads, run)]
        mean = {key: statistics.mean(r[key] for r in group) for key in ("env_seconds", "inference_seconds", "update_seconds")}
        total = statistics.mean(r["seconds"] for r in group)
        lines.append(
            f"| {n_envs} | {threads} | {run} | {mean['env_seconds']:.1f} | {mean['inference_seconds']:.1f} "
            f"| {mean['update_seconds']:.1f} | {total:.1f} |"
        )
    return "\n".join(lines)


def metadata() -> dict:
    """The command (with the allocator settings it ran under) and the environment of this benchmark."""
    return {"command": command_line("benchmarks/throughput.py", sys.argv[1:]), "environment": environment_info()}


def save(rows: list[dict], meta: dict, output: Path) -> None:
    """Write the rows to ``<output>.csv`` and ``meta`` to ``<output>.json``."""
    output.parent.mkdir(parents=True, exist_ok=True)
    write_csv(Path(f"{output}.csv"), FIELDS, ({key: row[key] for key in FIELDS} for row in rows))
    write_text_atomically(Path(f"{output}.json"), json.dumps(meta, indent=2) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", default="SpaceInvadersNoFrameskip-v4")
    parser.add_argument("--n-envs", type=int, nargs="+", default=[8, 16])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="torch threads, the same for both algorithms")
    parser.add_argument("--runs", nargs="+", default=["a2c", "a2c_plus", "env_only"], choices=[*TRAINING_RUNS, *ENV_RUNS])
    parser.add_argument("--pairs", type=int, default=3, help="rounds of alternating runs")
    parser.add_argument("--steps", type=int, default=20_000, help="timed steps per run")
    parser.add_argument("--warmup", type=int, default=2_000, help="untimed steps before each run")
    parser.add_argument("--output", type=Path, default=RESULTS_DIR / "throughput", help="CSV and Markdown prefix")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker:
        run, n_envs, threads = args.worker.split(",")
        print(json.dumps(measure(run, args.env, int(n_envs), int(threads), args.steps, args.warmup)))
        return

    rows: list[dict] = []
    meta = metadata()  # the code's commit as the runs start
    for n_envs in args.n_envs:
        for threads in args.threads:
            for pair in range(args.pairs):
                for run in args.runs:
                    command = [sys.executable, __file__, "--env", args.env, "--steps", str(args.steps)]
                    command += ["--warmup", str(args.warmup), "--worker", f"{run},{n_envs},{threads}"]
                    env = {**os.environ, **({KEEP_THREADS_VARIABLE: "1"} if run.endswith("_no_release") else {})}
                    output = subprocess.run(command, check=True, capture_output=True, text=True, env=env).stdout
                    row = {**json.loads(output.strip().splitlines()[-1]), "pair": pair}
                    print(f"n_envs={n_envs} threads={threads} pair={pair} {run}: {row['steps_per_second']:.0f} steps/s")
                    rows.append(row)
                    save(rows, meta, args.output)  # after every run: an interrupted benchmark keeps what it measured

    print(summarize(rows))
    if any(row["run"] in TRAINING_RUNS for row in rows):
        print(f"\nWhere the time goes (mean seconds per run of {args.steps} steps):\n\n{breakdown(rows)}")


if __name__ == "__main__":
    main()
