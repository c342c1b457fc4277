import contextlib
from collections.abc import Iterator
from typing import Any

import torch as th
from gymnasium import spaces
from stable_baselines3.common.policies import ActorCriticPolicy
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor, CombinedExtractor
from stable_baselines3.common.type_aliases import PyTorchObs, Schedule
from torch import nn

from sb3_a2c_plus.common.torch_layers import BatchNormCNN, SharedMlpExtractor

HEAD_LAYOUTS = ("separate", "shared")
HEAD_INITS = ("orthogonal", "torch")

NetArch = list[int] | dict[str, list[int]]


def _check_net_arch(net_arch: NetArch) -> None:
    layer_lists = net_arch.values() if isinstance(net_arch, dict) else [net_arch]
    for widths in layer_lists:
        if not all(isinstance(width, int) and width > 0 for width in widths):
            raise ValueError(f"net_arch: every head width must be a positive integer, got {net_arch}")


@contextlib.contextmanager
def _without_argument_checks() -> Iterator[None]:
    """Torch distributions made inside skip their argument checks (the process default is restored after)."""
    previous = th.distributions.Distribution._validate_args
    th.distributions.Distribution.set_default_validate_args(False)
    try:
        yield
    finally:
        th.distributions.Distribution.set_default_validate_args(previous)


class A2CPlusPolicy(ActorCriticPolicy):
    """
    Actor-critic policy of A2CPlus: SB3's ``ActorCriticPolicy`` (orthogonal init with gain
    sqrt(2) and zero biases for hidden layers, 0.01 for the policy output, 1 for the value
    output) with an explicit choice between separate and shared hidden heads.

    :param observation_space: observation space
    :param action_space: action space
    :param lr_schedule: learning rate schedule
    :param net_arch: hidden layer widths of the heads: ``dict(pi=[...], vf=[...])`` or a list
        used for both. ``None`` keeps the policy's default.
    :param activation_fn: activation after each hidden layer
    :param head_layout: ``"separate"``: the actor and the critic each own their hidden layers;
        ``"shared"``: one stack of hidden layers feeds both output layers (SB3's CnnPolicy layout)
    :param head_init: how the heads' linear layers (hidden and output) start. ``"orthogonal"``:
        SB3's scheme, set by ``ortho_init``; ``"torch"``: PyTorch's default weights with zero
        biases, as the reference notebook's heads (shared/seeds/000). The features extractor
        follows ``ortho_init`` either way.
    :param kwargs: everything else SB3's ``ActorCriticPolicy`` accepts
    """

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Space,
        lr_schedule: Schedule,
        net_arch: NetArch | None = None,
        activation_fn: type[nn.Module] = nn.Tanh,
        head_layout: str = "separate",
        head_init: str = "orthogonal",
        **kwargs: Any,
    ) -> None:
        # Earlier versions saved head_batch_norm with every policy; only False is what this version builds
        if kwargs.pop("head_batch_norm", False) is not False:
            raise ValueError(
                "head_batch_norm was removed (it scored below plain heads at 1M and 10M steps, docs/experiments.md); "
                "a policy saved with head_batch_norm=True loads with sb3_a2c_plus at commit bbdeccc"
            )
        if head_layout not in HEAD_LAYOUTS:
            raise ValueError(f"head_layout must be one of {HEAD_LAYOUTS}, got {head_layout!r}")
        if head_init not in HEAD_INITS:
            raise ValueError(f"head_init must be one of {HEAD_INITS}, got {head_init!r}")
        if net_arch is not None:
            _check_net_arch(net_arch)
            if head_layout == "shared" and isinstance(net_arch, dict):
                if net_arch.get("pi") != net_arch.get("vf"):
                    raise ValueError(f"head_layout='shared' needs one list of widths for net_arch, got {net_arch}")
                net_arch = list(net_arch["pi"])
        self.head_layout = head_layout
        self.head_init = head_init
        super().__init__(
            observation_space, action_space, lr_schedule, net_arch=net_arch, activation_fn=activation_fn, **kwargs
        )

    def _build_mlp_extractor(self) -> None:
        if self.head_layout == "shared":
            shared_arch = self.net_arch["pi"] if isinstance(self.net_arch, dict) else self.net_arch
            self.mlp_extractor = SharedMlpExtractor(self.features_dim, shared_arch, self.activation_fn).to(self.device)
        else:
            super()._build_mlp_extractor()

    def _build(self, lr_schedule: Schedule) -> None:
        super()._build(lr_schedule)
        if self.head_init == "torch":
            heads = (self.mlp_extractor, self.action_net, self.value_net)
            for layer in (module for head in heads for module in head.modules() if isinstance(module, nn.Linear)):
                layer.reset_parameters()
                if layer.bias is not None:
                    nn.init.zeros_(layer.bias)

    def _get_constructor_parameters(self) -> dict[str, Any]:
        data = super()._get_constructor_parameters()
        data["head_layout"] = self.head_layout
        data["head_init"] = self.head_init
        return data

    @property
    def _latent_is_critic_input(self) -> bool:
        # Shared hidden layers over shared features: their output feeds the value layer too
        return self.head_layout == "shared" and self.share_features_extractor

    def evaluate_actions(self, obs: PyTorchObs, actions: th.Tensor) -> tuple[th.Tensor, th.Tensor, th.Tensor | None]:
        """
        SB3's ``evaluate_actions``, without torch's argument checks (see :meth:`act_deferring_values`).

        :param obs: Observations
        :param actions: Actions
        :return: estimated values, log likelihood of taking those actions and entropy of the action distribution
        """
        with _without_argument_checks():
            return super().evaluate_actions(obs, actions)

    def act_deferring_values(self, obs: PyTorchObs, deterministic: bool = False) -> tuple[th.Tensor, th.Tensor, th.Tensor]:
        """
        The actor's part of ``forward``, for rollouts: the critic's hidden layers run later, once
        over the whole rollout (:meth:`values_from_critic_input`), so that their weights are read
        once per rollout rather than once per step.

        :param obs: Observation
        :param deterministic: Whether to sample or use deterministic actions
        :return: actions, their log-probabilities, and the critic's input for these observations
        """
        features = self.extract_features(obs)
        pi_features, vf_features = (features, features) if self.share_features_extractor else features
        latent_pi = self.mlp_extractor.forward_actor(pi_features)
        # Torch's checks of a distribution's parameters and of the samples it scores cost a host-device
        # sync each on a GPU. Training needs neither: A2CPlus rejects non-finite observations before the
        # forward pass, and non-finite losses at the update (NonFiniteLossError).
        with _without_argument_checks():
            distribution = self._get_action_dist_from_latent(latent_pi)
        actions = distribution.get_actions(deterministic=deterministic)
        log_prob = distribution.log_prob(actions)
        critic_input = latent_pi if self._latent_is_critic_input else vf_features
        return actions.reshape((-1, *self.action_space.shape)), log_prob, critic_input  # type: ignore[misc]

    def values_from_critic_input(self, critic_input: th.Tensor) -> th.Tensor:
        """
        The values that ``forward`` returns, from the critic's input of :meth:`act_deferring_values`.

        :param critic_input: one or more batches of critic inputs, concatenated
        :return: the estimated values
        """
        latent_vf = critic_input if self._latent_is_critic_input else self.mlp_extractor.forward_critic(critic_input)
        return self.value_net(latent_vf)


