"""Training diagnostics that SB3's loss terms do not show."""

import contextlib
from collections.abc import Iterator

import numpy as np
import torch as th
from stable_baselines3.common.policies import ActorCriticPolicy, BasePolicy
from stable_baselines3.common.sb2_compat.rmsprop_tf_like import RMSpropTFLike
from stable_baselines3.common.vec_env import VecEnv
from torch import nn


@contextlib.contextmanager
def inactive_units(policy: ActorCriticPolicy) -> Iterator[dict[str, float]]:
    """
    Watch the last hidden layer of the actor and critic heads (the ``mlp_extractor``'s ``latent_pi`` and
    ``latent_vf``) during the forward passes inside the ``with`` block. On exit, the dict it yields holds, per
    head (``"pi"``, ``"vf"``), the share of those units that are zero for every row of the last pass: after a
    ReLU, units that fired for none of the batch's states and so take no gradient from it. A unit dead for
    good shows here at every update; one the batch merely missed comes and goes.

    :param policy: the policy whose heads to watch
    """
    shares: dict[str, float] = {}
    latents: list[tuple[th.Tensor, th.Tensor]] = []
    handle = policy.mlp_extractor.register_forward_hook(lambda module, inputs, output: latents.append(output))
    try:
        yield shares
    finally:
        handle.remove()
    if latents:
        for head, latent in zip(("pi", "vf"), latents[-1]):
            if latent.dim() == 2 and latent.shape[1] > 0:
                shares[head] = (latent == 0).all(dim=0).float().mean().item()


def rmsprop_step_to_learning_rate(policy: BasePolicy, activation: str) -> float | None:
    """
    How far RMSprop moves the weights of the linear layer before ``activation``, as a share of the learning
    rate: the mean over its weights of the gradient's RMS (the root of RMSprop's squared-gradient average)
    over RMSprop's denominator. TF-like RMSprop adds epsilon under the root, torch's after it, so gradients
    far below the root of epsilon get steps far below the learning rate from the TF-like one.

    :param policy: a policy trained with RMSprop (torch's or :class:`RMSpropTFLike`)
    :param activation: the module path of an activation after a linear layer (or after its BatchNorm), as
        :func:`unit_activity` names it
    :return: the share, or None where the module before it is no linear layer, it had no update yet, or the
        optimiser is not RMSprop
    """
    prefix, index = activation.rsplit(".", 1)
    linear = None
    if index.isdigit() and int(index) > 0:
        linear = policy.get_submodule(f"{prefix}.{int(index) - 1}")
    optimizer = policy.optimizer
    state = optimizer.state.get(linear.weight, {}) if isinstance(linear, nn.Linear) else {}
    if "square_avg" not in state or not isinstance(optimizer, RMSpropTFLike | th.optim.RMSprop):
        return None  # not a linear layer's activation, no update yet, or not RMSprop
    square_avg, eps = state["square_avg"], optimizer.param_groups[0]["eps"]
    rms = square_avg.sqrt()
    denominator = (square_avg + eps).sqrt() if isinstance(optimizer, RMSpropTFLike) else rms + eps
    return (rms / denominator).mean().item()


def unit_activity(policy: ActorCriticPolicy, env: VecEnv, steps: int) -> tuple[dict[str, tuple[int, float, float]], float]:
    """
    Play ``env`` with ``policy`` (sampled actions, evaluation mode) and watch the ReLU and leaky ReLU units after
    its linear layers. A ReLU unit that never fires passes no gradient to its weights: it has stopped learning for
    good (a leaky one still passes a hundredth). Where :func:`inactive_units` sees one update's batch, this sees
    every state of ``steps`` steps of play.

    :param policy: the policy to watch
    :param env: the environment it plays, reset first
    :param steps: how many steps it plays
    :return: per activation layer (named by its module path) its number of units, the share that never
        fired, and the mean over the visited states of the share that fired; and the mean entropy of the
        action distribution over the visited states
    """
    fired: dict[str, th.Tensor] = {}
    per_state: dict[str, list[float]] = {}

    def watch(name: str):
        def hook(module: nn.Module, inputs: tuple[th.Tensor, ...], output: th.Tensor) -> None:
            if inputs[0].dim() == 2:  # after a linear layer; the convolutions' activations are 4-D
                active = inputs[0] > 0
                fired[name] = fired[name] | active.any(dim=0) if name in fired else active.any(dim=0)
                per_state.setdefault(name, []).append(active.float().mean().item())

        return hook

    handles = [
        module.register_forward_hook(watch(name))
        for name, module in policy.named_modules()
        if isinstance(module, nn.ReLU | nn.LeakyReLU)
    ]
    policy.set_training_mode(False)
    entropies = []
    observations = env.reset()
    try:
        with th.no_grad():
            for _ in range(steps):
                tensor = policy.obs_to_tensor(observations)[0]
                distribution = policy.get_distribution(tensor)
                policy.predict_values(tensor)  # the critic's own hidden layers, where it has them
                entropies.append(distribution.entropy().mean().item())
                observations, _, _, _ = env.step(distribution.get_actions().cpu().numpy())
    finally:
        for handle in handles:
            handle.remove()
    layers = {
        name: (active.numel(), 1.0 - active.float().mean().item(), float(np.mean(per_state[name])))
        for name, active in fired.items()
    }
    return layers, float(np.mean(entropies))
