"""Each benchmark script, on a tiny configuration, so they keep working (the real runs are by hand)."""

import csv
import json
import os
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch as th

from benchmarks import checkpoints
from benchmarks.common import write_csv
from tests.zoo import run

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def _rows(path: Path) -> list[dict]:
    with open(path, newline="") as file:
        return list(csv.DictReader(file))


def _head_commit() -> str:
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=BENCHMARKS, capture_output=True, text=True)
    return head.stdout.strip()


def _report(results: Path) -> str:
    """The report of the results in ``results``, whose checkpoints/ holds its committed checkpoints."""
    output = ["--output", str(results / "report.md"), "--checkpoints", str(results / "checkpoints")]
    run([str(BENCHMARKS / "report.py"), "--results", str(results), *output], results)
    return (results / "report.md").read_text()


def test_throughput_and_report(tmp_path):
    # One run of each code path: training on SubprocVecEnv and on AtariVecEnv, both env-only kinds
    runs = ["a2c", "a2c_plus_native", "a2c_plus_native_no_release", "network_only"]
    runs += ["env_only_native", "env_only_raw"]
    output = run(
        [str(BENCHMARKS / "throughput.py"), "--n-envs", "2", "--threads", "1", "--pairs", "1", "--steps", "200"]
        + ["--warmup", "0", "--runs", *runs, "--output", str(tmp_path / "native_atari")],
        tmp_path,
    )
    assert "a2c_plus_native / a2c (median of pairs)" in output
    assert "OpenMP threads released / left spinning, native (median of pairs)" in output
    rows = _rows(tmp_path / "native_atari.csv")
    assert sorted(row["run"] for row in rows) == sorted(runs)
    assert all(float(row["steps_per_second"]) > 0 for row in rows)
    # network_only trains on observations that cost nothing to make: next to no time in env.step
    (free,) = (row for row in rows if row["run"] == "network_only")
    assert float(free["env_seconds"]) < 0.1 * float(free["seconds"]) and float(free["update_seconds"]) > 0
    assert json.loads((tmp_path / "native_atari.json").read_text())["command"].startswith("python benchmarks/throughput.py")

    report = _report(tmp_path)
    native = report.split("### Native Atari backend (SpaceInvaders)")[1].split("###")[0]
    assert "Command: `python benchmarks/throughput.py --n-envs 2 --threads 1" in native
    assert "| 2 | 1 |" in native and "Where the time goes" in native
    assert "adapter's overhead over ale_py (SpaceInvaders, random actions)\n\n*Not run yet: " in report

    adapter = ["--n-envs", "2", "--threads", "1", "--pairs", "1", "--steps", "200", "--runs", "env_only_native"]
    adapter += ["env_only_raw", "--output", str(tmp_path / "native_adapter")]
    # Allocator settings change the speed of every run: the saved command names them
    output = run([str(BENCHMARKS / "throughput.py"), *adapter], tmp_path, env={"MALLOC_TRIM_THRESHOLD_": "4294967296"})
    assert "adapter overhead vs raw ale_py" in output and "Where the time goes" not in output
    command = json.loads((tmp_path / "native_adapter.json").read_text())["command"]
    assert command.startswith("MALLOC_TRIM_THRESHOLD_=4294967296 python benchmarks/throughput.py --n-envs 2")
    report = _report(tmp_path)
    adapter_section = report.split("the adapter's overhead over ale_py")[1].split("###")[0]
    assert "| 2 | 1 |" in adapter_section and "Where the time goes" not in adapter_section
    assert "Command: `MALLOC_TRIM_THRESHOLD_=4294967296 python benchmarks/throughput.py" in adapter_section
    malloc = "*Not run yet: `python benchmarks/throughput.py --output docs/benchmarks/native_atari_malloc`.*"
    assert f"with malloc keeping freed memory (SpaceInvaders)\n\n{malloc}" in report


def test_tables_keep_the_recorded_rows_of_the_removed_pipelined_run():
    from benchmarks.throughput import TRAINING_RUNS, breakdown, summarize

    assert "a2c_plus_native_pipelined" not in TRAINING_RUNS
    times = dict(seconds=1.0, env_seconds=0.0, inference_seconds=0.7, update_seconds=0.3, peak_rss_mb=1.0)
    rates = {"a2c": 400.0, "a2c_plus_native": 500.0, "a2c_plus_native_pipelined": 450.0, "network_only": 800.0}
    rows = [
        dict(env="x", n_envs=16, threads=2, pair=0, run=run, steps=1) | times | dict(steps_per_second=rate)
        for run, rate in rates.items()
    ]
    header = summarize(rows).splitlines()[0]
    assert "| a2c_plus_native (steps/s) | a2c_plus_native_pipelined (steps/s) | network_only (steps/s) |" in header
    assert "| two groups / one group (median of pairs) |" in header
    assert "| 0.900 (0.900) |" in summarize(rows)
    assert "| 16 | 2 | a2c_plus_native_pipelined | 0.0 | 0.7 | 0.3 | 1.0 |" in breakdown(rows)


def test_learning(tmp_path):
    # Two experiments in one command: each records the command that wrote its rows
    args = ["lunarlander", "cartpole", "--configs", "a2c_plus", "--seeds", "0", "--n-timesteps", "1000"]
    args += ["--output-dir", str(tmp_path)]
    run([str(BENCHMARKS / "learning.py"), *args, "--runs-dir", str(tmp_path / "runs")], tmp_path)
    (row,) = _rows(tmp_path / "lunarlander.csv")
    assert (row["config"], row["seed"], row["eval_episodes"]) == ("a2c_plus", "0", "100")
    assert -1000 < float(row["eval_mean"]) < 400 and float(row["fps"]) > 0
    assert (tmp_path / "runs" / row["log_dir"] / "0.monitor.csv").is_file()
    # The final model, where the zoo keeps it: enjoy plays it, with LunarLander's VecNormalize statistics
    assert (tmp_path / "runs" / row["log_dir"] / "LunarLander-v3" / "vecnormalize.pkl").is_file()
    run_folder = tmp_path / "runs" / "lunarlander" / "a2c_plus" / "seed_0"
    enjoy = ["--algo", "a2c_plus", "--env", "LunarLander-v3", "-f", str(run_folder), "--no-render", "-n", "300"]
    played = run(["-m", "rl_zoo3.enjoy", *enjoy], tmp_path)
    assert f"Loading {tmp_path / 'runs' / row['log_dir'] / 'LunarLander-v3.zip'}" in played
    assert "Loading running average" in played
    # Each run records the code and day it ran on
    assert row["commit"].removesuffix("-dirty") == _head_commit() != ""
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", row["date"])
    for name in ("lunarlander", "cartpole"):
        (command,) = json.loads((tmp_path / f"{name}.json").read_text())["commands"]
        assert command.startswith("python benchmarks/learning.py lunarlander cartpole --configs a2c_plus --seeds 0")

    # After a change of defaults: the same config and seed again, in place of the old row
    rerun = ["lunarlander", "--configs", "a2c_plus", "--seeds", "0", "--n-timesteps", "1000", "--rerun"]
    run(
        [str(BENCHMARKS / "learning.py"), *rerun, "--output-dir", str(tmp_path), "--runs-dir", str(tmp_path / "runs")],
        tmp_path,
    )
    (new_row,) = _rows(tmp_path / "lunarlander.csv")
    assert new_row["config"] == "a2c_plus" and new_row["log_dir"] != row["log_dir"]
    assert not list(tmp_path.glob("*.partial"))


