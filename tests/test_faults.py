"""Faults during training: a game worker killed or crashing, and a zoo run stopped with SIGTERM."""

import os
import signal
import subprocess
import time

import gymnasium as gym
import pytest
from stable_baselines3.common.callbacks import BaseCallback, CheckpointCallback
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import SubprocVecEnv

from sb3_a2c_plus import A2CPlus, EnvWorkerError
from tests.zoo import BIN_DIR


class CrashingCartPole(gym.Wrapper):
    """CartPole whose emulator raises after 30 steps, as a game that hits an error would."""

    def __init__(self, env: gym.Env) -> None:
        super().__init__(env)
        self.steps = 0

    def step(self, action):
        self.steps += 1
        if self.steps > 30:
            raise RuntimeError("the emulator failed")
        return self.env.step(action)


class KillWorker(BaseCallback):
    """Kills one worker with SIGKILL once training has taken ``at`` steps."""

    def __init__(self, index: int, at: int) -> None:
        super().__init__()
        self.index, self.at = index, at

    def _on_step(self) -> bool:
        if self.num_timesteps == self.at:
            os.kill(self.training_env.unwrapped.processes[self.index].pid, signal.SIGKILL)
        return True


def test_a_killed_worker_ends_learn_with_its_index_and_signal_and_keeps_the_checkpoint(tmp_path):
    env = make_vec_env("CartPole-v1", n_envs=3, vec_env_cls=SubprocVecEnv)
    model = A2CPlus("MlpPolicy", env, n_steps=5, seed=0)
    checkpoints = CheckpointCallback(save_freq=10, save_path=str(tmp_path), name_prefix="run")
    with pytest.raises(EnvWorkerError, match=r"env 1 \(pid \d+\) killed by SIGKILL"):
        model.learn(3 * 5 * 100, callback=[checkpoints, KillWorker(index=1, at=3 * 5 * 20)])
    saved = sorted(tmp_path.glob("run_*_steps.zip"))
    assert saved, "checkpoints were saved before the kill"
    A2CPlus.load(saved[-1])
    env.close()  # RL Zoo closes the env after learn(): nothing left to wait for


def test_a_worker_whose_env_raises_ends_learn_with_its_index(tmp_path):
    env = make_vec_env("CartPole-v1", n_envs=2, vec_env_cls=SubprocVecEnv, wrapper_class=CrashingCartPole)
    with pytest.raises(EnvWorkerError, match=r"env 0 \(pid \d+\) exited with code 1 \(an exception in its environment"):
        A2CPlus("MlpPolicy", env, n_steps=5).learn(1000)


@pytest.mark.parametrize(
    "env_id, options",
    [
        ("CartPole-v1", ["--vec-env", "subproc"]),
        ("SpaceInvadersNoFrameskip-v4", ["--hyperparams", "native_atari:True", "n_envs:2"]),
    ],
    ids=["subproc", "native_atari"],
)
def test_sigterm_stops_a_zoo_run_which_saves_its_model(tmp_path, env_id, options):
    command = [str(BIN_DIR / "python"), "-m", "rl_zoo3.train", "--algo", "a2c_plus", "--env", env_id, *options]
    command += ["-n", "10000000", "-f", str(tmp_path), "--seed", "0", "--log-interval", "1"]
    run = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = []
    for line in run.stdout:  # until the first update's log: training is under way
        output.append(line)
        if "n_updates" in line:
            break
    time.sleep(1.0)
    run.send_signal(signal.SIGTERM)
    output += run.stdout.readlines()
    assert run.wait(timeout=120) == 0, "".join(output)
    model_path = tmp_path / "a2c_plus" / f"{env_id}_1" / f"{env_id}.zip"
    assert model_path.exists(), "".join(output)
    assert A2CPlus.load(model_path).num_timesteps > 0
