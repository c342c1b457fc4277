"""Optuna tuning of A2CPlus through the zoo: in memory, on files, and on a shared PostgreSQL server."""

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import optuna
import pytest
import yaml
from stable_baselines3.common.envs import FakeImageEnv
from stable_baselines3.common.sb2_compat.rmsprop_tf_like import RMSpropTFLike
from torch import nn

from sb3_a2c_plus import A2CPlus
from sb3_a2c_plus.zoo.hyperparams_opt import convert_a2c_plus_params, sample_a2c_plus_params
from tests.zoo import BIN_DIR, require, run

TUNE = ["-m", "rl_zoo3.train", "--algo", "a2c_plus", "--env", "CartPole-v1", "-optimize", "--n-evaluations", "1"]
SMALL_TRIALS = ["-n", "2000", "--eval-episodes", "2", "--no-optim-plots"]
POSTGRES_VARIABLE = "SB3_A2C_PLUS_TEST_POSTGRES"


def _finished_trials(output: str) -> list[int]:
    return [int(number) for number in re.findall(r"Trial (\d+) finished", output)]


def test_converter_for_vector_and_image_policies():
    common = dict(
        advantage_estimator="gae",
        n_steps=16,
        one_minus_gamma=0.01,
        learning_rate=1e-3,
        ent_coef=0.01,
        vf_coef=0.5,
        max_grad_norm=0.5,
        normalize_advantage=True,
        head_width=128,
        one_minus_gae_lambda=0.05,
    )
    # Trials stored before the later parameters were sampled keep what they ran
    vector = convert_a2c_plus_params({**common, "lr_schedule": "linear", "optimizer": "rmsprop", "activation_fn": "relu"})
    assert vector["learning_rate"] == "lin_0.001"
    assert vector["gamma"] == pytest.approx(0.99) and vector["gae_lambda"] == pytest.approx(0.95)
    assert (vector["vf_coef"], vector["ent_coef"], vector["max_grad_norm"], vector["grad_clip"]) == (0.5, 0.01, 0.5, "global")
    assert vector["policy_kwargs"]["net_arch"] == dict(pi=[128, 128], vf=[128, 128])
    assert vector["policy_kwargs"]["activation_fn"] is nn.ReLU
    assert vector["policy_kwargs"]["optimizer_kwargs"] == dict(alpha=0.99, eps=1e-5, weight_decay=0)
    assert (vector["policy_kwargs"]["head_layout"], vector["policy_kwargs"]["head_init"]) == ("separate", "orthogonal")

    image = convert_a2c_plus_params({**common, "lr_schedule": "constant", "optimizer": "rmsprop_tf", "batch_norm": False})
    assert image["learning_rate"] == 1e-3
    # A trial stored before head_layout was sampled ran separate heads
    assert image["policy_kwargs"]["net_arch"] == dict(pi=[128], vf=[128])
    assert image["policy_kwargs"]["head_layout"] == "separate"
    assert image["policy_kwargs"]["features_extractor_kwargs"] == dict(batch_norm=False)
    assert image["policy_kwargs"]["optimizer_class"] is RMSpropTFLike

    shared = convert_a2c_plus_params(
        {**common, "lr_schedule": "constant", "optimizer": "rmsprop_tf", "batch_norm": True, "head_layout": "shared"}
    )
    assert shared["policy_kwargs"]["net_arch"] == [128] and shared["policy_kwargs"]["head_layout"] == "shared"
    policy = A2CPlus("CnnPolicy", FakeImageEnv(), policy_kwargs=shared["policy_kwargs"]).policy
    assert policy.head_layout == "shared" and policy.mlp_extractor.latent_dim_pi == 128


def test_sampler_tries_both_head_layouts_and_builds_a_working_model():
    for policy, env in (("CnnPolicy", FakeImageEnv()), ("MlpPolicy", "CartPole-v1")):
        study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
        study.set_user_attr("policy", policy)  # as the zoo stores the experiment's defaults
        layouts = set()
        for _ in range(8):
            trial = study.ask()
            hyperparams = sample_a2c_plus_params(trial, n_actions=4, n_envs=8, additional_args={})
            assert hyperparams["policy_kwargs"]["head_layout"] == trial.params["head_layout"]
            layouts.add(trial.params["head_layout"])
        assert layouts == {"shared", "separate"}
        # The last trial's hyperparameters as the zoo passes them: a model that trains, its schedule a callable
        A2CPlus(policy, env, **{**hyperparams, "n_steps": 4}).learn(8)
        assert callable(hyperparams["learning_rate"])