def test_quickstart_experiments_run_the_class_defaults_not_the_zoo_settings(tmp_path):
    from sb3_a2c_plus import A2CPlus

    rows = {}
    for experiment, configs, seed in [
        ("quickstart_cartpole", ["a2c_plus_a2c_defaults", "a2c_plus_linear_lr"], "0"),
        ("quickstart_cartpole_fresh_seeds", ["a2c_plus"], "5"),
    ]:
        args = [experiment, "--configs", *configs, "--seeds", seed, "--n-timesteps", "500"]
        args += ["--output-dir", str(tmp_path), "--runs-dir", str(tmp_path / "runs")]
        run([str(BENCHMARKS / "learning.py"), *args], tmp_path)
        rows |= {row["config"]: row for row in _rows(tmp_path / f"{experiment}.csv")}
    assert set(rows) == {"a2c_plus_a2c_defaults", "a2c_plus_linear_lr", "a2c_plus"}
    assert rows["a2c_plus"]["eval_episodes"] == "20"
    # What each config's rows ran: the learning rate at the start and at the end, and the clip
    expected = {
        "a2c_plus_a2c_defaults": (7e-4, 7e-4, "global"),  # SB3's A2C defaults, the vector defaults until issue 38
        "a2c_plus_linear_lr": (7e-4, 0.0, "global"),
        "a2c_plus": (1e-3, 0.0, "per_parameter"),  # every argument at its default
    }
    for config, row in rows.items():
        assert (tmp_path / "runs" / row["log_dir"] / "monitor.monitor.csv").is_file()
        # 100 rollouts: one row of the training diagnostics, written before the 100th update (tanh units never sit at 0)
        (diagnostics,) = _rows(tmp_path / "runs" / row["log_dir"] / "progress.csv")
        assert float(diagnostics["train/n_updates"]) == 99 and float(diagnostics["train/inactive_units_pi"]) == 0.0
        model = A2CPlus.load(tmp_path / "runs" / row["log_dir"] / "CartPole-v1.zip")
        # The zoo's CartPole entry trains 8 envs with n_steps 8; the class defaults, one env with n_steps 5
        assert (model.n_envs, model.n_steps, model.ent_coef, model.vf_coef) == (1, 5, 0.0, 0.5)
        assert model.num_timesteps == 500
        assert (model.lr_schedule(1.0), model.lr_schedule(0.0), model.grad_clip) == pytest.approx(expected[config])


def test_a_screen_stops_a_config_once_its_rule_decides_it(tmp_path):
    from benchmarks.learning import FIELDS

    # quickstart_cartpole's rule: a config stops at its second seed below 475
    run_ = dict(experiment="quickstart_cartpole", algo="a2c_plus", env="CartPole-v1", n_timesteps=100_000)
    run_ |= dict(eval_mean=500.0, eval_std=0.0, eval_episodes=20, train_seconds=1.0, fps=1)
    scores = {"a2c_plus_linear_lr": (159.0, 174.0), "a2c_plus_gae": (500.0, 500.0)}
    rows = [
        run_ | dict(config=config, seed=seed, last_100_train_mean=score)
        for config, pair in scores.items()
        for seed, score in enumerate(pair)
    ]
    write_csv(tmp_path / "quickstart_cartpole.csv", FIELDS, rows)
    args = ["quickstart_cartpole", "--configs", "a2c_plus_linear_lr", "a2c_plus_gae", "--seeds", "2", "--n-timesteps", "500"]
    output = run(
        [str(BENCHMARKS / "learning.py"), *args, "--output-dir", str(tmp_path), "--runs-dir", str(tmp_path / "runs")], tmp_path
    )
    assert "a2c_plus_linear_lr seed 2: not run, a2c_plus_linear_lr stopped at 2 seeds below 475" in output
    # None below 475: it runs (its 500-step seed 2 misses, once: it could still make 4 of 5)
    ran = {(row["config"], row["seed"]) for row in _rows(tmp_path / "quickstart_cartpole.csv")}
    assert ("a2c_plus_gae", "2") in ran and ("a2c_plus_linear_lr", "2") not in ran
    # The report names it as stopped, not as left to run
    report = _report(tmp_path)
    rule = "*Stopped by the screen's rule at 2 seeds below 475 in the last 100 training episodes: a2c_plus_linear_lr.*"
    (left,) = (line for line in report.splitlines() if line.startswith("*Not run yet:") and "a2c_plus_gae" in line)
    assert rule in report and "a2c_plus_gae seeds 3, 4" in left and "a2c_plus_linear_lr," not in left
    # Run again on purpose (after a change of defaults), the rows it replaces do not stop it
    rerun = ["quickstart_cartpole", "--configs", "a2c_plus_linear_lr", "--seeds", "0", "--n-timesteps", "500", "--rerun"]
    run(
        [str(BENCHMARKS / "learning.py"), *rerun, "--output-dir", str(tmp_path), "--runs-dir", str(tmp_path / "runs")],
        tmp_path,
    )
    (rerun_row,) = (
        row
        for row in _rows(tmp_path / "quickstart_cartpole.csv")
        if row["config"] == "a2c_plus_linear_lr" and row["seed"] == "0"
    )
    assert rerun_row["n_timesteps"] == "500"


