"""
A2CPlus as a drop-in for SB3's A2C: any ActorCriticPolicy trains, an overridden forward() is honoured,
and the defaults follow the policy (the measured vector defaults for other policies, the Atari ones for CnnPolicy).
"""

import warnings

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from gymnasium import spaces
from stable_baselines3 import A2C
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.policies import ActorCriticPolicy
from stable_baselines3.common.vec_env import DummyVecEnv
from stable_baselines3.dqn.policies import DQNPolicy

from sb3_a2c_plus import A2CPlus
from sb3_a2c_plus.a2c_plus.policies import MlpPolicy
from sb3_a2c_plus.a2c_plus.rollout import defers_values

CONSTANT_VALUE, GAMMA, GAE_LAMBDA, N_STEPS = 2.5, 0.9, 0.8, 5


class CountingEnv(gym.Env):
    """Reward 1 at every step; the observation is the step count within the episode, which ends after ``length``."""

    observation_space = spaces.Box(0.0, 100.0, (1,), dtype=np.float32)
    action_space = spaces.Discrete(2)

    def __init__(self, length: int) -> None:
        self.length, self.count = length, 0

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self.count = 0
        return np.array([0.0], dtype=np.float32), {}

    def step(self, action):
        self.count += 1
        return np.array([self.count], dtype=np.float32), 1.0, self.count >= self.length, False, {}


def _constant_value(cls: type[ActorCriticPolicy]) -> type[ActorCriticPolicy]:
    """``cls`` whose forward() and predict_values() return CONSTANT_VALUE, as a user's critic override would."""

    class ConstantValuePolicy(cls):  # type: ignore[valid-type, misc]
        def forward(self, obs, deterministic=False):
            actions, values, log_prob = super().forward(obs, deterministic)
            return actions, th.full_like(values, CONSTANT_VALUE), log_prob

        def predict_values(self, obs):
            return th.full_like(super().predict_values(obs), CONSTANT_VALUE)

    return ConstantValuePolicy


def _analytic(steps_left_in_rollout: int, steps_left_in_episode: int, estimator: str) -> tuple[float, float]:
    """Advantage and value target of a step with reward 1 everywhere and V = CONSTANT_VALUE, in closed form."""
    m, e, c = steps_left_in_rollout, steps_left_in_episode, CONSTANT_VALUE
    ends = e <= m  # the episode ends within the rest of the rollout: no bootstrap
    if estimator == "nstep":
        target = (1 - GAMMA ** min(e, m)) / (1 - GAMMA) + (0.0 if ends else GAMMA**m * c)
        return target - c, target
    decay = GAMMA * GAE_LAMBDA
    delta = 1 + GAMMA * c - c  # every step's TD error but the episode's last, 1 - c
    if ends:
        advantage = delta * (1 - decay ** (e - 1)) / (1 - decay) + decay ** (e - 1) * (1 - c)
    else:
        advantage = delta * (1 - decay**m) / (1 - decay)
    return advantage, advantage + c


class CheckRollouts(BaseCallback):
    """At the end of each rollout, compares the buffer with the closed forms above."""

    def __init__(self, lengths: list[int], estimator: str) -> None:
        super().__init__()
        self.lengths, self.estimator, self.checked = lengths, estimator, 0

    def _on_step(self) -> bool:
        return True

    def _on_rollout_end(self) -> None:
        buffer = self.model.rollout_buffer
        np.testing.assert_allclose(buffer.values, CONSTANT_VALUE)
        for t in range(N_STEPS):
            for env, length in enumerate(self.lengths):
                count = int(buffer.observations[t, env, 0])
                advantage, target = _analytic(N_STEPS - t, length - count, self.estimator)
                assert buffer.advantages[t, env] == pytest.approx(advantage, rel=1e-5)
                assert buffer.returns[t, env] == pytest.approx(target, rel=1e-5)
        self.checked += 1


@pytest.mark.parametrize("base", [ActorCriticPolicy, MlpPolicy], ids=["sb3_policy", "a2c_plus_policy"])
@pytest.mark.parametrize("estimator", ["nstep", "gae"])
def test_overridden_forward_gives_the_analytic_returns(base, estimator):
    lengths = [3, 7]  # one episode ends inside every rollout, the other in some
    env = DummyVecEnv([lambda length=length: CountingEnv(length) for length in lengths])
    policy = _constant_value(base)
    assert not defers_values(policy(env.observation_space, env.action_space, lambda _: 1e-3))
    gae_lambda = GAE_LAMBDA if estimator == "gae" else None
    model = A2CPlus(policy, env, n_steps=N_STEPS, gamma=GAMMA, advantage_estimator=estimator, gae_lambda=gae_lambda, seed=0)
    callback = CheckRollouts(lengths, estimator)
    model.learn(N_STEPS * len(lengths) * 4, callback=callback)
    assert callback.checked == 4


def test_a2c_plus_policies_keep_the_deferred_critic():
    env = DummyVecEnv([lambda: CountingEnv(5)])
    assert defers_values(A2CPlus("MlpPolicy", env).policy)
    assert not defers_values(A2CPlus(ActorCriticPolicy, env).policy)


