"""Environments shared by the tests."""

import gymnasium as gym
import numpy as np
from stable_baselines3.common.envs import FakeImageEnv

ATARI_ID = "SpaceInvadersNoFrameskip-v4"


def make_atari(**kwargs) -> gym.Env:
    """Make the test Atari game; registers ALE in whatever process calls it (SubprocVecEnv workers too)."""
    import ale_py

    gym.register_envs(ale_py)
    return gym.make(ATARI_ID, **kwargs)


class NaNWrapper(gym.Wrapper):
    """Returns NaN in place of the reward, or of the observation, from the given step on."""

    def __init__(self, env: gym.Env, target: str, from_step: int = 0) -> None:
        assert target in ("reward", "observation")
        super().__init__(env)
        self.target = target
        self.from_step = from_step
        self.n_steps = 0

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        self.n_steps += 1
        if self.n_steps > self.from_step:
            if self.target == "reward":
                reward = np.nan
            else:
                obs = np.full_like(obs, np.nan)
        return obs, reward, terminated, truncated, info


class SeededImageEnv(FakeImageEnv):
    """SB3's fake Atari screens, made reproducible by the seed, with a reward for action 0."""

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        if seed is not None:
            self.observation_space.seed(seed)
        return super().reset(seed=seed, options=options)

    def step(self, action):
        obs, _, terminated, truncated, info = super().step(action)
        return obs, float(action == 0), terminated, truncated, info


class ZooAlgosProbe(gym.Env):
    """Imports RL Zoo in whatever process builds it and reports whether it lists a2c_plus."""

    observation_space = gym.spaces.Box(-1.0, 1.0, (1,), dtype=np.float32)
    action_space = gym.spaces.Discrete(2)

    def __init__(self) -> None:
        from rl_zoo3.utils import ALGOS

        self.a2c_plus_registered = "a2c_plus" in ALGOS

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        return np.zeros(1, dtype=np.float32), {}

    def step(self, action):
        return np.zeros(1, dtype=np.float32), 0.0, True, False, {}


def one_rollout(model) -> tuple:
    """
    Collect one rollout of ``model`` (n_steps per env, no update), as a notebook's batch needs it: the
    buffer, and ``dones[t]``: step t ended an episode, i.e. observation t + 1 starts one. The rollout
    must cut some episodes and not others, so that both cases are compared.
    """
    n_steps = model.n_steps
    _, callback = model._setup_learn(total_timesteps=n_steps * model.n_envs, callback=None)
    assert model.collect_rollouts(model.env, callback, model.rollout_buffer, n_rollout_steps=n_steps)
    buffer = model.rollout_buffer
    dones = np.concatenate([buffer.episode_starts[1:], model._last_episode_starts[None].astype(np.float32)])
    assert 0 < dones.sum() < dones.size, "the batch must cut some episodes and not others"
    return buffer, dones