def test_a_screen_rule_can_name_a_reference_config_whose_median_it_must_reach():
    from benchmarks.registry import _experiment

    settings = dict(env_id="LunarLander-v3", n_timesteps=10, seeds=[0, 1, 2, 3, 4], evaluation="deterministic")
    configs = {"a2c": {"algo": "a2c"}, "candidate": {"algo": "a2c_plus"}}
    experiment = _experiment(settings | dict(zoo=False, configs=configs, stop_rule={"below": "a2c", "misses": 3}))

    def rows(config, scores):
        return [dict(config=config, seed=str(seed), last_100_train_mean=str(score)) for seed, score in enumerate(scores)]

    candidate = rows("candidate", [-30.0, -36.0, 40.0])
    # The reference has not run all its seeds: no median yet, nothing is decided
    assert not experiment.stopped(rows("a2c", [32.0, 34.0, -45.0, 4.0]) + candidate, "candidate")
    reference = rows("a2c", [32.0, 34.0, -45.0, 4.0, 51.0])  # median 32
    assert not experiment.stopped(reference + candidate, "candidate")  # two below: it could still reach the median
    assert experiment.stopped(reference + candidate + rows("candidate", [0, 0, 0, 10.0])[3:], "candidate")
    assert not experiment.stopped(reference, "a2c")  # the reference is never measured against itself
    assert experiment.stop_rule_text(reference) == "3 seeds below a2c's median (32.0) in the last 100 training episodes"


def test_quickstart_experiments_refuse_what_only_the_zoo_runs():
    from benchmarks.registry import _experiment

    settings = dict(env_id="CartPole-v1", n_timesteps=10, seeds=[0], evaluation="deterministic", zoo=False)
    settings |= dict(configs={"a2c": {"algo": "a2c"}}, checkpoint_every=5)
    with pytest.raises(ValueError, match="zoo: false runs the quickstart: no checkpoint_every"):
        _experiment(settings)


def test_startup(tmp_path):
    run([str(BENCHMARKS / "startup.py"), "--runs", "2", "--output", str(tmp_path / "startup.json")], tmp_path)
    result = json.loads((tmp_path / "startup.json").read_text())
    assert result["heavy_modules_loaded_at_startup"] == "[]"
    assert result["hook_import_ms_median"] > 0
    # Which code produced the figures: the checkout's commit ("-dirty" with uncommitted code changes)
    assert result["environment"]["commit"].removesuffix("-dirty") == _head_commit() != ""


def test_recorded_commands_name_paths_inside_the_repository_relative_to_it(tmp_path, monkeypatch):
    from benchmarks.common import ALLOCATOR_VARIABLES, REPO_ROOT, command_line

    for key in [key for key in os.environ if key.startswith(ALLOCATOR_VARIABLES)]:
        monkeypatch.delenv(key)
    arguments = ["lunarlander", "--output-dir", str(REPO_ROOT / "docs" / "benchmarks"), f"--runs-dir={REPO_ROOT}/runs"]
    arguments += ["--output", str(tmp_path / "out")]
    command = command_line("benchmarks/learning.py", arguments)
    # Outside the repository a path stays absolute: it names somewhere only that machine has
    expected = f"lunarlander --output-dir docs/benchmarks --runs-dir=runs --output {tmp_path / 'out'}"
    assert command == f"python benchmarks/learning.py {expected}"
    # Allocator settings change the speed of a learning run as much as a throughput run's
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "4294967296")
    monkeypatch.setenv("GLIBC_TUNABLES", "glibc.malloc.mmap_threshold=33554432")
    command = command_line("benchmarks/learning.py", ["spaceinvaders_10m"])
    tunables = "GLIBC_TUNABLES=glibc.malloc.mmap_threshold=33554432"
    assert command == f"{tunables} MALLOC_TRIM_THRESHOLD_=4294967296 python benchmarks/learning.py spaceinvaders_10m"


def _breakout_results(directory: Path, a2c_plus: float, a2c: float, seeds: tuple[int, ...] = (0, 1)) -> None:
    from benchmarks.learning import FIELDS

    rows = [
        dict(experiment="breakout", config=config, algo=config, env="BreakoutNoFrameskip-v4", seed=seed)
        | dict(n_timesteps=500_000, eval_mean=score + seed / 10, eval_std=1.0, eval_episodes=30)
        | dict(last_100_train_mean=score, train_seconds=1.0, fps=1.0, log_dir="")
        for config, score in (("a2c_plus", a2c_plus), ("a2c", a2c))
        for seed in seeds
    ]
    write_csv(directory / "breakout.csv", FIELDS, rows)


def test_report_names_the_runs_a_table_lacks_and_why_it_has_no_curve(tmp_path):
    _breakout_results(tmp_path, 12.0, 8.0)
    report = _report(tmp_path)
    # Seeds 0 and 1 of the experiment's three: the table names what each config lacks
    assert "*Not run yet: a2c_plus seed 2, a2c seed 2 (`python benchmarks/learning.py breakout` resumes).*" in report
    # No curves file: the header says which runs lack a curve, and why
    assert "curves: none. No learning curve for a2c_plus seeds 0, 1, a2c seeds 0, 1: their training logs are gone" in report
    assert "| a2c_plus | 2 | 12.1 ± 0.0 | 12.1 | 12.0, 12.1 | 12.0 ± 0.0 | 12.0 | 12.0, 12.0 | 1 |" in report


def test_atari_contenders_keep_the_separate_heads_their_rows_ran_and_spaceinvaders_runs_the_entry_too():
    # ... at 500k steps and at 10M
    from benchmarks.registry import ATARI_ABLATIONS, EXPERIMENTS

    for name in ("spaceinvaders", "breakout", "breakout_1m", "spaceinvaders_10m"):
        assert EXPERIMENTS[name].configs["a2c_plus"] == ATARI_ABLATIONS["a2c_plus"]
        assert "head_layout" not in EXPERIMENTS[name].configs["a2c_plus"].hyperparams["policy_kwargs"]
    for name in ("spaceinvaders", "spaceinvaders_10m"):
        assert EXPERIMENTS[name].configs["a2c_plus_shared_heads"] == ATARI_ABLATIONS["shared_heads"]