class CnnPolicy(A2CPlusPolicy):
    """
    Policy for image observations: :class:`~sb3_a2c_plus.common.torch_layers.BatchNormCNN`
    backbone (configure it through ``features_extractor_kwargs``), then separate actor and
    critic heads, each one ReLU hidden layer of 512 units and an output layer.
    See :class:`A2CPlusPolicy` for the parameters.
    """

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Space,
        lr_schedule: Schedule,
        net_arch: NetArch | None = None,
        activation_fn: type[nn.Module] = nn.ReLU,
        features_extractor_class: type[BaseFeaturesExtractor] = BatchNormCNN,
        **kwargs: Any,
    ) -> None:
        if net_arch is None:
            net_arch = dict(pi=[512], vf=[512])
        super().__init__(
            observation_space,
            action_space,
            lr_schedule,
            net_arch=net_arch,
            activation_fn=activation_fn,
            features_extractor_class=features_extractor_class,
            **kwargs,
        )


class MultiInputPolicy(A2CPlusPolicy):
    """
    Policy for dict observations: SB3's ``CombinedExtractor``, then separate actor and critic
    heads (64-64, tanh) by default. See :class:`A2CPlusPolicy` for the parameters.
    """

    def __init__(
        self,
        observation_space: spaces.Dict,
        action_space: spaces.Space,
        lr_schedule: Schedule,
        features_extractor_class: type[BaseFeaturesExtractor] = CombinedExtractor,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            observation_space, action_space, lr_schedule, features_extractor_class=features_extractor_class, **kwargs
        )


# Vector observations: flattened input, separate actor and critic heads of 64-64 tanh units.
MlpPolicy = A2CPlusPolicy
