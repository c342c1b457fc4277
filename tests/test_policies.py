import copy

import numpy as np
import pytest
import torch as th
from gymnasium import spaces
from stable_baselines3.common.envs import SimpleMultiObsEnv
from torch import nn

from sb3_a2c_plus import A2CPlus
from sb3_a2c_plus.common.torch_layers import BatchNormCNN


def _linear_layers(module: nn.Module) -> list[nn.Linear]:
    return [layer for layer in module.modules() if isinstance(layer, nn.Linear)]


def _assert_orthogonal(weight: th.Tensor, gain: float) -> None:
    matrix = weight.detach().flatten(start_dim=1)
    gram = matrix @ matrix.T if matrix.shape[0] <= matrix.shape[1] else matrix.T @ matrix
    np.testing.assert_allclose(gram.numpy(), gain**2 * np.eye(gram.shape[0]), atol=1e-4 * max(gain**2, 1))


def test_cnn_policy_architecture(image_env):
    policy = A2CPlus("CnnPolicy", image_env).policy
    cnn = policy.features_extractor.cnn

    convs = [layer for layer in cnn if isinstance(layer, nn.Conv2d)]
    assert [(c.out_channels, c.kernel_size[0], c.stride[0]) for c in convs] == [(32, 8, 4), (64, 4, 2), (64, 3, 1)]
    assert sum(isinstance(layer, nn.BatchNorm2d) for layer in cnn) == 3
    assert policy.features_dim == 64 * 7 * 7

    # Separate heads, each two layers deep: hidden Linear(3136 -> 512) + output layer
    actor_hidden = _linear_layers(policy.mlp_extractor.policy_net)
    critic_hidden = _linear_layers(policy.mlp_extractor.value_net)
    assert [(lin.in_features, lin.out_features) for lin in actor_hidden] == [(3136, 512)]
    assert [(lin.in_features, lin.out_features) for lin in critic_hidden] == [(3136, 512)]
    assert (policy.action_net.in_features, policy.action_net.out_features) == (512, 6)
    assert (policy.value_net.in_features, policy.value_net.out_features) == (512, 1)
    actor_params = {id(p) for p in [*policy.mlp_extractor.policy_net.parameters(), *policy.action_net.parameters()]}
    critic_params = {id(p) for p in [*policy.mlp_extractor.value_net.parameters(), *policy.value_net.parameters()]}
    assert not actor_params & critic_params


def test_cnn_policy_orthogonal_init_and_zero_biases(image_env):
    policy = A2CPlus("CnnPolicy", image_env).policy
    hidden = [
        layer
        for layer in [*policy.features_extractor.modules(), *policy.mlp_extractor.modules()]
        if isinstance(layer, (nn.Conv2d, nn.Linear))
    ]
    assert len(hidden) == 5
    for layer in hidden:
        _assert_orthogonal(layer.weight, np.sqrt(2))
        if layer.bias is not None:
            assert th.count_nonzero(layer.bias) == 0
    _assert_orthogonal(policy.action_net.weight, 0.01)
    _assert_orthogonal(policy.value_net.weight, 1.0)
    assert th.count_nonzero(policy.action_net.bias) == 0
    assert th.count_nonzero(policy.value_net.bias) == 0


def test_cnn_backbone_and_heads_are_configurable(image_env):
    policy_kwargs = dict(
        features_extractor_kwargs=dict(channels=(16, 32), kernel_sizes=(8, 4), strides=(4, 2), batch_norm=False),
        net_arch=dict(pi=[128], vf=[256, 64]),
    )
    policy = A2CPlus("CnnPolicy", image_env, policy_kwargs=policy_kwargs).policy
    convs = [layer for layer in policy.features_extractor.cnn if isinstance(layer, nn.Conv2d)]
    assert [(c.out_channels, c.kernel_size[0], c.stride[0]) for c in convs] == [(16, 8, 4), (32, 4, 2)]
    assert not any(isinstance(layer, nn.BatchNorm2d) for layer in policy.modules())
    # Without BatchNorm the convolutions keep their (zero-initialised) bias
    assert all(c.bias is not None for c in convs)
    assert [lin.out_features for lin in _linear_layers(policy.mlp_extractor.policy_net)] == [128]
    assert [lin.out_features for lin in _linear_layers(policy.mlp_extractor.value_net)] == [256, 64]


