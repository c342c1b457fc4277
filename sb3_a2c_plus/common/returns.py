"""
Return and advantage estimators for A2CPlus.

All arrays are laid out as in SB3's ``RolloutBuffer``: ``(n_steps, n_envs)``, where
``episode_starts[t]`` is 1 when observation ``t`` is the first of an episode, i.e. when
step ``t - 1`` ended one. Time-limit truncations are expected to be bootstrapped already
(``rewards[t] += gamma * V(terminal_obs)``, as SB3 does), so a ``done`` here always cuts.
"""

import numpy as np

ADVANTAGE_ESTIMATORS = ("nstep", "gae")


def _next_non_terminal(episode_starts: np.ndarray, last_dones: np.ndarray, step: int) -> np.ndarray:
    """1.0 where the episode goes on after ``step``, 0.0 where it ended at ``step``."""
    if step == episode_starts.shape[0] - 1:
        return 1.0 - last_dones.astype(np.float32)
    return 1.0 - episode_starts[step + 1]


def nstep_returns(
    rewards: np.ndarray,
    values: np.ndarray,
    episode_starts: np.ndarray,
    last_values: np.ndarray,
    last_dones: np.ndarray,
    gamma: float,
) -> tuple[np.ndarray, np.ndarray]:
    """
    n-step value targets over the rest of the rollout (the reference notebook's estimator):
    ``V_target(s_t) = sum_k gamma^k r_{t+k} + gamma^(T-t) V(s_T)``, cut at episode ends.

    :param rewards: rewards, shape ``(n_steps, n_envs)``
    :param values: value predictions ``V(s_t)`` made during the rollout
    :param episode_starts: 1.0 where observation ``t`` starts an episode
    :param last_values: ``V(s_T)`` of the observation after the rollout, shape ``(n_envs,)``
    :param last_dones: whether the last step of the rollout ended an episode
    :param gamma: discount factor
    :return: advantages ``V_target - V`` and value targets ``V_target``
    """
    returns = np.zeros_like(rewards)
    next_return = last_values.astype(np.float32)
    for step in reversed(range(rewards.shape[0])):
        next_return = rewards[step] + gamma * _next_non_terminal(episode_starts, last_dones, step) * next_return
        returns[step] = next_return
    return returns - values, returns


def gae_returns(
    rewards: np.ndarray,
    values: np.ndarray,
    episode_starts: np.ndarray,
    last_values: np.ndarray,
    last_dones: np.ndarray,
    gamma: float,
    gae_lambda: float,
) -> tuple[np.ndarray, np.ndarray]:
    """
    Generalized Advantage Estimation (https://arxiv.org/abs/1506.02438) with
    lambda-returns ``A + V`` as value targets. ``gae_lambda=1`` gives the n-step targets.

    :param rewards: rewards, shape ``(n_steps, n_envs)``
    :param values: value predictions ``V(s_t)`` made during the rollout
    :param episode_starts: 1.0 where observation ``t`` starts an episode
    :param last_values: ``V(s_T)`` of the observation after the rollout, shape ``(n_envs,)``
    :param last_dones: whether the last step of the rollout ended an episode
    :param gamma: discount factor
    :param gae_lambda: bias/variance trade-off, in [0, 1]
    :return: GAE advantages and lambda-return value targets
    """
    advantages = np.zeros_like(rewards)
    last_gae = np.zeros_like(last_values, dtype=np.float32)
    for step in reversed(range(rewards.shape[0])):
        next_non_terminal = _next_non_terminal(episode_starts, last_dones, step)
        next_values = last_values if step == rewards.shape[0] - 1 else values[step + 1]
        delta = rewards[step] + gamma * next_values * next_non_terminal - values[step]
        last_gae = delta + gamma * gae_lambda * next_non_terminal * last_gae
        advantages[step] = last_gae
    return advantages, advantages + values


def estimate_returns(
    advantage_estimator: str,
    rewards: np.ndarray,
    values: np.ndarray,
    episode_starts: np.ndarray,
    last_values: np.ndarray,
    last_dones: np.ndarray,
    gamma: float,
    gae_lambda: float,
) -> tuple[np.ndarray, np.ndarray]:
    """
    Advantages and value targets with the chosen estimator (``"nstep"`` or ``"gae"``).

    :return: advantages and value targets, both shaped like ``rewards``
    """
    if advantage_estimator == "nstep":
        return nstep_returns(rewards, values, episode_starts, last_values, last_dones, gamma)
    if advantage_estimator == "gae":
        return gae_returns(rewards, values, episode_starts, last_values, last_dones, gamma, gae_lambda)
    raise ValueError(f"advantage_estimator must be one of {ADVANTAGE_ESTIMATORS}, got {advantage_estimator!r}")
