"""
Run one Optuna study of benchmarks/studies.yml with RL Zoo's own tuning (``-optimize``) and the A2CPlus sampler,
its workers sharing one study in the study's storage (a SQLite file in benchmarks/runs/, where the logs go too).

    python benchmarks/tune.py tune_lunarlander_refine
    python benchmarks/tune.py --list

Each phase first enqueues its trials, then starts its workers, the first alone for a few seconds so that it
creates the study (or finds it) before the others load it. When the last phase ends, the zoo's report of the
last worker to finish, which lists every trial of the study, is copied to docs/benchmarks/<study>.csv: the
report's tuning sections read it.
"""

import argparse
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import RESULTS_DIR  # noqa: E402

STUDIES_FILE = Path(__file__).resolve().parent / "studies.yml"
# `shared` holds the settings that the studies merge: it is no study
STUDIES = {name: study for name, study in yaml.safe_load(STUDIES_FILE.read_text()).items() if name != "shared"}
RUNS_DIR = Path(__file__).resolve().parent / "runs"
FIRST_WORKER_START_SECONDS = 20.0


def zoo_command(name: str, study: dict[str, Any], phase: dict[str, Any], seed: int) -> list[str]:
    """One worker: ``rl_zoo3.train -optimize`` on the study, with the phase's trials, pruner and evaluation."""
    command = [sys.executable, "-m", "rl_zoo3.train", "--algo", "a2c_plus", "--env", study["env"], "-optimize"]
    command += ["-n", str(study["n_timesteps"]), "--n-evaluations", "5", "--sampler", "tpe", "--num-threads", "1"]
    command += ["--no-optim-plots", "--storage", study["storage"], "--study-name", study["study_name"]]
    command += ["-f", f"{name}_logs", "--seed", str(seed), "--n-trials", str(phase["n_trials"])]
    command += ["--pruner", phase["pruner"], "--n-startup-trials", str(phase["n_startup_trials"])]
    command += ["--eval-episodes", str(phase["eval_episodes"])]
    return command + (["--hyperparams", *study["hyperparams"]] if study.get("hyperparams") else [])


def enqueued_trials(phase: dict[str, Any]) -> list[dict[str, Any]]:
    """The trials a phase enqueues, in the sampler's terms: its base with each of its changes."""
    trials = phase.get("enqueue")
    return [{**trials["base"], **change} for change in trials["changes"]] if trials else []


def run_study(name: str, runs_dir: Path, output_dir: Path) -> Path:
    """Run every phase of study ``name``; returns where its trials were copied."""
    import optuna

    study = STUDIES[name]
    runs_dir.mkdir(parents=True, exist_ok=True)
    for number, phase in enumerate(study["phases"]):
        trials = enqueued_trials(phase)
        if trials:
            # The storage URL's path is relative to the runs folder, as the workers' is
            storage = study["storage"].replace("sqlite:///", f"sqlite:///{runs_dir}/", 1)
            optuna_study = optuna.create_study(
                study_name=study["study_name"], storage=storage, direction="maximize", load_if_exists=True
            )
            for trial in trials:
                optuna_study.enqueue_trial(trial)
        workers = []
        for worker in range(phase["workers"]):
            log = open(runs_dir / f"{name}_phase{number}_worker{worker}.log", "w")
            command = zoo_command(name, study, phase, phase["seed"] + worker)
            workers.append(subprocess.Popen(command, cwd=runs_dir, stdout=log, stderr=subprocess.STDOUT))
            if worker == 0 and phase["workers"] > 1:
                time.sleep(FIRST_WORKER_START_SECONDS)
        failed = [worker for worker, process in enumerate(workers) if process.wait() != 0]
        if failed:
            sys.exit(f"{name}: phase {number}, workers {failed} failed: see {runs_dir}/{name}_phase{number}_worker*.log")
    reports = sorted(
        (runs_dir / f"{name}_logs" / "a2c_plus").glob(f"report_{study['env']}_*.csv"), key=lambda p: p.stat().st_mtime
    )
    output = output_dir / f"{name}.csv"
    output.write_text(reports[-1].read_text())
    return output


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("study", nargs="?", choices=list(STUDIES), help="the study of benchmarks/studies.yml to run")
    parser.add_argument("--list", action="store_true", help="list the studies and the trials each phase enqueues")
    parser.add_argument("--runs-dir", type=Path, default=RUNS_DIR, help="where the storage and the logs go")
    parser.add_argument("--output-dir", type=Path, default=RESULTS_DIR)
    args = parser.parse_args()
    if args.list or not args.study:
        for name, study in STUDIES.items():
            phases = ", ".join(
                f"{len(enqueued_trials(phase))} enqueued + {phase['workers']} x {phase['n_trials']}"
                for phase in study["phases"]
            )
            print(f"{name}: {study['env']}, {study['n_timesteps']:,} steps per trial; phases: {phases}")
        return
    print(f"wrote {run_study(args.study, args.runs_dir.resolve(), args.output_dir)}")


if __name__ == "__main__":
    main()