def test_shared_head_layout(image_env):
    policy = A2CPlus("CnnPolicy", image_env, policy_kwargs=dict(head_layout="shared")).policy
    shared = _linear_layers(policy.mlp_extractor)
    assert [(lin.in_features, lin.out_features) for lin in shared] == [(3136, 512)]
    features = th.rand(3, 3136)
    latent_pi, latent_vf = policy.mlp_extractor(features)
    assert th.equal(latent_pi, latent_vf)


def test_images_are_scaled_once(image_env):
    model = A2CPlus("CnnPolicy", image_env)
    seen = []

    def record_input(module: nn.Module, inputs: tuple[th.Tensor], output: th.Tensor) -> None:
        seen.append(inputs[0].max().item())

    model.policy.features_extractor.cnn[0].register_forward_hook(record_input)
    model.predict(np.full((4, 84, 84, 1), 255, dtype=np.uint8))
    assert seen == [pytest.approx(1.0)]


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("grad_enabled", [True, False])
def test_batch_norm_cnn_layout_keeps_the_maths(training, grad_enabled):
    """Convolutions see channels-last input only where autograd records (the update, faster on
    CPU there); without gradients they keep the default layout. Outputs equal plain NCHW ones."""
    extractor = BatchNormCNN(spaces.Box(0, 255, (4, 84, 84), dtype=np.uint8)).train(training)
    reference = copy.deepcopy(extractor.cnn)
    layouts = []

    def record_layout(module: nn.Module, inputs: tuple[th.Tensor], output: th.Tensor) -> None:
        layouts.append(inputs[0].is_contiguous(memory_format=th.channels_last))

    extractor.cnn[0].register_forward_hook(record_layout)
    observations = th.rand(8, 4, 84, 84) + th.arange(8).view(8, 1, 1, 1)
    with th.set_grad_enabled(grad_enabled):
        features = extractor(observations)
    with th.no_grad():
        th.testing.assert_close(features, reference(observations), rtol=1e-4, atol=1e-4)
    assert layouts == [grad_enabled]


def test_mlp_policy_has_separate_two_layer_heads():
    policy = A2CPlus("MlpPolicy", "CartPole-v1").policy
    for head in (policy.mlp_extractor.policy_net, policy.mlp_extractor.value_net):
        assert [(lin.in_features, lin.out_features) for lin in _linear_layers(head)] == [(4, 64), (64, 64)]
        assert any(isinstance(layer, nn.Tanh) for layer in head)
        for layer in _linear_layers(head):
            _assert_orthogonal(layer.weight, np.sqrt(2))
            assert th.count_nonzero(layer.bias) == 0


def test_multi_input_policy_trains_on_dict_observations():
    model = A2CPlus("MultiInputPolicy", SimpleMultiObsEnv(random_start=True), n_steps=8, seed=0)
    model.learn(64)
    assert model.num_timesteps == 64
    obs = model.env.reset()
    action, _ = model.predict(obs, deterministic=True)
    assert action.shape == (1,)


def test_training_paths_skip_torch_argument_checks_and_predict_keeps_them():
    # NaN observations give NaN logits, which torch's checks reject with a ValueError
    policy = A2CPlus("MlpPolicy", "CartPole-v1").policy
    obs = th.full((3, 4), th.nan)
    default = th.distributions.Distribution._validate_args
    actions, log_prob, _ = policy.act_deferring_values(obs, deterministic=True)
    assert actions.shape == (3,) and th.isnan(log_prob).all()
    _, log_prob, entropy = policy.evaluate_actions(obs, actions)
    assert th.isnan(log_prob).all() and th.isnan(entropy).all()
    assert th.distributions.Distribution._validate_args == default
    with pytest.raises(ValueError, match="logits"):
        policy.predict(obs.numpy(), deterministic=True)


def test_batch_norm_cnn_rejects_too_small_images():
    from gymnasium import spaces

    with pytest.raises(ValueError, match="shrink the 10x10 image"):
        BatchNormCNN(spaces.Box(0, 255, (1, 10, 10), dtype=np.uint8))