@pytest.mark.parametrize("policy", [ActorCriticPolicy, "MlpPolicy"])
def test_rollouts_equal_sb3_a2c(policy):
    """With SB3's policy (forward() at each step) or A2CPlus's (critic once per rollout), the buffer is A2C's."""
    buffers = []
    for algo in (A2C, A2CPlus):
        env = DummyVecEnv([lambda: gym.make("CartPole-v1")] * 4)
        model = algo(policy, env, n_steps=16, seed=3)
        _, callback = model._setup_learn(total_timesteps=64, callback=None)
        assert model.collect_rollouts(model.env, callback, model.rollout_buffer, n_rollout_steps=16)
        buffers.append(model.rollout_buffer)
    sb3, ours = buffers
    assert sb3.episode_starts[1:].any(), "the rollout must cross an episode end"
    for name in ("observations", "actions", "rewards", "episode_starts"):
        np.testing.assert_array_equal(getattr(ours, name), getattr(sb3, name), err_msg=name)
    for name in ("values", "log_probs", "returns", "advantages"):
        np.testing.assert_allclose(getattr(ours, name), getattr(sb3, name), rtol=1e-5, atol=1e-6, err_msg=name)


def test_a2c_settings_train_as_sb3_a2c_does():
    # Given SB3's A2C defaults (the loss coefficients are already A2C's for vector policies), A2CPlus takes A2C's
    # updates, so a gap between the two at one seed of a long run is float rounding grown by the environment
    a2c = A2C("MlpPolicy", "CartPole-v1", seed=0).learn(1000)
    ours = A2CPlus("MlpPolicy", "CartPole-v1", learning_rate=7e-4, grad_clip="global", seed=0).learn(1000)
    theirs = dict(a2c.policy.named_parameters())
    assert theirs.keys() == dict(ours.policy.named_parameters()).keys()
    for name, param in ours.policy.named_parameters():
        np.testing.assert_allclose(param.detach().numpy(), theirs[name].detach().numpy(), atol=1e-5, err_msg=name)
    assert not th.allclose(ours.policy.action_net.weight, A2CPlus("MlpPolicy", "CartPole-v1", seed=0).policy.action_net.weight)


def test_plain_actor_critic_policy_trains_saves_and_loads(tmp_path):
    class MyPolicy(ActorCriticPolicy):
        pass

    A2CPlus(MyPolicy, "CartPole-v1", n_steps=8).learn(16)
    model = A2CPlus(ActorCriticPolicy, "CartPole-v1", n_steps=8, seed=0).learn(64)
    model.save(tmp_path / "model")
    loaded = A2CPlus.load(tmp_path / "model")
    assert type(loaded.policy) is ActorCriticPolicy
    obs = np.array([[0.01, -0.02, 0.03, 0.04]], dtype=np.float32)
    assert loaded.predict(obs, deterministic=True)[0] == model.predict(obs, deterministic=True)[0]
    loaded.set_env(model.get_env())
    loaded.learn(16)


def test_a_policy_that_is_not_actor_critic_is_refused_at_construction():
    with pytest.raises(TypeError, match="DQNPolicy cannot be used, it lacks evaluate_actions, predict_values"):
        A2CPlus(DQNPolicy, "CartPole-v1")


@pytest.mark.parametrize(
    "policy, env_id, expected",
    [
        # SB3's A2C loss coefficients, each tensor clipped alone, the rate from 1e-3 halved at mid-run
        ("MlpPolicy", "CartPole-v1", (0.0, 0.5, "per_parameter", 1e-3, 5e-4)),
        (ActorCriticPolicy, "CartPole-v1", (0.0, 0.5, "per_parameter", 1e-3, 5e-4)),
        ("CnnPolicy", None, (0.01, 0.25, "global", 7e-4, 7e-4)),  # the A2C paper's Atari values
    ],
)
def test_defaults_follow_the_policy(policy, env_id, expected, image_env):
    model = A2CPlus(policy, env_id or image_env)
    assert (model.ent_coef, model.vf_coef, model.grad_clip, model.lr_schedule(1.0), model.lr_schedule(0.5)) == (
        pytest.approx(expected)
    )
    model = A2CPlus(policy, env_id or image_env, ent_coef=0.2, vf_coef=0.7, grad_clip="global", learning_rate=3e-4)
    assert (model.ent_coef, model.vf_coef, model.grad_clip, model.lr_schedule(0.5)) == (0.2, 0.7, "global", 3e-4)


def test_gae_lambda_default_follows_the_estimator_and_warns_where_unused():
    assert A2CPlus("MlpPolicy", "CartPole-v1").gae_lambda == 1.0  # n-step returns are GAE(1)
    assert A2CPlus("MlpPolicy", "CartPole-v1", advantage_estimator="gae").gae_lambda == 0.95
    with pytest.warns(UserWarning, match=r"gae_lambda=0.9 has no effect with advantage_estimator='nstep'"):
        A2CPlus("MlpPolicy", "CartPole-v1", gae_lambda=0.9)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        A2CPlus("MlpPolicy", "CartPole-v1", advantage_estimator="gae", gae_lambda=0.9)
        A2CPlus("MlpPolicy", "CartPole-v1", gae_lambda=1.0)
