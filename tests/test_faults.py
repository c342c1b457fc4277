"""Faults during training: a game worker killed or crashing, and a zoo run stopped with SIGTERM."""

import os
import signal
import subprocess
import threading
import time

import gymnasium as gym
import numpy as np
import pytest
from stable_baselines3.common.callbacks import BaseCallback, CheckpointCallback
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import SubprocVecEnv
from stable_baselines3.common.vec_env.subproc_vec_env import _stack_obs

from sb3_a2c_plus import A2CPlus, EnvWorkerError
from sb3_a2c_plus.envs import AtariVecEnv
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


class FailingEmulator(BaseCallback):
    """From step ``at`` on, ale_py's vector environment raises as a failing emulator would."""

    def __init__(self, at: int) -> None:
        super().__init__()
        self.at = at

    def _on_step(self) -> bool:
        if self.num_timesteps == self.at:
            games = self.training_env.unwrapped._games

            def recv():
                raise RuntimeError("emulator thread failed")

            games.recv = recv
        return True


def test_a_failing_native_emulator_ends_learn_with_a_clear_error_and_keeps_the_checkpoint(tmp_path):
    env = AtariVecEnv("SpaceInvadersNoFrameskip-v4", 2, seed=0)
    model = A2CPlus("CnnPolicy", env, n_steps=5, seed=0)
    checkpoints = CheckpointCallback(save_freq=10, save_path=str(tmp_path), name_prefix="run")
    with pytest.raises(EnvWorkerError, match=r"native Atari emulator failed .*2 games \(emulator thread failed\)"):
        model.learn(2 * 5 * 20, callback=[checkpoints, FailingEmulator(at=2 * 5 * 10)])
    saved = sorted(tmp_path.glob("run_*_steps.zip"))
    assert saved, "checkpoints were saved before the failure"
    A2CPlus.load(saved[-1])
    env.close()


def test_an_action_out_of_range_is_refused_before_it_reaches_the_native_emulator():
    # ale_py's threads drop such a step silently: the next recv() would wait for ever
    env = AtariVecEnv("SpaceInvadersNoFrameskip-v4", 2, seed=0)
    env.reset()
    with pytest.raises(ValueError, match=r"actions: env 1 got 99, not an action of this game \(0 to 5\)"):
        env.step(np.array([0, 99]))
    env.step(np.array([0, 5]))  # still usable
    env.close()


class SigtermBetweenReplies(SubprocVecEnv):
    """SubprocVecEnv that gets SIGTERM after reading its first worker's reply, before the others'."""

    def step_wait(self):
        results = [self.remotes[0].recv()]
        os.kill(os.getpid(), signal.SIGTERM)
        results += [remote.recv() for remote in self.remotes[1:]]
        self.waiting = False
        obs, rews, dones, infos, self.reset_infos = zip(*results, strict=True)
        return _stack_obs(obs, self.observation_space), np.stack(rews), np.stack(dones), infos


def test_sigterm_waits_for_the_env_step_so_the_env_can_still_be_closed():
    env = make_vec_env("CartPole-v1", n_envs=3, vec_env_cls=SigtermBetweenReplies)
    model = A2CPlus("MlpPolicy", env, n_steps=5, seed=0)
    with pytest.raises(KeyboardInterrupt, match="SIGTERM"):
        model.learn(1000)
    closing = threading.Thread(target=env.close, daemon=True)  # as RL Zoo does after the interrupt
    closing.start()
    closing.join(timeout=30)
    assert not closing.is_alive(), "close() waits on a reply that the interrupted step had already read"
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


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
    run = subprocess.Popen(
        command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    # a run that hangs fails the test instead of the CI job: its workers too, which hold the pipe open
    watchdog = threading.Timer(300, os.killpg, args=(run.pid, signal.SIGKILL))
    watchdog.start()
    output = []
    for line in run.stdout:  # until the first update's log: training is under way
        output.append(line)
        if "n_updates" in line:
            break
    time.sleep(1.0)
    run.send_signal(signal.SIGTERM)
    output += run.stdout.readlines()
    returncode = run.wait(timeout=120)
    watchdog.cancel()
    assert returncode == 0, "".join(output)
    model_path = tmp_path / "a2c_plus" / f"{env_id}_1" / f"{env_id}.zip"
    assert model_path.exists(), "".join(output)
    assert A2CPlus.load(model_path).num_timesteps > 0
