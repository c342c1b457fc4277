import gymnasium as gym
import numpy as np
import pytest
import torch as th
from gymnasium import spaces
from stable_baselines3.common.buffers import RolloutBuffer
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.utils import obs_as_tensor
from stable_baselines3.common.vec_env import DummyVecEnv

from sb3_a2c_plus import A2CPlus
from sb3_a2c_plus.common.returns import estimate_returns, gae_returns, nstep_returns

# One env, four steps; step 1 ends an episode (observation 2 starts a new one).
REWARDS = np.array([[1.0], [2.0], [3.0], [4.0]], dtype=np.float32)
VALUES = np.array([[0.5], [1.0], [1.5], [2.0]], dtype=np.float32)
EPISODE_STARTS = np.array([[1.0], [0.0], [1.0], [0.0]], dtype=np.float32)
LAST_VALUES = np.array([8.0], dtype=np.float32)


def test_nstep_targets_cut_at_episode_end_mid_rollout():
    advantages, returns = nstep_returns(REWARDS, VALUES, EPISODE_STARTS, LAST_VALUES, np.array([False]), gamma=0.5)
    # t=3: 4 + .5*8; t=2: 3 + .5*8; t=1: 2 (episode ends); t=0: 1 + .5*2
    np.testing.assert_allclose(returns[:, 0], [2.0, 2.0, 7.0, 8.0])
    np.testing.assert_allclose(advantages[:, 0], [1.5, 1.0, 5.5, 6.0])


def test_nstep_targets_do_not_bootstrap_after_final_done():
    _, returns = nstep_returns(REWARDS, VALUES, EPISODE_STARTS, LAST_VALUES, np.array([True]), gamma=0.5)
    # t=3: 4 (episode ends, V(s_T) unused); t=2: 3 + .5*4
    np.testing.assert_allclose(returns[:, 0], [2.0, 2.0, 5.0, 4.0])


def test_gae_by_hand():
    advantages, returns = gae_returns(
        REWARDS, VALUES, EPISODE_STARTS, LAST_VALUES, np.array([False]), gamma=0.5, gae_lambda=0.5
    )
    # deltas: t=3: 4 + .5*8 - 2 = 6; t=2: 3 + .5*2 - 1.5 = 2.5; t=1: 2 - 1 = 1; t=0: 1 + .5*1 - .5 = 1
    # advantages: 6; 2.5 + .25*6 = 4; 1 (cut); 1 + .25*1 = 1.25
    np.testing.assert_allclose(advantages[:, 0], [1.25, 1.0, 4.0, 6.0])
    np.testing.assert_allclose(returns[:, 0], [1.75, 2.0, 5.5, 8.0])


def test_nstep_several_envs():
    rewards = np.array([[1, 5, 0], [1, 0, 0], [1, 1, 3]], dtype=np.float32)
    episode_starts = np.array([[1, 1, 1], [0, 1, 0], [0, 0, 0]], dtype=np.float32)
    values = np.zeros_like(rewards)
    last_values = np.array([0.0, 2.0, 7.0], dtype=np.float32)
    last_dones = np.array([False, False, True])
    advantages, returns = nstep_returns(rewards, values, episode_starts, last_values, last_dones, gamma=0.9)
    expected = np.array(
        [
            # env 0: no episode end; env 1: episode ends at step 0; env 2: ends at the last step
            [1 + 0.9 * 1 + 0.81 * 1, 5, 0 + 0.9 * 0 + 0.81 * 3],
            [1 + 0.9 * 1, 0 + 0.9 * (1 + 0.9 * 2), 0 + 0.9 * 3],
            [1, 1 + 0.9 * 2, 3],
        ]
    )
    np.testing.assert_allclose(returns, expected, rtol=1e-6)
    np.testing.assert_allclose(advantages, expected, rtol=1e-6)


def _random_rollout(seed: int, n_steps: int = 32, n_envs: int = 6):
    rng = np.random.default_rng(seed)
    rewards = rng.normal(size=(n_steps, n_envs)).astype(np.float32)
    values = rng.normal(size=(n_steps, n_envs)).astype(np.float32)
    episode_starts = (rng.random((n_steps, n_envs)) < 0.15).astype(np.float32)
    last_values = rng.normal(size=n_envs).astype(np.float32)
    last_dones = rng.random(n_envs) < 0.3
    return rewards, values, episode_starts, last_values, last_dones


