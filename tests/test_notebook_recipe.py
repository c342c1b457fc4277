"""
One update of A2CPlus on the SpaceInvaders notebook's recipe (shared/seeds/000) against that notebook's
own network and loss, transcribed below: the same rollout, the same loss, the same gradient.
"""

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from gymnasium import spaces
from stable_baselines3.common.vec_env import DummyVecEnv
from torch import nn
from torch.nn import functional as F

from benchmarks.registry import A2C_PLUS_ENTRIES, NOTEBOOK_SPACE_INVADERS
from sb3_a2c_plus import A2CPlus
from tests.envs import one_rollout

N_ACTIONS = 6
# The recipe as the benchmark runs it, but for the budget and the learning-rate schedule
RECIPE = {
    **NOTEBOOK_SPACE_INVADERS.hyperparams,
    "policy_kwargs": eval(NOTEBOOK_SPACE_INVADERS.hyperparams["policy_kwargs"]),  # the zoo's config language
    "learning_rate": 0.0,  # the gradient stays in .grad and the weights do not move
    # Raw gradients are compared: both sides then clip them with the same clip_grad_norm_(parameters, 0.5)
    "max_grad_norm": 1e9,
}
N_ENVS, N_STEPS = RECIPE.pop("n_envs"), RECIPE["n_steps"]


class RandomScreens(gym.Env):
    """Random 4x84x84 frames, rewards in {-1, 0, 1} and random episode ends (no time limit)."""

    observation_space = spaces.Box(0, 255, (4, 84, 84), dtype=np.uint8)
    action_space = spaces.Discrete(N_ACTIONS)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        return self.np_random.integers(0, 256, (4, 84, 84), dtype=np.uint8), {}

    def step(self, action):
        obs = self.np_random.integers(0, 256, (4, 84, 84), dtype=np.uint8)
        return obs, float(self.np_random.integers(-1, 2)), bool(self.np_random.random() < 0.15), False, {}


# --- The notebook's code, transcribed (its cells 2-5, 15 and 21) -------------------------------------------
def conv2d_size_out(size, kernel_size, stride):
    return (size - (kernel_size - 1) - 1) // stride + 1


class ConvBlock(nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size, stride):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, kernel_size, stride), nn.BatchNorm2d(out_channels), nn.ReLU()
        )

    def forward(self, x):
        return self.net(x)


class AgentNetwork(nn.Module):
    def __init__(self, n_actions):
        super().__init__()
        hparams = [
            dict(in_channels=4, out_channels=32, kernel_size=3, stride=4),
            dict(in_channels=32, out_channels=64, kernel_size=3, stride=2),
            dict(in_channels=64, out_channels=64, kernel_size=3, stride=1),
        ]
        self.conv = nn.Sequential(*[ConvBlock(**kwargs) for kwargs in hparams])
        width = height = 84
        for kwargs in hparams:
            width = conv2d_size_out(width, kwargs["kernel_size"], kwargs["stride"])
            height = conv2d_size_out(height, kwargs["kernel_size"], kwargs["stride"])
        dense_in_features = width * height * hparams[-1]["out_channels"]
        self.actor = nn.Sequential(nn.Flatten(), nn.Linear(dense_in_features, 512), nn.ReLU(), nn.Linear(512, n_actions))
        self.critic = nn.Sequential(nn.Flatten(), nn.Linear(dense_in_features, 512), nn.ReLU(), nn.Linear(512, 1, bias=False))

    def forward(self, state_t):
        x = self.conv(state_t)
        return self.critic(x).squeeze(dim=-1), self.actor(x)


def notebook_act(model, inputs, actions=None):
    """Policy.act, with the rollout's actions given rather than sampled."""
    values, logits = model(inputs)
    logprobs = F.log_softmax(logits, dim=1)
    probs = F.softmax(logits, dim=1)
    entropy = probs.mul(logprobs).neg().sum(dim=1)
    ids = th.arange(len(values))
    return {"log_probs": logprobs[ids, actions] if actions is not None else None, "values": values, "entropy": entropy}


def notebook_loss(model, observations, actions, rewards, dones, latest_observation, gamma=0.99):
    """EnvRunner's per-step forward passes, ComputeValueTargets, MergeTimeBatch and A2C.loss."""
    steps = [notebook_act(model, obs, act) for obs, act in zip(observations, actions)]
    value_estimate = notebook_act(model, latest_observation)["values"].detach().numpy()
    value_targets = []
    for t in range(len(rewards) - 1, -1, -1):
        value_estimate = gamma * value_estimate * (1 - dones[t]) + rewards[t]
        value_targets.append(value_estimate)
    trajectory = {key: th.cat([step[key] for step in steps]) for key in ("log_probs", "values", "entropy")}
    trajectory["value_targets"] = th.from_numpy(np.stack(value_targets[::-1]).astype(np.float32)).flatten()

    advantage = trajectory["value_targets"] - trajectory["values"]
    policy_loss = trajectory["log_probs"].mul(advantage.detach()).mean().neg()
    entropy_loss = trajectory["entropy"].mean().neg()
    critic_loss = F.mse_loss(trajectory["values"], trajectory["value_targets"].detach(), reduction="mean")
    losses = {"policy_loss": policy_loss, "value_loss": critic_loss, "entropy_loss": entropy_loss}
    return policy_loss + 0.25 * critic_loss + 0.01 * entropy_loss, losses