def test_sampler_expresses_the_lunar_lander_notebook_faithful_config():
    from benchmarks.registry import NOTEBOOK_LUNAR_LANDER_FAITHFUL
    from benchmarks.tune import STUDIES, enqueued_trials
    from sb3_a2c_plus.zoo import linear_schedule_to_floor

    faithful = NOTEBOOK_LUNAR_LANDER_FAITHFUL.hyperparams
    # The notebook in the sampler's terms, as its study enqueues it: its loss sums the policy term over its batch of 40
    # (a scale of 40), Keras' RMSprop (rho 0.9, epsilon 1e-7), its learning rate from 8.3e-4 to 1e-4
    (notebook, *_) = enqueued_trials(STUDIES["tune_lunarlander_faithful"]["phases"][0])
    converted = convert_a2c_plus_params(notebook)
    for name in ("n_steps", "gamma", "advantage_estimator", "vf_coef", "ent_coef", "max_grad_norm", "grad_clip"):
        assert converted[name] == pytest.approx(faithful[name]), name
    assert converted["normalize_advantage"] is faithful["normalize_advantage"] is False
    expected = eval(faithful["policy_kwargs"])  # the zoo's config language
    policy_kwargs = converted["policy_kwargs"]
    assert policy_kwargs["optimizer_class"] is expected["optimizer_class"] is RMSpropTFLike
    for name in ("alpha", "eps"):
        assert policy_kwargs["optimizer_kwargs"][name] == pytest.approx(expected["optimizer_kwargs"][name], rel=1e-9)
    for name in ("net_arch", "head_layout", "activation_fn", "head_init"):
        assert policy_kwargs[name] == expected[name], name
    schedule = linear_schedule_to_floor(converted["learning_rate"])
    start, end = NOTEBOOK_LUNAR_LANDER_FAITHFUL.linear_learning_rate
    assert (schedule(1.0), schedule(0.5), schedule(0.0)) == pytest.approx((start, (start + end) / 2, end))


def test_the_zoo_evaluates_with_sampled_actions_when_told(tmp_path):
    from benchmarks.common import zoo_experiment

    def manager(**hyperparams):
        return zoo_experiment(
            "a2c_plus", "CartPole-v1", seed=0, n_timesteps=100, log_folder=tmp_path, hyperparams=hyperparams
        )[0]

    assert manager().deterministic_eval is True  # the zoo's default off Atari
    assert manager(deterministic_eval=False).deterministic_eval is False
    with pytest.raises(ValueError, match="deterministic_eval must be True or False, got 'no'"):
        manager(deterministic_eval="no")


def test_the_zoo_reads_a_linear_learning_rate_to_a_floor(tmp_path):
    from benchmarks.common import zoo_experiment

    hyperparams = dict(learning_rate="lin_1e-3_1e-4", n_envs=1)
    _, model = zoo_experiment("a2c_plus", "CartPole-v1", seed=0, n_timesteps=100, log_folder=tmp_path, hyperparams=hyperparams)
    assert (model.lr_schedule(1.0), model.lr_schedule(0.0)) == pytest.approx((1e-3, 1e-4))
    with pytest.raises(ValueError, match="learning_rate 'lin_fast_1e-4': 'lin_<start>_<end>' needs two numbers"):
        zoo_experiment(
            "a2c_plus",
            "CartPole-v1",
            seed=0,
            n_timesteps=100,
            log_folder=tmp_path,
            hyperparams={"learning_rate": "lin_fast_1e-4"},
        )


def test_tuning_in_memory_with_two_jobs(tmp_path):
    output = run([*TUNE, "--n-trials", "2", "--n-jobs", "2", *SMALL_TRIALS], tmp_path)
    assert "A new study created in memory" in output
    assert sorted(_finished_trials(output)) == [0, 1]
    assert list((tmp_path / "logs" / "a2c_plus").glob("report_CartPole-v1_2-trials-2000-*.csv"))


@pytest.mark.parametrize("storage", ["sqlite:///study.db", "journal/study.log"])
def test_tuning_on_file_storage_then_train_with_a_stored_trial(tmp_path, storage):
    run([*TUNE, "--n-trials", "2", "--storage", storage, "--study-name", "s1", *SMALL_TRIALS], tmp_path)
    output = run(
        [
            "-m",
            "rl_zoo3.train",
            "--algo",
            "a2c_plus",
            "--env",
            "CartPole-v1",
            "--storage",
            storage,
            "--study-name",
            "s1",
            "--trial-id",
            "1",
            "-n",
            "200",
            "--eval-freq",
            "-1",
        ],
        tmp_path,
    )
    assert "Loading from Optuna study" in output
    if storage.startswith("sqlite"):
        stored = optuna.load_study(study_name="s1", storage=f"sqlite:///{tmp_path / 'study.db'}").trials[1].params
    else:
        journal = optuna.storages.journal.JournalFileBackend(str(tmp_path / storage))
        stored = optuna.load_study(study_name="s1", storage=optuna.storages.JournalStorage(journal)).trials[1].params
    (config_file,) = (tmp_path / "logs" / "a2c_plus").glob("CartPole-v1_*/CartPole-v1/config.yml")
    config = dict(yaml.load(config_file.read_text(), Loader=yaml.UnsafeLoader))
    assert config["advantage_estimator"] == stored["advantage_estimator"]
    assert config["n_steps"] == stored["n_steps"]
    assert config["gamma"] == pytest.approx(1 - stored["one_minus_gamma"])