def test_report_derives_the_learning_speed_table_from_the_curves(tmp_path):
    _breakout_results(tmp_path, 12.0, 8.0)  # seeds 0 and 1, 500k steps

    def write_curves(points: list[tuple[str, int, int, float]]) -> None:
        with open(tmp_path / "breakout_curves.csv", "w", newline="") as file:
            writer = csv.writer(file)
            writer.writerow(["config", "seed", "timesteps", "return", "axis"])
            writer.writerows([*point, "agent steps"] for point in points)

    a2c_plus = [("a2c_plus", 0, 50_000, 1.0), ("a2c_plus", 0, 150_000, 3.0), ("a2c_plus", 0, 450_000, 5.0)]
    a2c_plus += [("a2c_plus", 1, 50_000, 3.0), ("a2c_plus", 1, 150_000, 5.0), ("a2c_plus", 1, 500_000, 7.0)]
    write_curves([*a2c_plus, ("a2c", 0, 100_000, 1.0), ("a2c", 0, 450_000, 3.0)])  # a2c seed 1 has no curve
    section = _report(tmp_path).split("### Breakout\n")[1].split("###")[0]
    spans = "whole run | 0-100k | 100k-200k | 200k-300k | 300k-400k | 400k-500k"
    assert f"| config | seeds with a curve | {spans} | whole run above `a2c` (seeds where both have a curve) |" in section
    # Per seed, the mean of its points in a span (a point at a span's end belongs to it); then over seeds
    assert "| a2c_plus | 0, 1 | 4.0 ± 1.0 | 2.0 ± 1.0 | 4.0 ± 1.0 | – | – | 6.0 ± 1.0 | 1 of 1 |" in section
    assert "| a2c | 0 | 2.0 | 1.0 | – | – | – | 3.0 | – |" in section
    # Without SB3's A2C (as in the ablations) there is nothing to compare with, and no column for it
    write_curves([*a2c_plus, *[("no_batch_norm", *point[1:]) for point in a2c_plus]])
    section = _report(tmp_path).split("### Breakout\n")[1].split("###")[0]
    table = f"| config | seeds with a curve | {spans} |\n|---|---|{'---|' * 6}\n"
    assert table + "| a2c_plus | 0, 1 | 4.0 ± 1.0 | 2.0 ± 1.0 | 4.0 ± 1.0 | – | – | 6.0 ± 1.0 |\n" in section
    assert "| no_batch_norm | 0, 1 | 4.0 ± 1.0 | 2.0 ± 1.0 | 4.0 ± 1.0 | – | – | 6.0 ± 1.0 |" in section
    # One config's curves compare nothing: no table
    write_curves(a2c_plus)
    assert "Learning speed, from the curves" not in _report(tmp_path)


def test_report_names_each_runs_commit_and_date_where_the_rows_record_them(tmp_path):
    from benchmarks.learning import FIELDS

    environment = dict(cores="2", commit="ccc", date="2026-01-03")
    (tmp_path / "breakout.json").write_text(json.dumps(dict(commands=["first", "second"], environment=environment)))
    header = "budget 500,000 steps, seeds [0, 1], torch threads 2, `subproc` vectorisation. Commands: `first`, `second`. "
    _breakout_results(tmp_path, 12.0, 8.0)
    assert header + "Machine: cores 2, commit ccc, date 2026-01-03 (commit and date of the last command)." in _report(tmp_path)

    with open(tmp_path / "breakout.csv", newline="") as file:
        rows = list(csv.DictReader(file))
    for row, (commit, date) in zip(rows, [("", ""), ("bbb", "2026-01-02"), ("aaa", "2026-01-01"), ("aaa", "2026-01-01")]):
        row.update(commit=commit, date=date)
    write_csv(tmp_path / "breakout.csv", FIELDS, rows)
    provenance = "commit aaa on 2026-01-01 (2 runs); commit bbb on 2026-01-02 (1 run); not recorded for 1 earlier run"
    assert f"{header}Machine: cores 2. Runs by commit and date: {provenance}. Raw results: " in _report(tmp_path)


def test_throughput_keeps_the_runs_measured_before_an_interruption(tmp_path, monkeypatch):
    import sys

    from benchmarks import throughput

    row = dict(env="x", n_envs=2, threads=1, run="env_only_native", steps=200, seconds=0.1, steps_per_second=2000.0)
    row |= dict(env_seconds=0.1, inference_seconds=0.0, update_seconds=0.0, peak_rss_mb=1.0)
    workers = iter([subprocess.CompletedProcess([], 0, stdout=json.dumps(row) + "\n")])
    real_run = subprocess.run

    def run_or_measure(command, *args, **kwargs):
        if "--worker" not in command:  # git, for the commit in the JSON file
            return real_run(command, *args, **kwargs)
        try:
            return next(workers)
        except StopIteration:  # the second run never ends: a time limit stops the benchmark
            raise KeyboardInterrupt from None

    monkeypatch.setattr(subprocess, "run", run_or_measure)
    arguments = ["--runs", "env_only_native", "env_only_raw", "--n-envs", "2", "--threads", "1", "--pairs", "1"]
    monkeypatch.setattr(sys, "argv", ["throughput.py", *arguments, "--output", str(tmp_path / "partial")])
    with pytest.raises(KeyboardInterrupt):
        throughput.main()
    (saved,) = _rows(tmp_path / "partial.csv")
    assert saved["run"] == "env_only_native" and float(saved["steps_per_second"]) == 2000.0
    assert "--runs env_only_native env_only_raw" in json.loads((tmp_path / "partial.json").read_text())["command"]


def test_atari_ablations_keep_the_heads_they_ran(tmp_path):
    from stable_baselines3.common.sb2_compat.rmsprop_tf_like import RMSpropTFLike

    from benchmarks.common import zoo_experiment
    from benchmarks.registry import A2C_PLUS_ENTRIES, ATARI_ABLATIONS

    wide_layers = {}
    for name in ("a2c_plus", "shared_heads"):
        _, model = zoo_experiment(
            "a2c_plus", "SpaceInvadersNoFrameskip-v4", seed=0, n_timesteps=100, log_folder=tmp_path / name,
            hyperparams={**ATARI_ABLATIONS[name].hyperparams, "n_envs": 2},
        )  # fmt: skip
        assert isinstance(model.policy.optimizer, RMSpropTFLike) and model.n_envs == 2  # the rest of the entry
        wide_layers[name] = [
            module for module in model.policy.modules() if isinstance(module, th.nn.Linear) and module.in_features == 3136
        ]
        model.get_env().close()
    # The ablations' baseline: the actor's and the critic's own 3136x512 hidden layers, as their rows ran
    assert [layer.out_features for layer in wide_layers["a2c_plus"]] == [512, 512]
    # The former `atari` entry, pinned: one, shared; the rest of it (16 envs, 5 steps) restated, not the entry's now
    assert [layer.out_features for layer in wide_layers["shared_heads"]] == [512]
    assert ATARI_ABLATIONS["shared_heads"].hyperparams["n_steps"] == 5 != A2C_PLUS_ENTRIES["atari"]["n_steps"]


