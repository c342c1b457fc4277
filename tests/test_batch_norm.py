import copy

import pytest
import torch as th
from torch import nn
from torch.nn import functional as F

from sb3_a2c_plus import A2CPlus
from sb3_a2c_plus.common.torch_layers import batch_norm_per_group


def _batch_norm_state(model: A2CPlus) -> list[th.Tensor]:
    return [
        buffer.clone()
        for layer in model.policy.modules()
        if isinstance(layer, nn.BatchNorm2d)
        for buffer in (layer.running_mean, layer.running_var, layer.num_batches_tracked)
    ]


def _changed(before: list[th.Tensor], after: list[th.Tensor]) -> bool:
    return any(not th.equal(a, b) for a, b in zip(before, after))


def _collect(model: A2CPlus) -> None:
    _, callback = model._setup_learn(total_timesteps=model.n_steps * model.n_envs, callback=None)
    assert model.collect_rollouts(model.env, callback, model.rollout_buffer, n_rollout_steps=model.n_steps)


def test_running_mode_rollouts_leave_statistics_and_training_updates_them(image_env):
    model = A2CPlus("CnnPolicy", image_env, n_steps=4, seed=0)
    before = _batch_norm_state(model)
    _collect(model)
    assert not model.policy.training
    assert not _changed(before, _batch_norm_state(model))

    model.train()
    assert _changed(before, _batch_norm_state(model))


def test_batch_mode_rollouts_update_statistics(image_env):
    model = A2CPlus("CnnPolicy", image_env, n_steps=4, rollout_batch_norm="batch", seed=0)
    before = _batch_norm_state(model)
    _collect(model)
    # n_steps forward passes plus the value of the last observation
    assert [int(t.item()) for t in _batch_norm_state(model)[2::3]] == [model.n_steps + 1] * 3
    assert _changed(before, _batch_norm_state(model))


@pytest.mark.parametrize("rollout_batch_norm", ["running", "batch"])
def test_predict_uses_running_statistics_without_updating_them(image_env, rollout_batch_norm):
    model = A2CPlus("CnnPolicy", image_env, n_steps=4, rollout_batch_norm=rollout_batch_norm, seed=0)
    model.learn(32)
    obs = image_env.reset()
    before = _batch_norm_state(model)
    first, _ = model.predict(obs, deterministic=True)
    assert not model.policy.training
    assert not _changed(before, _batch_norm_state(model))
    # Eval mode: each prediction is independent of the rest of the batch
    single, _ = model.predict(obs[:1], deterministic=True)
    assert single[0] == first[0]


def test_batch_mode_gradient_step_normalises_each_env_step_separately(image_env):
    model = A2CPlus("CnnPolicy", image_env, n_steps=3, rollout_batch_norm="batch", seed=0)
    _collect(model)
    policy_before = copy.deepcopy(model.policy)
    model.train()

    # Recompute the critic's predictions one env step (n_envs observations) at a time
    buffer = model.rollout_buffer
    policy_before.set_training_mode(True)
    with th.no_grad():
        values = [
            policy_before.predict_values(policy_before.obs_to_tensor(buffer.observations[step])[0])
            for step in range(buffer.buffer_size)
        ]
    assert model.logger.name_to_value["train/value_mean"] == pytest.approx(th.cat(values).mean().item(), rel=1e-5)

    # ... which differs from normalising the whole rollout at once (the "running" mode's step)
    with th.no_grad():
        whole = policy_before.predict_values(policy_before.obs_to_tensor(buffer.observations.reshape(-1, 84, 84, 1))[0])
    assert whole.mean().item() != pytest.approx(th.cat(values).mean().item(), rel=1e-5)


@pytest.mark.parametrize("norm, shape", [(nn.BatchNorm2d(3), (5, 3, 4, 4)), (nn.BatchNorm1d(3), (5, 3))])
def test_per_group_normalisation_equals_one_pass_per_group(norm, shape):
    th.manual_seed(0)
    with th.no_grad():
        norm.weight.uniform_(0.5, 2.0)
        norm.bias.uniform_(-1.0, 1.0)
    x = th.randn(4 * shape[0], *shape[1:]) * 3 + 1
    expected = th.cat([F.batch_norm(group, None, None, norm.weight, norm.bias, True) for group in x.split(shape[0])])
    statistics = (norm.running_mean.clone(), norm.running_var.clone())
    with batch_norm_per_group(norm, shape[0]):
        grouped = norm(x)
        with pytest.raises(ValueError, match="not a whole number of groups of 5"):
            norm(x[:7])
    th.testing.assert_close(grouped, expected)
    assert th.equal(norm.running_mean, statistics[0]) and th.equal(norm.running_var, statistics[1])
    # Outside the block, and in eval mode inside it, the layer is the plain one
    th.testing.assert_close(norm(x), F.batch_norm(x, None, None, norm.weight, norm.bias, True))
    norm.eval()
    with batch_norm_per_group(norm, shape[0]):
        th.testing.assert_close(norm(x), F.batch_norm(x, norm.running_mean, norm.running_var, norm.weight, norm.bias))


def test_batch_mode_gradient_step_leaves_the_statistics_the_rollout_set(image_env):
    # As the notebook, whose gradient goes through the rollout's forward passes: one update per batch
    model = A2CPlus("CnnPolicy", image_env, n_steps=3, rollout_batch_norm="batch", seed=0)
    _collect(model)
    before = _batch_norm_state(model)
    model.train()
    assert not _changed(before, _batch_norm_state(model))