def _start_worker(tmp_path: Path, name: str, url: str, study: str, n_trials: int, n_timesteps: int) -> subprocess.Popen:
    command = [
        sys.executable,
        *TUNE,
        "--storage",
        url,
        "--study-name",
        study,
        "--n-trials",
        str(n_trials),
        "-n",
        str(n_timesteps),
        "--eval-episodes",
        "2",
        "--no-optim-plots",
        "--sampler",
        "random",
    ]
    env = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "SB3_A2C_PLUS_OPTUNA_HEARTBEAT": "1",
        "PATH": f"{BIN_DIR}:{os.environ['PATH']}",
    }
    # Own process group, so the kill takes the worker's evaluation subprocesses too
    with open(tmp_path / f"{name}.log", "w") as log:
        return subprocess.Popen(command, cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def _wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.5)


def test_two_workers_on_postgres_survive_a_killed_worker(tmp_path):
    url = os.environ.get(POSTGRES_VARIABLE, "")
    require(bool(url), f'a PostgreSQL server in ${POSTGRES_VARIABLE} (eval "$(.ci/start-postgres)")')
    study_name = f"two-workers-{uuid.uuid4().hex[:8]}"
    victim = _start_worker(tmp_path, "victim", url, study_name, n_trials=100, n_timesteps=6000)
    survivor = _start_worker(tmp_path, "survivor", url, study_name, n_trials=8, n_timesteps=3000)
    try:

        def trials_by_worker() -> dict[int, list[optuna.trial.FrozenTrial]]:
            try:
                trials = optuna.load_study(study_name=study_name, storage=url).trials
            except KeyError:  # the study is not created yet
                return {}
            by_pid: dict[int, list[optuna.trial.FrozenTrial]] = {}
            for trial in trials:
                if "worker" in trial.user_attrs:
                    by_pid.setdefault(int(trial.user_attrs["worker"].rsplit(":", 1)[1]), []).append(trial)
            return by_pid

        def victim_mid_trial_after_both_completed_one() -> bool:
            by_pid = trials_by_worker()
            completed = {pid for pid, trials in by_pid.items() if any(t.state.name == "COMPLETE" for t in trials)}
            running = [t for t in by_pid.get(victim.pid, []) if t.state.name == "RUNNING"]
            return {victim.pid, survivor.pid} <= completed and bool(running)

        _wait_for(victim_mid_trial_after_both_completed_one, timeout=240, what="both workers to complete a trial")
        os.killpg(victim.pid, signal.SIGKILL)
        victim.wait()
        # Read after the kill: the trial seen running may have finished before the signal landed (a loaded machine
        # between the poll and the kill), and then the victim died in its next one. The dead worker's trial stays
        # RUNNING until the survivor's heartbeat check marks it FAIL
        completed_before = {
            t.number: t.value for trials in trials_by_worker().values() for t in trials if t.state.name == "COMPLETE"
        }
        killed = [t.number for t in trials_by_worker()[victim.pid] if t.state.name in ("RUNNING", "FAIL")]
        assert len(killed) == 1, f"the victim's unfinished trials at its kill: {killed}"
        (killed_trial,) = killed

        assert survivor.wait(timeout=300) == 0, (tmp_path / "survivor.log").read_text()[-4000:]
    finally:
        for worker in (victim, survivor):
            if worker.poll() is None:
                os.killpg(worker.pid, signal.SIGKILL)

    trials = {t.number: t for t in optuna.load_study(study_name=study_name, storage=url).trials}
    # Completed trials are intact, the killed worker's trial is marked failed and was retried
    assert all(
        trials[number].state.name == "COMPLETE" and trials[number].value == value for number, value in completed_before.items()
    )
    assert trials[killed_trial].state.name == "FAIL"
    assert any(t.system_attrs.get("failed_trial") == killed_trial for t in trials.values())
    survivor_log = (tmp_path / "survivor.log").read_text()
    # All 8 of its trials ran to an end; the median pruner may stop one, depending on how the two workers interleave
    assert len(re.findall(r"Trial \d+ (?:finished|pruned)", survivor_log)) == 8
    assert "Number of finished trials" in survivor_log
