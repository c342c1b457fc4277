import contextlib
from collections.abc import Iterator, Sequence

import torch as th
from gymnasium import spaces
from stable_baselines3.common.preprocessing import is_image_space
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor, create_mlp
from torch import nn
from torch.nn import functional as F


def conv_output_size(size: int, kernel_size: int, stride: int) -> int:
    """Spatial size after an unpadded convolution."""
    return (size - kernel_size) // stride + 1


class BatchNormCNN(BaseFeaturesExtractor):
    """
    Conv-BatchNorm-ReLU backbone, flattened. The default geometry is the Nature DQN one
    (32-64-64 filters, kernels 8/4/3, strides 4/2/1) with a BatchNorm after each convolution.
    Unlike SB3's ``NatureCNN`` it has no linear layer: the actor and critic heads start
    from the flattened conv features.

    Observations arrive already scaled to [0, 1] by the policy (``normalize_images=True``),
    so this module never divides by 255 itself.

    :param observation_space: image observation space (channel-first after SB3's transpose)
    :param channels: output channels of each convolution
    :param kernel_sizes: kernel size of each convolution
    :param strides: stride of each convolution
    :param batch_norm: whether to put a BatchNorm after each convolution
    :param normalized_image: whether the observations are already float images in [0, 1]
        (then SB3 skips its uint8 checks, as for ``NatureCNN``)
    """

    def __init__(
        self,
        observation_space: spaces.Box,
        channels: Sequence[int] = (32, 64, 64),
        kernel_sizes: Sequence[int] = (8, 4, 3),
        strides: Sequence[int] = (4, 2, 1),
        batch_norm: bool = True,
        normalized_image: bool = False,
    ) -> None:
        if not is_image_space(observation_space, check_channels=False, normalized_image=normalized_image):
            raise ValueError(
                "CnnPolicy needs image observations: a uint8 Box of shape (C, H, W) or (H, W, C) with values "
                f"in [0, 255], got {observation_space}. Use 'MlpPolicy' for vector observations, or pass "
                "features_extractor_kwargs=dict(normalized_image=True) for float images already in [0, 1]."
            )
        if not len(channels) == len(kernel_sizes) == len(strides) > 0:
            raise ValueError(
                "channels, kernel_sizes and strides must be non-empty and of equal length, got "
                f"channels={tuple(channels)}, kernel_sizes={tuple(kernel_sizes)}, strides={tuple(strides)}"
            )
        for name, values in (("channels", channels), ("kernel_sizes", kernel_sizes), ("strides", strides)):
            if any(int(value) < 1 for value in values):
                raise ValueError(f"{name} must all be positive integers, got {tuple(values)}")

        n_input_channels, height, width = observation_space.shape
        layers: list[nn.Module] = []
        for out_channels, kernel_size, stride in zip(channels, kernel_sizes, strides):
            # A bias before BatchNorm is cancelled by its mean subtraction.
            layers.append(nn.Conv2d(n_input_channels, out_channels, kernel_size, stride, bias=not batch_norm))
            if batch_norm:
                layers.append(nn.BatchNorm2d(out_channels))
            layers.append(nn.ReLU())
            n_input_channels = out_channels
            height = conv_output_size(height, kernel_size, stride)
            width = conv_output_size(width, kernel_size, stride)
        if height < 1 or width < 1:
            raise ValueError(
                f"kernel_sizes={tuple(kernel_sizes)} and strides={tuple(strides)} shrink the "
                f"{observation_space.shape[1]}x{observation_space.shape[2]} image to nothing"
            )
        # Computed, not probed with a forward pass: a probe would update the BatchNorm statistics.
        super().__init__(observation_space, features_dim=n_input_channels * height * width)
        self.cnn = nn.Sequential(*layers, nn.Flatten())

    def forward(self, observations: th.Tensor) -> th.Tensor:
        # Same maths in either memory layout. Where autograd records (the update), channels-last
        # lets oneDNN pick convolution kernels that take about 30% less time on CPU. Without gradients
        # (rollouts, predictions) the input keeps its layout and skips the copy: default-layout input
        # (the native backend's) runs 5-17% faster there; VecTransposeImage's is channels-last by strides.
        if th.is_grad_enabled():
            observations = observations.contiguous(memory_format=th.channels_last)
        return self.cnn(observations)


class SharedMlpExtractor(nn.Module):
    """
    Hidden layers shared by the actor and the critic (SB3's ``CnnPolicy`` layout), exposing
    the interface of SB3's ``MlpExtractor``. Used by ``head_layout="shared"``.

    :param feature_dim: dimension of the features from the features extractor
    :param net_arch: widths of the shared hidden layers
    :param activation_fn: activation after each hidden layer
    """

    def __init__(
        self,
        feature_dim: int,
        net_arch: list[int],
        activation_fn: type[nn.Module],
    ) -> None:
        super().__init__()
        self.shared_net = nn.Sequential(*create_mlp(feature_dim, 0, net_arch, activation_fn))
        self.latent_dim_pi = self.latent_dim_vf = net_arch[-1] if net_arch else feature_dim

    def forward(self, features: th.Tensor) -> tuple[th.Tensor, th.Tensor]:
        latent = self.shared_net(features)
        return latent, latent

    def forward_actor(self, features: th.Tensor) -> th.Tensor:
        return self.shared_net(features)

    def forward_critic(self, features: th.Tensor) -> th.Tensor:
        return self.shared_net(features)


def _normalise_per_group(norm: nn.modules.batchnorm._BatchNorm, group_size: int, x: th.Tensor) -> th.Tensor:
    # Rows g * group_size ... (g + 1) * group_size - 1 form group g: laid side by side as channels, each
    # (group, channel) pair gets the statistics of its own group's rows
    n_groups = x.shape[0] // group_size
    grouped = x.reshape(n_groups, group_size, *x.shape[1:]).transpose(0, 1).reshape(group_size, -1, *x.shape[2:])
    weight = norm.weight.repeat(n_groups) if norm.weight is not None else None
    bias = norm.bias.repeat(n_groups) if norm.bias is not None else None
    out = F.batch_norm(grouped, None, None, weight, bias, training=True, eps=norm.eps)
    return out.reshape(group_size, n_groups, *x.shape[1:]).transpose(0, 1).reshape(x.shape)


@contextlib.contextmanager
def batch_norm_per_group(module: nn.Module, group_size: int) -> Iterator[None]:
    """
    Inside, every BatchNorm layer of ``module`` in training mode normalises each consecutive group of
    ``group_size`` rows with that group's own statistics (ghost batch normalisation) in one pass,
    as if each group went through on its own, and leaves its running statistics as they are.

    :param module: the network whose BatchNorm layers are changed, for the time of the block
    :param group_size: rows per group; a batch must hold a whole number of groups
    """
    norms = [layer for layer in module.modules() if isinstance(layer, nn.modules.batchnorm._BatchNorm)]
    for norm in norms:
        plain_forward = norm.forward

        def forward(x: th.Tensor, norm=norm, plain_forward=plain_forward) -> th.Tensor:
            if not norm.training:
                return plain_forward(x)
            if x.shape[0] % group_size:
                raise ValueError(f"a batch of {x.shape[0]} rows is not a whole number of groups of {group_size}")
            return _normalise_per_group(norm, group_size, x)

        norm.forward = forward  # type: ignore[method-assign]
    try:
        yield
    finally:
        for norm in norms:
            del norm.forward