@pytest.mark.parametrize("seed", range(3))
def test_gae_with_lambda_one_equals_nstep(seed):
    data = _random_rollout(seed)
    gae_adv, gae_ret = gae_returns(*data, gamma=0.99, gae_lambda=1.0)
    nstep_adv, nstep_ret = nstep_returns(*data, gamma=0.99)
    np.testing.assert_allclose(gae_ret, nstep_ret, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(gae_adv, nstep_adv, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("estimator, gae_lambda", [("gae", 0.95), ("gae", 0.0), ("nstep", 1.0)])
def test_agrees_with_sb3_rollout_buffer(estimator, gae_lambda):
    rewards, values, episode_starts, last_values, last_dones = _random_rollout(seed=7)
    n_steps, n_envs = rewards.shape
    buffer = RolloutBuffer(
        n_steps, spaces.Box(-1, 1, (1,)), spaces.Discrete(2), device="cpu", gae_lambda=gae_lambda, gamma=0.97, n_envs=n_envs
    )
    for step in range(n_steps):
        buffer.add(
            np.zeros((n_envs, 1), dtype=np.float32),
            np.zeros((n_envs, 1)),
            rewards[step],
            episode_starts[step],
            th.as_tensor(values[step]),
            th.zeros(n_envs),
        )
    buffer.compute_returns_and_advantage(th.as_tensor(last_values), last_dones)

    advantages, returns = estimate_returns(
        estimator, rewards, values, episode_starts, last_values, last_dones, gamma=0.97, gae_lambda=gae_lambda
    )
    np.testing.assert_allclose(advantages, buffer.advantages, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(returns, buffer.returns, rtol=1e-5, atol=1e-5)


def test_unknown_estimator_is_rejected():
    with pytest.raises(ValueError, match=r"advantage_estimator must be one of \('nstep', 'gae'\)"):
        estimate_returns("td", *_random_rollout(0), gamma=0.99, gae_lambda=0.95)


def test_bootstrap_only_time_limit_truncations():
    model = A2CPlus("MlpPolicy", "CartPole-v1", gamma=0.9, n_steps=5, seed=0)
    truncated_obs, terminated_obs = np.full(4, 0.1, dtype=np.float32), np.full(4, -0.2, dtype=np.float32)
    infos = [
        {"terminal_observation": truncated_obs, "TimeLimit.truncated": True},
        {"terminal_observation": terminated_obs, "TimeLimit.truncated": False},
        {},
    ]
    rewards = np.ones(3, dtype=np.float32)
    model._bootstrap_truncated_episodes(rewards, np.array([True, True, False]), infos)

    with th.no_grad():
        truncated_value = model.policy.predict_values(obs_as_tensor(truncated_obs[None], model.device)).item()
    np.testing.assert_allclose(rewards, [1 + 0.9 * truncated_value, 1, 1], rtol=1e-6)


class _InfoRecorder(BaseCallback):
    def _init_callback(self) -> None:
        self.infos: list[list[dict]] = []

    def _on_step(self) -> bool:
        self.infos.append([dict(info) for info in self.locals["infos"]])
        return True


@pytest.mark.parametrize("estimator", ["nstep", "gae"])
def test_rollout_bootstraps_truncated_episode_from_terminal_observation(estimator):
    # CartPole cut by a 3-step time limit: step 2 is a truncation, never a true terminal state.
    env = DummyVecEnv([lambda: gym.make("CartPole-v1", max_episode_steps=3)])
    model = A2CPlus("MlpPolicy", env, n_steps=5, gamma=0.9, advantage_estimator=estimator, gae_lambda=1.0, seed=1)
    recorder = _InfoRecorder()
    model._setup_learn(total_timesteps=5, callback=None)
    recorder.init_callback(model)
    model.collect_rollouts(model.env, recorder, model.rollout_buffer, n_rollout_steps=5)

    info = recorder.infos[2][0]
    assert info["TimeLimit.truncated"]
    with th.no_grad():
        terminal_value = model.policy.predict_values(obs_as_tensor(info["terminal_observation"][None], model.device)).item()
    buffer = model.rollout_buffer
    assert buffer.rewards[2, 0] == pytest.approx(1 + 0.9 * terminal_value, rel=1e-6)
    # The target of step 0 stops at the truncation: r0 + g r1 + g^2 (r2 + g V(terminal_obs))
    assert buffer.returns[0, 0] == pytest.approx(1 + 0.9 + 0.81 * (1 + 0.9 * terminal_value), rel=1e-5)
