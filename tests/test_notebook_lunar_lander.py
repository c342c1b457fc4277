"""
One update of A2CPlus on the LunarLander notebook's configuration (shared/seeds/004) against that notebook's
own A2C class, transcribed below from TensorFlow to torch: the same batch, loss, clipped gradient and step.
"""

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from gymnasium import spaces
from stable_baselines3.common.sb2_compat.rmsprop_tf_like import RMSpropTFLike
from stable_baselines3.common.vec_env import DummyVecEnv
from torch import nn

from benchmarks.registry import A2C_PLUS_ENTRIES, NOTEBOOK_LUNAR_LANDER_FAITHFUL
from sb3_a2c_plus import A2CPlus
from sb3_a2c_plus.zoo import linear_schedule_to_floor
from tests.envs import one_rollout

N_ACTIONS, OBS_DIM, SCALE = 4, 8, 40  # SCALE: the notebook's batch, over which its policy loss is a sum
CONFIG = {
    **NOTEBOOK_LUNAR_LANDER_FAITHFUL.hyperparams,
    "policy_kwargs": eval(NOTEBOOK_LUNAR_LANDER_FAITHFUL.hyperparams["policy_kwargs"]),  # the zoo's config language
    "learning_rate": 0.0,  # the clipped gradient stays in .grad and the weights do not move
}
CONFIG.pop("normalize")
N_ENVS, N_STEPS = CONFIG.pop("n_envs"), CONFIG["n_steps"]


class RandomLander(gym.Env):
    """LunarLander's spaces with random observations, rewards and episode ends."""

    observation_space = spaces.Box(-np.inf, np.inf, (OBS_DIM,), dtype=np.float32)
    action_space = spaces.Discrete(N_ACTIONS)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        return self.np_random.normal(size=OBS_DIM).astype(np.float32), {}

    def step(self, action):
        obs = self.np_random.normal(size=OBS_DIM).astype(np.float32)
        return obs, float(self.np_random.normal(0, 1)), bool(self.np_random.random() < 0.15), False, {}


# --- The notebook's code, transcribed (its A2C._joint_loss_fn and A2C.learn) -------------------------------------
class ActorCriticNet(nn.Module):
    """build_actor_critic_network: a shared 64-64 tanh body, action logits and a value."""

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(OBS_DIM, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh())
        self.logits, self.value = nn.Linear(64, N_ACTIONS), nn.Linear(64, 1)

    def forward(self, states):
        hidden = self.body(states)
        return th.distributions.Categorical(logits=self.logits(hidden)), self.value(hidden)


def notebook_loss(net, states, actions, rewards, next_states, dones, gamma=0.995, lambda_=1.0):
    action_dists, values = net(states)
    _, last_value = net(next_states[-1:])
    values = th.cat([values, last_value], dim=0).squeeze()
    values, next_values = values[:-1], values[1:]
    deltas = (rewards + gamma * (1 - dones) * next_values.detach().numpy() - values.detach().numpy()).astype("f")
    returns, advantages = np.empty_like(rewards), np.empty_like(rewards)
    returns[-1] = rewards[-1] + gamma * (1 - dones[-1]) * next_values[-1].detach().numpy()
    advantages[-1] = deltas[-1]
    for t in reversed(range(len(states) - 1)):
        returns[t] = rewards[t] + gamma * (1 - dones[t]) * returns[t + 1]
        advantages[t] = deltas[t] + (gamma * lambda_) * (1 - dones[t]) * advantages[t + 1]
    log_probs = action_dists.log_prob(actions)
    policy_loss = -th.sum(log_probs * th.from_numpy(advantages.astype("f")))
    vf_loss = th.mean((values - th.from_numpy(returns.astype("f"))) ** 2)
    entropy_loss = th.mean(action_dists.entropy())
    loss = policy_loss + 0.25 * vf_loss - 1e-5 * entropy_loss
    return loss, {"policy_loss": policy_loss, "value_loss": vf_loss, "entropy": entropy_loss}


def clip_by_norm(grad, clip_norm=0.5):
    """tf.clip_by_norm: the tensor scaled to norm clip_norm if it is longer."""
    return grad * clip_norm / max(grad.norm().item(), clip_norm)


def keras_rmsprop_step(param, grad, rms, learning_rate, rho=0.9, epsilon=1e-7):
    """Keras' RMSprop (TF 2 optimizer_v2, ResourceApplyRMSProp without momentum), one step in place."""
    rms.mul_(rho).add_((1 - rho) * grad**2)
    param.sub_(learning_rate * grad / th.sqrt(rms + epsilon))


# ------------------------------------------------------------------------------------------------------------------
def _notebook_copy(policy) -> tuple[ActorCriticNet, list[tuple[str, nn.Parameter, nn.Parameter]]]:
    network = ActorCriticNet()
    body = [m for m in policy.mlp_extractor.modules() if isinstance(m, nn.Linear)]
    pairs = []
    with th.no_grad():
        for name, ours, theirs in (
            ("body0", body[0], network.body[0]),
            ("body1", body[1], network.body[2]),
            ("logits", policy.action_net, network.logits),
            ("value", policy.value_net, network.value),
        ):
            for kind in ("weight", "bias"):
                getattr(theirs, kind).copy_(getattr(ours, kind))
                pairs.append((f"{name}.{kind}", getattr(ours, kind), getattr(theirs, kind)))
    return network, pairs


