"""Releasing the idle threads of PyTorch's OpenMP runtime before games are emulated on the same cores."""

import os
import subprocess
import sys
import time

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv

from sb3_a2c_plus import A2CPlus
from sb3_a2c_plus.a2c_plus import rollout as rollout_module
from sb3_a2c_plus.common.openmp import KEEP_THREADS_VARIABLE, release_idle_threads
from sb3_a2c_plus.envs import AtariVecEnv
from sb3_a2c_plus.envs import native_atari as native_atari_module

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="threads are counted in /proc (Linux)")


def _thread_ids() -> set[str]:
    return set(os.listdir("/proc/self/task"))


def _gone_within(threads: set[str], seconds: float = 5.0) -> bool:
    # A thread that has exited may take a moment to leave the task list
    deadline = time.monotonic() + seconds
    while threads & _thread_ids() and time.monotonic() < deadline:
        time.sleep(0.01)
    return not threads & _thread_ids()


@pytest.fixture
def two_torch_threads():
    threads = th.get_num_threads()
    th.set_num_threads(2)
    yield
    th.set_num_threads(threads)


def _parallel_work() -> th.Tensor:
    """Work that PyTorch splits over its OpenMP threads, whose result is known exactly."""
    return (th.ones(2**22) * 2).sum()


def _openmp_workers() -> set[str]:
    """The worker threads that a parallel region starts once the runtime has none."""
    release_idle_threads()
    before = _thread_ids()
    _parallel_work()
    workers = _thread_ids() - before
    assert workers, "a parallel region on 2 threads started no OpenMP worker thread"
    return workers


def test_release_stops_the_idle_workers_and_the_next_region_starts_new_ones(two_torch_threads):
    workers = _openmp_workers()
    assert release_idle_threads()
    assert _gone_within(workers)
    before = _thread_ids()
    assert _parallel_work().item() == 2.0 * 2**22
    assert _thread_ids() - before, "the next parallel region ran without starting its workers again"


def test_native_env_releases_them_before_each_step(two_torch_threads):
    env = AtariVecEnv("SpaceInvadersNoFrameskip-v4", 2, seed=0, n_threads=1)
    env.reset()
    workers = _openmp_workers()
    env.step(np.zeros(2, dtype=np.int64))
    assert _gone_within(workers)
    env.close()


@pytest.mark.parametrize("vec_env_class, released", [(SubprocVecEnv, True), (DummyVecEnv, False)])
def test_a2c_plus_releases_them_before_stepping_games_in_other_processes(vec_env_class, released, monkeypatch):
    calls = []
    monkeypatch.setattr(rollout_module, "release_idle_threads", lambda: calls.append(True))
    env = vec_env_class([lambda: gym.make("CartPole-v1")] * 2)
    A2CPlus("MlpPolicy", env, n_steps=5, seed=0).learn(20)
    env.close()
    # 20 steps of 2 envs: 2 rollouts of 5 steps; envs stepped in this process keep the cores free anyway
    assert len(calls) == (10 if released else 0)


def test_the_environment_variable_keeps_the_threads():
    script = (
        "import os, torch as th\n"
        "from sb3_a2c_plus.common.openmp import release_idle_threads\n"
        "th.set_num_threads(2); (th.ones(2**22) * 2).sum()\n"
        "print(release_idle_threads())\n"
    )
    for value, expected in (("1", "False"), ("0", "True")):
        env = {**os.environ, KEEP_THREADS_VARIABLE: value}
        output = subprocess.run([sys.executable, "-c", script], env=env, check=True, capture_output=True, text=True)
        assert output.stdout.strip() == expected


def test_training_is_the_same_with_the_threads_released_or_spinning(two_torch_threads, monkeypatch):
    def train() -> dict[str, th.Tensor]:
        env = AtariVecEnv("SpaceInvadersNoFrameskip-v4", 2, seed=0, n_threads=1)
        model = A2CPlus("CnnPolicy", env, seed=0, policy_kwargs=dict(head_layout="shared")).learn(100)
        env.close()
        return model.policy.state_dict()

    calls = []
    monkeypatch.setattr(native_atari_module, "release_idle_threads", lambda: calls.append(release_idle_threads()))
    released = train()
    assert calls and all(calls)
    monkeypatch.setattr(native_atari_module, "release_idle_threads", lambda: False)
    spinning = train()
    assert released.keys() == spinning.keys()
    for name, tensor in released.items():
        assert th.equal(tensor, spinning[name]), name