# -------------------------------------------------------------------------------------------------------------
def _notebook_copy(policy) -> tuple[AgentNetwork, list[tuple[str, nn.Parameter, nn.Parameter]]]:
    """The notebook's network with A2CPlus's weights, and the pairs of parameters that correspond."""
    network = AgentNetwork(N_ACTIONS)
    convs = [m for m in policy.features_extractor.cnn if isinstance(m, nn.Conv2d)]
    norms = [m for m in policy.features_extractor.cnn if isinstance(m, nn.BatchNorm2d)]
    pairs = []
    with th.no_grad():
        for index, (conv, norm) in enumerate(zip(convs, norms)):
            block = network.conv[index].net
            block[0].weight.copy_(conv.weight)
            block[0].bias.zero_()  # cancelled by BatchNorm's mean subtraction: A2CPlus's convolutions have none
            block[1].load_state_dict(norm.state_dict())
            pairs += [(f"conv{index}.weight", conv.weight, block[0].weight)]
            pairs += [(f"batch_norm{index}.weight", norm.weight, block[1].weight)]
            pairs += [(f"batch_norm{index}.bias", norm.bias, block[1].bias)]
        for name, ours, theirs in (
            ("actor.hidden", policy.mlp_extractor.policy_net[0], network.actor[1]),
            ("actor.output", policy.action_net, network.actor[3]),
            ("critic.hidden", policy.mlp_extractor.value_net[0], network.critic[1]),
            ("critic.output", policy.value_net, network.critic[3]),
        ):
            theirs.weight.copy_(ours.weight)
            pairs += [(f"{name}.weight", ours.weight, theirs.weight)]
            if theirs.bias is not None:
                theirs.bias.copy_(ours.bias)
                pairs += [(f"{name}.bias", ours.bias, theirs.bias)]
    return network, pairs


def test_the_zoos_atari_entry_is_the_recipe_checked_here():
    # What `python -m rl_zoo3.train --algo a2c_plus` runs on Atari is what this file checks against the notebook
    entry = A2C_PLUS_ENTRIES["atari"]
    assert {key: entry[key] for key in NOTEBOOK_SPACE_INVADERS.hyperparams} == NOTEBOOK_SPACE_INVADERS.hyperparams


@pytest.fixture
def recipe_model() -> A2CPlus:
    venv = DummyVecEnv([RandomScreens] * N_ENVS)
    venv.seed(0)
    return A2CPlus("CnnPolicy", venv, seed=0, **RECIPE)


def test_recipe_builds_the_notebooks_network(recipe_model):
    policy = recipe_model.policy
    assert policy.features_dim == 4096  # its printed backbone: 3x3 kernels, strides 4, 2, 1
    network, pairs = _notebook_copy(policy)
    # Every parameter of the notebook's network has its counterpart, except the convolutions' biases (cancelled
    # by BatchNorm); A2CPlus adds one, the value output's bias, zero at the start
    assert len(pairs) == sum(1 for _ in network.parameters()) - 3
    assert th.count_nonzero(policy.value_net.bias) == 0
    # The notebook's init: orthogonal convolutions with gain sqrt(2), the heads' Linear layers at PyTorch's default
    # (uniform within 1/sqrt(fan_in)) with zero biases
    for conv in (m for m in policy.features_extractor.modules() if isinstance(m, nn.Conv2d)):
        matrix = conv.weight.detach().flatten(start_dim=1)
        np.testing.assert_allclose((matrix @ matrix.T).numpy(), 2 * np.eye(matrix.shape[0]), atol=1e-4)
    for linear in (policy.mlp_extractor.policy_net[0], policy.action_net, policy.value_net):
        bound = 1 / np.sqrt(linear.in_features)
        assert linear.weight.abs().max() <= bound
        assert linear.weight.std() > 0.5 * bound / np.sqrt(3)  # not orthogonal's 0.01 or 1/sqrt(fan_in) row norms
        assert th.count_nonzero(linear.bias) == 0


def test_one_update_has_the_notebooks_loss_and_gradient(recipe_model):
    model = recipe_model
    network, pairs = _notebook_copy(model.policy)
    buffer, dones = one_rollout(model)

    model.train()
    ours = {key: model.logger.name_to_value[f"train/{key}"] for key in ("policy_loss", "value_loss", "entropy_loss")}

    # The notebook's wrappers give float frames in [0, 1]; A2CPlus scales uint8 frames by 1/255 in the policy
    observations = th.from_numpy(buffer.observations).float() / 255.0
    network.train()  # never set otherwise during the notebook's training: BatchNorm normalises each step's batch
    loss, theirs = notebook_loss(
        network,
        observations,
        th.from_numpy(buffer.actions.squeeze(-1)).long(),
        buffer.rewards,
        dones,
        th.from_numpy(model._last_obs).float() / 255.0,
    )
    loss.backward()

    for key, value in theirs.items():
        assert ours[key] == pytest.approx(value.item(), rel=1e-5), key
    for name, our_param, their_param in pairs:
        scale = their_param.grad.abs().max().item()
        assert scale > 0, name
        np.testing.assert_allclose(
            our_param.grad.numpy(), their_param.grad.numpy(), rtol=1e-3, atol=1e-4 * scale, err_msg=name
        )
    # BatchNorm subtracts the batch mean: the convolution biases the notebook has get no gradient
    for block in network.conv:
        assert block.net[0].bias.grad.abs().max() < 1e-6