def test_the_zoos_lunar_lander_entry_is_the_config_checked_here():
    # What `python -m rl_zoo3.train --algo a2c_plus --env LunarLander-v3` runs is what this file checks
    entry, faithful = A2C_PLUS_ENTRIES["LunarLander-v3"], NOTEBOOK_LUNAR_LANDER_FAITHFUL
    assert {key: entry[key] for key in faithful.hyperparams} == pytest.approx(faithful.hyperparams)
    assert set(entry) - {"n_timesteps", "policy", "learning_rate"} == set(faithful.hyperparams)  # nothing more
    # The config's learning rate from 8.3e-4 down to 1e-4, in the zoo's config language
    start, end = faithful.linear_learning_rate
    schedule = linear_schedule_to_floor(entry["learning_rate"])
    assert [schedule(progress) for progress in (1.0, 0.5, 0.0)] == pytest.approx([start, (start + end) / 2, end])


@pytest.fixture
def model() -> A2CPlus:
    venv = DummyVecEnv([RandomLander] * N_ENVS)
    venv.seed(0)
    return A2CPlus("MlpPolicy", venv, seed=0, **CONFIG)


def test_config_builds_the_notebooks_network_and_optimiser(model):
    network, pairs = _notebook_copy(model.policy)
    assert len(pairs) == sum(1 for _ in network.parameters()) == sum(1 for _ in model.policy.parameters())
    # One 64-64 tanh body feeds both outputs: the critic's gradient shapes the actor's features, as in the notebook
    body = model.policy.mlp_extractor.shared_net
    assert [type(m) for m in body] == [nn.Linear, nn.Tanh, nn.Linear, nn.Tanh]
    assert model.policy.action_net.in_features == model.policy.value_net.in_features == 64
    assert isinstance(model.policy.optimizer, RMSpropTFLike)
    assert model.policy.optimizer.defaults["alpha"] == 0.9
    for linear in (m for m in model.policy.modules() if isinstance(m, nn.Linear)):
        assert th.count_nonzero(linear.bias) == 0  # Keras' Dense starts its biases at zero


def test_one_update_has_the_notebooks_loss_and_clipped_gradient(model):
    network, pairs = _notebook_copy(model.policy)
    buffer, dones = one_rollout(model)
    # The notebook's next_states[-1]: the observations after the rollout's last step
    next_states = np.concatenate([buffer.observations[1:], model._last_obs[None]])

    model.train()
    ours = {key: model.logger.name_to_value[f"train/{key}"] for key in ("policy_loss", "value_loss", "entropy_loss")}
    loss, theirs = notebook_loss(
        network,
        th.from_numpy(buffer.observations),
        th.from_numpy(buffer.actions.squeeze(-1)).long(),
        buffer.rewards,
        th.from_numpy(next_states),
        dones,
    )
    loss.backward()

    assert SCALE * ours["policy_loss"] == pytest.approx(theirs["policy_loss"].item(), rel=1e-4)
    assert ours["value_loss"] == pytest.approx(theirs["value_loss"].item(), rel=1e-5)
    assert -ours["entropy_loss"] == pytest.approx(theirs["entropy"].item(), rel=1e-5)
    clipped = 0
    for name, our_param, their_param in pairs:
        their_grad = clip_by_norm(their_param.grad)
        clipped += their_param.grad.norm().item() > 0.5
        np.testing.assert_allclose(
            SCALE * our_param.grad.numpy(),
            their_grad.numpy(),
            rtol=1e-3,
            atol=1e-5 * their_grad.abs().max().item(),
            err_msg=name,
        )
    assert 0 < clipped < len(pairs), "the batch must clip some tensors and not others"


def test_rmsprop_tf_like_takes_keras_step_from_scaled_gradients():
    # Past its first updates (its average of squared gradients starts at 1, Keras' at 0) RMSpropTFLike with
    # eps / 40^2 moves the weights as Keras' RMSprop does from gradients 40 times larger
    generator = th.Generator().manual_seed(0)
    start = th.randn(64, 8, generator=generator)
    rms = th.rand(64, 8, generator=generator) * 1e-2
    ours = start.clone().requires_grad_(True)
    optimizer = RMSpropTFLike([ours], lr=1e-3, **CONFIG["policy_kwargs"]["optimizer_kwargs"])
    optimizer.state[ours]["step"] = 1
    optimizer.state[ours]["square_avg"] = rms / SCALE**2
    theirs, their_rms = start.clone(), rms.clone()
    for _ in range(3):
        grad = th.randn(64, 8, generator=generator) * 0.1
        grad[0] *= 1e-4  # where eps matters
        ours.grad = grad / SCALE
        optimizer.step()
        keras_rmsprop_step(theirs, grad, their_rms, learning_rate=1e-3)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.numpy(), rtol=1e-5, atol=1e-8)
    assert not th.allclose(ours.detach(), start)