def test_report_lists_each_study_and_its_best_trials(tmp_path):
    trials = [dict(number=0, value=-20.5, state="PRUNED"), dict(number=1, value=185.0, state="COMPLETE")]
    write_csv(tmp_path / "tune_lunarlander_normalized.csv", ["number", "value", "state"], trials)
    report = _report(tmp_path)
    second = report.split("### A second study, around the normalised entry")[1].split("###")[0]
    command = "`python benchmarks/tune.py tune_lunarlander_normalized`"
    assert f"500,000 steps per trial, 2 workers on one study: {command} (all trials: " in second
    assert "2 trials: 1 complete, 1 pruned, 0 failed" in second
    assert second.index("| 1 | 185.0 | complete |") < second.index("| 0 | -20.5 | pruned |")
    assert "| trial | value (mean return of one evaluation, deterministic actions) | state |" in second
    assert "*Not run yet: `python benchmarks/tune.py tune_lunarlander`.*" in report
    # A study that ranks by sampled actions (deterministic_eval:False) says so
    write_csv(tmp_path / "tune_lunarlander_faithful.csv", ["number", "value", "state"], trials)
    faithful = _report(tmp_path).split("### A study from the notebook's working configuration")[1].split("###")[0]
    assert "| trial | value (mean return of one evaluation, sampled actions) | state |" in faithful


def test_tune_runs_each_phase_of_a_study_with_its_enqueued_trials(tmp_path, monkeypatch):
    from benchmarks import tune

    assert set(tune.STUDIES) == {
        "tune_lunarlander",
        "tune_lunarlander_normalized",
        "tune_lunarlander_refine",
        "tune_lunarlander_faithful",
    }
    # Enqueued trials of the studies before the sampler took up policy_loss_scale and the rest pin those as they ran
    assert all(
        trial["policy_loss_scale"] == 1.0 for trial in tune.enqueued_trials(tune.STUDIES["tune_lunarlander"]["phases"][1])
    )
    refine = tune.enqueued_trials(tune.STUDIES["tune_lunarlander_refine"]["phases"][0])
    assert len(refine) == 12 and refine[9]["ent_coef"] == 1e-4 and refine[0]["ent_coef"] == 1.8624405121307026e-06
    # One phase of two enqueued trials, then a sampled one per worker: one worker, then two on the same study
    base = tune.enqueued_trials(tune.STUDIES["tune_lunarlander"]["phases"][1])[0] | {"n_steps": 8, "head_width": 64}
    small = dict(workers=1, n_trials=2, pruner="none", n_startup_trials=0, eval_episodes=2, seed=0)
    small |= dict(enqueue=dict(base=base, changes=[{}, {"learning_rate": 1e-3}]))
    study = dict(env="CartPole-v1", n_timesteps=400, storage="sqlite:///study.db", study_name="small", phases=[small])
    study["phases"] = [small, small | dict(workers=2, n_trials=1, seed=1, enqueue=None)]
    monkeypatch.setitem(tune.STUDIES, "small", study | dict(hyperparams=["n_envs:2"]))
    monkeypatch.setattr(tune, "FIRST_WORKER_START_SECONDS", 5.0)
    output = tune.run_study("small", tmp_path / "runs", tmp_path)
    # The last worker's report lists the study's every trial: both phases', both workers'
    trials = _rows(output)
    assert [trial["state"] for trial in trials] == ["COMPLETE"] * 4
    assert [float(trial["params_learning_rate"]) for trial in trials[:2]] == [8.3e-4, 1e-3]
    assert all(trial["params_n_steps"] == "8" for trial in trials[:2])


def test_report_template_has_one_marker_for_each_generator_and_nothing_else(tmp_path):
    from benchmarks import report

    template = report.TEMPLATE.read_text()
    makers = report.generators()
    assert sorted(report.check_template(template, makers), key=str) == sorted(makers, key=str)
    marker = "<!-- learning: lunarlander -->"
    for broken, problem in [
        (template.replace(marker, ""), f"no marker {marker} for it in the template"),
        (template + "\n<!-- learning: pong -->\n", "unknown marker <!-- learning: pong -->"),
        (template + "\n<!-- references -->\n", "marker <!-- references --> used 2 times"),
        (template + "\nSee <!-- References -->.\n", "not a marker (line "),
    ]:
        with pytest.raises(ValueError, match=re.escape(problem)):
            report.check_template(broken, makers)
    # The script stops before writing anything
    (tmp_path / "template.md").write_text(template.replace(marker, ""))
    command = [sys.executable, str(BENCHMARKS / "report.py"), "--template", str(tmp_path / "template.md")]
    failed = subprocess.run([*command, "--output", str(tmp_path / "report.md")], capture_output=True, text=True)
    assert failed.returncode != 0 and f"no marker {marker}" in failed.stderr
    assert not (tmp_path / "report.md").exists()


def test_curves_of_runs_whose_logs_are_gone_are_kept(tmp_path):
    from benchmarks.learning import _curves
    from benchmarks.registry import EXPERIMENTS

    # seed 0's logs exist: its curve is computed again; seed 1's are gone: its earlier curve stays
    log_dir = tmp_path / "cartpole" / "a2c" / "seed_0"
    log_dir.mkdir(parents=True)
    episodes = "\n".join(f"{episode},100,{episode}" for episode in range(40))
    (log_dir / "0.monitor.csv").write_text(f'#{{"t_start": 0, "env_id": "CartPole-v1"}}\nr,l,t\n{episodes}\n')
    previous = [{"config": "a2c", "seed": seed, "timesteps": "2000", "return": "-1.0"} for seed in ("0", "1", "2")]
    results = [
        {"config": "a2c", "seed": "0", "log_dir": "cartpole/a2c/seed_0"},
        {"config": "a2c", "seed": "1", "log_dir": "cartpole/a2c/seed_1"},
    ]
    curves = _curves(EXPERIMENTS["cartpole"], results, 4000, tmp_path, previous)

    computed = [row for row in curves if row["seed"] == "0"]
    # Episode k (return k, 100 steps) ends at step 100 (k + 1); the mean of the last 20 returns there is k - 9.5
    assert computed[-1] == {"config": "a2c", "seed": "0", "timesteps": 4000, "return": 29.5, "axis": "agent steps"}
    assert all(row["return"] >= 9.5 for row in computed)
    kept = [row for row in curves if row["seed"] != "0"]
    assert kept == [{"config": "a2c", "seed": "1", "timesteps": 2000, "return": -1.0, "axis": "agent steps"}]


def test_atari_curves_count_agent_steps_not_emulator_frames(tmp_path):
    from benchmarks.learning import _curves
    from benchmarks.registry import EXPERIMENTS

    # 200 games of 4,400 frames (Monitor sits under the frame skip) in a run of 200,000 agent steps
    log_dir = tmp_path / "breakout" / "a2c" / "seed_0"
    log_dir.mkdir(parents=True)
    episodes = "\n".join(f"{episode},4400,{episode}" for episode in range(200))
    (log_dir / "0.monitor.csv").write_text(f'#{{"t_start": 0, "env_id": "BreakoutNoFrameskip-v4"}}\nr,l,t\n{episodes}\n')
    results = [
        {"config": "a2c", "seed": "0", "log_dir": "breakout/a2c/seed_0", "n_timesteps": "200000"},
        {"config": "a2c", "seed": "1", "log_dir": "breakout/a2c/seed_1", "n_timesteps": "200000"},
        {"config": "a2c", "seed": "2", "log_dir": "breakout/a2c/seed_2", "n_timesteps": "200000"},
    ]
    # Seeds 1 and 2 have no logs left: seed 2's curve predates the axis column, so it counted frames
    previous = [
        {"config": "a2c", "seed": "1", "timesteps": "8000", "return": "1.0", "axis": "agent steps"},
        {"config": "a2c", "seed": "2", "timesteps": "8000", "return": "1.0"},
    ]
    curves = _curves(EXPERIMENTS["breakout"], results, 200_000, tmp_path, previous)

    computed = [row for row in curves if row["seed"] == "0"]
    # On the step axis game k ends at step 1,000 (k + 1); the last 100 games' mean there is k - 49.5
    assert computed[0] == {"config": "a2c", "seed": "0", "timesteps": 100_000, "return": 49.5, "axis": "agent steps"}
    assert computed[-1]["timesteps"] == 200_000 and computed[-1]["return"] == 149.5
    assert [row["seed"] for row in curves if row["seed"] != "0"] == ["1"]


def test_source_commit_is_dirty_for_code_changes_only(tmp_path, monkeypatch):
    from benchmarks import common

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=tmp_path, capture_output=True, text=True, check=True).stdout.strip()

    for path in ("benchmarks/learning.py", "benchmarks/report.py", "sb3_a2c_plus/a2c_plus.py"):
        (tmp_path / path).parent.mkdir(exist_ok=True)
        (tmp_path / path).write_text("")
    git("init", "-q")
    git("add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "code")
    monkeypatch.setattr(common, "REPO_ROOT", tmp_path)
    head = git("rev-parse", "--short", "HEAD")

    # The report only renders figures: editing it leaves them the clean commit's
    (tmp_path / "benchmarks/report.py").write_text("# edited")
    assert common.source_commit() == head
    for path in ("benchmarks/learning.py", "sb3_a2c_plus/a2c_plus.py"):
        (tmp_path / path).write_text("# edited")
        assert common.source_commit() == f"{head}-dirty"
        git("checkout", "--", path)


def test_experiments_are_data_that_keep_what_their_rows_ran():
    from benchmarks.registry import ADAM_VARIANTS, ENTRY_VARIANTS, EXPERIMENTS, REGISTRY

    # Variants of an entry restate its policy_kwargs literally: a later change of the entry leaves them as they ran
    narrow = ENTRY_VARIANTS["entry_heads_256"].hyperparams["policy_kwargs"]
    assert "pi=[256, 256], vf=[256, 256]" in narrow and "512" not in narrow
    adam = ADAM_VARIANTS["entry_adam"].hyperparams["policy_kwargs"]
    assert "optimizer_class=th.optim.Adam" in adam and "RMSpropTFLike" not in adam
    # `shared` holds what the experiments merge; every other entry is one
    assert list(EXPERIMENTS) == [name for name in REGISTRY if name != "shared"]
    # A merge (`<<: *trial_13`) takes the anchor's settings, in their order, and overrides one in place
    trial_13 = EXPERIMENTS["lunarlander_normalized_candidates"].configs["trial_13"].hyperparams
    variant = EXPERIMENTS["lunarlander_trial_13_variants"].configs["trial_13_ent_1e-4"].hyperparams
    assert list(variant) == list(trial_13) and [key for key in trial_13 if trial_13[key] != variant[key]] == ["ent_coef"]
    assert variant["ent_coef"] == 1e-4  # a float (`!!float`): YAML 1.1 reads a bare 1e-4 as a string


class _Interrupted(Exception):
    """Stands for a run stopped part-way: the end of a session, a lent machine handed back."""


def test_a_checkpointed_run_stopped_part_way_resumes_from_its_last_checkpoint(tmp_path, monkeypatch):
    from benchmarks import learning
    from benchmarks.registry import Config, Experiment
    from sb3_a2c_plus import A2CPlus

    experiment = Experiment("CartPole-v1", 2_000, (0,), {"a2c_plus": Config("a2c_plus")}, "deterministic", 2)
    monkeypatch.setitem(learning.EXPERIMENTS, "resumable", replace(experiment, checkpoint_every=500, curve_window=5))
    folder = tmp_path / "resumable" / "a2c_plus" / "seed_0"
    # Progress of an earlier run of this config and seed, whose checkpoint is gone, and of another config
    earlier = [dict(config=config, seed=0, timesteps=9_999) for config in ("a2c_plus", "other")]
    write_csv(tmp_path / "resumable_progress.csv", checkpoints.PROGRESS_FIELDS, earlier)
    save = checkpoints.RunCheckpoint.save

    def save_then_stop(callback):
        save(callback)
        raise _Interrupted

    monkeypatch.setattr(checkpoints.RunCheckpoint, "save", save_then_stop)
    with pytest.raises(_Interrupted):
        learning.run_one("resumable", "a2c_plus", 0, 2_000, tmp_path, tmp_path)
    monkeypatch.undo()
    monkeypatch.setitem(learning.EXPERIMENTS, "resumable", replace(experiment, checkpoint_every=500, curve_window=5))
    state = json.loads((folder / checkpoints.STATE).read_text())
    rollout = 8 * A2CPlus.load(folder / checkpoints.CHECKPOINT).n_steps  # 8 envs in a2c_plus.yml
    every = -(-500 // rollout) * rollout  # saved as the first rollout from 500 steps on starts
    assert state["num_timesteps"] == every and len(state["segments"]) == 1
    assert checkpoints.saved_steps(folder) == every  # what the command says as it goes on
    saved = A2CPlus.load(folder / checkpoints.CHECKPOINT)
    saved_weights = [parameter.detach().clone() for parameter in saved.policy.parameters()]

    resumed = {}
    resume = checkpoints.resume

    def spy(model, *args):
        state = resume(model, *args)
        resumed.update(num_timesteps=model.num_timesteps, episodes=list(model.ep_info_buffer))
        resumed["weights"] = [parameter.detach().clone() for parameter in model.policy.parameters()]
        return state

    monkeypatch.setattr(checkpoints, "resume", spy)
    row = learning.run_one("resumable", "a2c_plus", 0, 2_000, tmp_path, tmp_path)
    assert resumed["num_timesteps"] == state["num_timesteps"]
    assert all((mine == its).all() for mine, its in zip(resumed["weights"], saved_weights, strict=True))
    assert resumed["episodes"] == list(saved.ep_info_buffer) != []
    assert row["n_timesteps"] == 2_000
    first, second = row["log_dir"].split(learning.LOG_DIR_SEPARATOR)
    assert first == state["segments"][0]["log_dir"] != second and (tmp_path / second / "0.monitor.csv").is_file()
    assert A2CPlus.load(tmp_path / second / "CartPole-v1.zip").num_timesteps == 2_000  # the final model
    # The curve runs over both segments' episodes: further than either segment's steps alone
    curves = learning._curves(learning.EXPERIMENTS["resumable"], [row], 2_000, tmp_path, [])
    assert curves[-1]["timesteps"] > max(state["num_timesteps"], 2_000 - state["num_timesteps"])

    # A checkpoint of other hyperparameters is never trained on under these
    other = replace(experiment, configs={"a2c_plus": Config("a2c_plus", {"ent_coef": 0.5})}, checkpoint_every=500)
    monkeypatch.setitem(learning.EXPERIMENTS, "resumable", other)
    with pytest.raises(ValueError, match="other hyperparameters"):
        learning.run_one("resumable", "a2c_plus", 0, 2_000, tmp_path, tmp_path)

    # Each checkpoint, in either segment, recorded the run's progress (the earlier run's row went as it started)
    progress = [point for point in _rows(tmp_path / "resumable_progress.csv") if point["config"] == "a2c_plus"]
    assert [int(point["timesteps"]) for point in progress] == list(range(every, 2_000, every))
    assert all(float(point["last_100_train_mean"]) > 0 and point["seed"] == "0" for point in progress)
    # Finished, the run keeps its progress rows; a new run of the same config and seed clears them
    checkpoints.clear(folder)
    assert not list(folder.glob("*.*")) and checkpoints.saved_steps(folder) is None
    assert len(_rows(tmp_path / "resumable_progress.csv")) == len(progress) + 1
    checkpoints.clear(folder, learning._progress(tmp_path, "resumable", "a2c_plus", 0))
    assert [point["config"] for point in _rows(tmp_path / "resumable_progress.csv")] == ["other"]


def test_checkpoints_record_the_training_diagnostics_logged_since_the_last_one(tmp_path):
    from stable_baselines3.common.logger import configure

    from benchmarks import checkpoints
    from sb3_a2c_plus import A2CPlus

    model = A2CPlus("MlpPolicy", "CartPole-v1", n_steps=5, seed=0)
    model.set_logger(configure(str(tmp_path / "log"), ["csv"]))
    progress = tmp_path / "x_progress.csv"
    # A progress file from before the diagnostics: its header gains them, its rows stay
    write_csv(progress, checkpoints.PROGRESS_FIELDS[:8], [dict(config="other", seed=1, timesteps=100)])
    segment = dict(log_dir="log", commit="abc1234", date="2026-12-07", machine="2 cores")
    state = {"segments": [segment], "train_seconds": 0.0}
    (tmp_path / "run").mkdir()
    callback = checkpoints.RunCheckpoint(tmp_path / "run", 50, state, (progress, {"config": "a2c_plus", "seed": 0}))
    model.learn(200, callback=callback, log_interval=2)  # a logged row every 10 steps, a checkpoint every 50

    with open(progress, newline="") as file:
        assert csv.DictReader(file).fieldnames == checkpoints.PROGRESS_FIELDS
    other, *points = _rows(progress)
    assert (other["config"], other["timesteps"], other["grad_norm"]) == ("other", "100", "")
    assert [int(point["timesteps"]) for point in points] == [50, 100, 150]
    logged = _rows(tmp_path / "log" / "progress.csv")
    previous = 0
    for point in points:
        since = [row for row in logged if previous < int(row["time/total_timesteps"]) <= int(point["timesteps"])]
        assert len(since) == 5
        for name in checkpoints.DIAGNOSTICS:
            expected = np.mean([float(row[f"train/{name}"]) for row in since])
            assert float(point[name]) == pytest.approx(expected, abs=1e-4), name
        previous = int(point["timesteps"])
    assert len({point["grad_norm"] for point in points}) == 3  # each checkpoint its own span's


def test_report_shows_runs_under_way_and_weighs_the_10m_runs_against_the_references(tmp_path):
    from benchmarks.checkpoints import PROGRESS_FIELDS
    from benchmarks.learning import FIELDS

    machine = "2 cores, gpu none, torch 2.13.0+cpu"
    points = [
        dict(config="a2c_plus", seed=0, timesteps=step * 100_000, last_100_train_mean=200 + step)
        | dict(train_seconds=step * 180.0, commit="abc1234", date="2026-11-22", machine=machine)
        for step in range(1, 21)
    ]
    # The diagnostics from 1.1M steps on (rows before them have none): 0.1 more grad norm each checkpoint
    diagnostics = dict(clipped_share=0.5, inactive_units_pi=0.9, inactive_units_vf=0.25, entropy_loss=-1.5)
    diagnostics |= dict(explained_variance=0.8, value_mean=1.0, value_target_mean=1.25)
    for point in points[10:]:
        point |= diagnostics | dict(grad_norm=point["timesteps"] / 1_000_000)
    points[-1] |= dict(inactive_units_pi="", inactive_units_vf="")  # a policy whose units A2CPlus cannot watch
    write_csv(tmp_path / "spaceinvaders_10m_progress.csv", PROGRESS_FIELDS, points)
    references = [dict(experiment="spaceinvaders_10m", reference="notebook", evaluation=648, training="", source="000")]
    write_csv(tmp_path / "references.csv", ["experiment", "reference", "evaluation", "training", "source"], references)
    # No checkpoint committed: the run was lost with its machine, whatever its progress file says
    provenance = "abc1234 on 2026-11-22, 2 cores, gpu none, torch 2.13.0+cpu"
    lost = "lost with its machine (starts again from zero)"
    assert f"| a2c_plus | 0 | 2,000,000 | 220.0 | 1M: 210, 2M: 220 | 1.0 | {lost} | {provenance} |" in _report(tmp_path)
    not_finished = "| `a2c_plus` seed 0, here, not finished | – | 220.0 at 2,000,000 steps | section 2, runs not finished: "
    assert f"{not_finished}{lost} |" in _report(tmp_path)
    # Its checkpoint committed at 1.9M (the runs folder went on to 2M): it goes on from there
    committed = tmp_path / "checkpoints" / "spaceinvaders_10m" / "a2c_plus" / "seed_0"
    committed.mkdir(parents=True)
    (committed / checkpoints.STATE).write_text(json.dumps(dict(num_timesteps=1_900_000)))
    report = _report(tmp_path)
    going_on = "goes on from 1,900,000 steps"
    assert f"| a2c_plus | 0 | 2,000,000 | 220.0 | 1M: 210, 2M: 220 | 1.0 | {going_on} | {provenance} |" in report
    assert "*No run finished yet: `python benchmarks/learning.py spaceinvaders_10m`.*" in report
    against = report.split("## 4. Against the references")[1]
    assert "| notebook | 648 | – | 000 |" in against
    # Under way: where its latest checkpoint stands, never as a final score
    assert f"{not_finished}{going_on} |" in against
    # Its diagnostics per fifth of the 10M budget, over the checkpoints that recorded them (1.1M-2M: grad norms 1.1-2)
    diagnostics_row = "| a2c_plus | 0 | 0-2M | 10 | 1.55 | 50% | 90% | 25% | 1.50 | 0.80 | 1.00 / 1.25 |"
    assert diagnostics_row in report
    assert "| a2c_plus | 0 | 2M-4M |" not in report

    # Finished: the medians of its final evaluation and training episodes, and no longer under way
    run = dict(experiment="spaceinvaders_10m", config="a2c_plus", algo="a2c_plus", env="SpaceInvadersNoFrameskip-v4")
    run |= dict(n_timesteps=10_000_000, eval_std=100.0, eval_episodes=30, train_seconds=3600.0, fps=2778, log_dir="a;b")
    rows = [run | dict(seed=seed, eval_mean=score, last_100_train_mean=score - 50) for seed, score in ((0, 700.0), (1, 600.0))]
    write_csv(tmp_path / "spaceinvaders_10m.csv", FIELDS, rows)
    against = _report(tmp_path).split("## 4. Against the references")[1]
    assert "| `a2c_plus`, here | 650.0 (2 seeds) | 600.0 (2 seeds) | section 2 |" in against
    assert "not finished" not in against
    # No longer under way, its diagnostics along the way stay
    assert "Runs not finished yet" not in (report := _report(tmp_path)) and diagnostics_row in report
    # A single seed has no standard deviation over seeds to show
    write_csv(tmp_path / "spaceinvaders_10m.csv", FIELDS, rows[:1])
    assert "| a2c_plus | 1 | 700.0 | 700.0 | 700 | 650.0 | 650.0 | 650 | 2778 |" in _report(tmp_path)


def test_report_shows_the_hidden_units_measured_before_their_script_was_removed(tmp_path):
    from benchmarks.tables import HEADS_SCRIPT

    row = dict(config="a2c_plus", algo="a2c_plus", seed=0, n_timesteps=500000, layer="mlp_extractor.value_net.1")
    row |= dict(units=512, never_fire=1.0, active_per_state=0.0, step_to_lr=0.0, policy_entropy=1.3, uniform_entropy=1.3863)
    rows = [row | dict(commit="abc1234", date="2026-11-01"), row | dict(config="old", active_per_state="", step_to_lr="")]
    write_csv(tmp_path / "breakout_heads.csv", list(rows[0]), rows)
    meta = dict(commands=["python benchmarks/heads.py breakout"], games=8, steps=400, environment=dict(cores="2"))
    (tmp_path / "breakout_heads.json").write_text(json.dumps(meta))
    report = _report(tmp_path)
    assert (
        f"Hidden units that never fire while the model plays (`python benchmarks/heads.py breakout` ({HEADS_SCRIPT})" in report
    )
    assert "commit abc1234 on 2026-11-01 (1 run)" in report
    assert "| a2c_plus | 0 | 500,000 | `mlp_extractor.value_net.1` | 512 | 100.0% | 0.0% | 0 | 1.30 |" in report
    assert "| old | 0 | 500,000 | `mlp_extractor.value_net.1` | 512 | 100.0% | – | – | 1.30 |" in report


def test_report_shows_the_batch_norm_probe_recorded_before_its_script_was_removed(tmp_path):
    from benchmarks.report import BATCH_NORM_PROBE

    rows = [
        dict(timesteps=step, kl_rollout_to_step=0.01, kl_step=0.2, policy_entropy=1.5, surrogate_gain=step - 30)
        for step in range(10, 110, 20)
    ]
    meta = dict(command="python benchmarks/batch_norm.py --n-timesteps 100", env="SpaceInvadersNoFrameskip-v4")
    meta |= dict(n_envs=2, seed=0, rollout_batch_norm="running", every=2, budget=100, environment=dict(cpus=2))
    write_csv(tmp_path / "batch_norm.csv", list(rows[0]), rows)
    (tmp_path / "batch_norm.json").write_text(json.dumps(meta))
    report = _report(tmp_path)
    assert f"`python benchmarks/batch_norm.py --n-timesteps 100` ({BATCH_NORM_PROBE})" in report
    assert "seed 0, `rollout_batch_norm='running'`), a 100-step run, probed every 2 updates" in report
    # Four spans of the run: the probes at 10 and 30 steps fall in the first two, 50 in the third, 70 and 90 after
    spans = [line for line in report.splitlines() if re.match(r"\| [\d,]+-[\d,]+ \| \d+ \| ", line)]
    assert [int(line.split(" | ")[1]) for line in spans] == [1, 1, 1, 2]
    assert all(" | 0.01 | 0.2 | 0.050 | " in line for line in spans)
    assert spans[0].endswith("| 0% | 1.50 |") and spans[-1].endswith("| 100% | 1.50 |")
