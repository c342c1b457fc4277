"""Optuna search space of A2CPlus for RL Zoo's ``-optimize``."""

import os
import socket
from typing import Any

import optuna
import torch as th
from stable_baselines3.common.sb2_compat.rmsprop_tf_like import RMSpropTFLike
from torch import nn

from sb3_a2c_plus.zoo import linear_schedule_to_floor

OPTIMIZERS = {
    "rmsprop": (th.optim.RMSprop, dict(alpha=0.99, eps=1e-5, weight_decay=0)),
    "rmsprop_tf": (RMSpropTFLike, dict(alpha=0.99, eps=1e-5)),
}
ACTIVATIONS = {"tanh": nn.Tanh, "relu": nn.ReLU}
# Parameters sampled since the first studies, with the values their trials ran at (no Optuna parameter changes
# its distribution: a study begun with an earlier version goes on)
LATER_PARAMS_DEFAULTS = dict(policy_loss_scale=1.0, grad_clip="global", head_init="orthogonal", lr_end_fraction=0.0)


def sample_a2c_plus_params(trial: optuna.Trial, n_actions: int, n_envs: int, additional_args: dict) -> dict[str, Any]:
    """
    Sample A2CPlus hyperparameters: return estimator (and lambda for GAE), rollout length, gamma,
    learning rate and its schedule (constant, or linear to a share of it), entropy and value coefficients,
    the policy loss's scale against them (:func:`convert_a2c_plus_params`), gradient clip and what it bounds,
    advantage normalisation, optimizer with its alpha and epsilon, head width, layout (shared or separate) and
    initialisation, and for image policies BatchNorm on/off (activation for vector ones). The zoo stores the
    experiment's default hyperparameters in the study's user attributes; the policy there tells image from
    vector policies.

    :param trial: Optuna trial
    :param n_actions: unused, part of RL Zoo's sampler signature
    :param n_envs: unused, part of RL Zoo's sampler signature
    :param additional_args: unused, part of RL Zoo's sampler signature
    :return: hyperparameters ready for ``A2CPlus(...)``
    """
    from rl_zoo3.exp_manager import ExperimentManager

    image_policy = "CnnPolicy" in trial.study.user_attrs.get("policy", "")
    sampled: dict[str, Any] = {
        "advantage_estimator": trial.suggest_categorical("advantage_estimator", ["nstep", "gae"]),
        "n_steps": trial.suggest_categorical("n_steps", [5, 8, 16, 32, 64, 128]),
        "one_minus_gamma": trial.suggest_float("one_minus_gamma", 1e-4, 0.05, log=True),
        "learning_rate": trial.suggest_float("learning_rate", 1e-5, 3e-3, log=True),
        "lr_schedule": trial.suggest_categorical("lr_schedule", ["constant", "linear"]),
        "ent_coef": trial.suggest_float("ent_coef", 1e-8, 0.1, log=True),
        "vf_coef": trial.suggest_float("vf_coef", 0.1, 1.0),
        "max_grad_norm": trial.suggest_float("max_grad_norm", 0.3, 5.0, log=True),
        "normalize_advantage": trial.suggest_categorical("normalize_advantage", [False, True]),
        "optimizer": trial.suggest_categorical("optimizer", list(OPTIMIZERS)),
        "head_width": trial.suggest_categorical("head_width", [64, 128, 256, 512]),
        # The LunarLander notebook's sum over its batch of 40 is a scale of 40 (the faithful config's)
        "policy_loss_scale": trial.suggest_float("policy_loss_scale", 1.0, 100.0, log=True),
        "grad_clip": trial.suggest_categorical("grad_clip", ["global", "per_parameter"]),
        "rms_prop_alpha": trial.suggest_categorical("rms_prop_alpha", [0.9, 0.99]),
        "rms_prop_eps": trial.suggest_float("rms_prop_eps", 1e-8, 1e-4, log=True),
        "head_layout": trial.suggest_categorical("head_layout", ["shared", "separate"]),
        "head_init": trial.suggest_categorical("head_init", ["orthogonal", "torch"]),
    }
    if sampled["lr_schedule"] == "linear":
        sampled["lr_end_fraction"] = trial.suggest_float("lr_end_fraction", 0.0, 0.5)
    if sampled["advantage_estimator"] == "gae":
        sampled["one_minus_gae_lambda"] = trial.suggest_float("one_minus_gae_lambda", 1e-3, 0.2, log=True)
    if image_policy:
        sampled["batch_norm"] = trial.suggest_categorical("batch_norm", [True, False])
    else:
        sampled["activation_fn"] = trial.suggest_categorical("activation_fn", list(ACTIVATIONS))
    trial.set_user_attr("gamma", 1 - sampled["one_minus_gamma"])
    # Which machine and process ran the trial, for tuning spread over several workers
    trial.set_user_attr("worker", f"{socket.gethostname()}:{os.getpid()}")

    # The converter speaks the zoo's config language ("lin_7e-4", "lin_7e-4_7e-5"); the model needs schedules
    hyperparams = convert_a2c_plus_params(sampled)
    learning_rate = hyperparams.pop("learning_rate")
    schedule = linear_schedule_to_floor(learning_rate)
    if schedule is learning_rate:  # a form the zoo reads itself
        schedule = ExperimentManager._preprocess_schedules({"learning_rate": learning_rate})["learning_rate"]
    return {**hyperparams, "learning_rate": schedule}


def convert_a2c_plus_params(sampled_params: dict[str, Any]) -> dict[str, Any]:
    """
    Turn sampled (or stored, for ``--trial-id``) Optuna parameters into A2CPlus hyperparameters,
    in the form of a zoo config entry: a linear learning rate is written ``"lin_<start>"`` (to 0) or
    ``"lin_<start>_<end>"``. ``policy_kwargs`` is complete (optimizer, heads, and BatchNorm or activation),
    since the zoo replaces the config's ``policy_kwargs`` with it. Parameters a trial lacks (stored before
    they were sampled) take the values it ran at (``LATER_PARAMS_DEFAULTS``, separate heads, the optimizer's
    own alpha and epsilon).

    A ``policy_loss_scale`` of s weighs the policy loss s times against the value and entropy terms, as
    summing it over a batch of s does: RMSprop's step does not change when the whole loss is divided by s,
    provided its epsilon is (divided by s, by s squared for the TF-like RMSprop, which adds it under the root)
    and so is the gradient clip. So the value and entropy coefficients, ``max_grad_norm`` and epsilon are divided
    by it, and the policy term keeps the mean the update computes.

    :param sampled_params: the trial's parameters
    :return: hyperparameters in RL Zoo's config form
    """
    params = {**LATER_PARAMS_DEFAULTS, **sampled_params}
    hyperparams: dict[str, Any] = {"gamma": 1 - params.pop("one_minus_gamma")}
    if "one_minus_gae_lambda" in params:
        hyperparams["gae_lambda"] = 1 - params.pop("one_minus_gae_lambda")
    learning_rate, end_fraction = params.pop("learning_rate"), params.pop("lr_end_fraction")
    if params.pop("lr_schedule") == "constant":
        hyperparams["learning_rate"] = learning_rate
    else:
        hyperparams["learning_rate"] = (
            f"lin_{learning_rate}_{learning_rate * end_fraction:.6g}" if end_fraction else f"lin_{learning_rate}"
        )

    scale = params.pop("policy_loss_scale")
    for name in ("vf_coef", "ent_coef", "max_grad_norm"):
        hyperparams[name] = params.pop(name) / scale
    optimizer_class, optimizer_kwargs = OPTIMIZERS[params.pop("optimizer")]
    optimizer_kwargs = {**optimizer_kwargs, "alpha": params.pop("rms_prop_alpha", optimizer_kwargs["alpha"])}
    eps = params.pop("rms_prop_eps", optimizer_kwargs["eps"])
    optimizer_kwargs["eps"] = eps / scale**2 if optimizer_class is RMSpropTFLike else eps / scale

    width = params.pop("head_width")
    # Trials stored before head_layout was sampled for every policy had separate heads
    head_layout = params.pop("head_layout", "separate")
    policy_kwargs: dict[str, Any] = dict(optimizer_class=optimizer_class, optimizer_kwargs=optimizer_kwargs)
    policy_kwargs.update(head_layout=head_layout, head_init=params.pop("head_init"))
    depth = 1 if "batch_norm" in params else 2  # image policies: one hidden layer after the conv backbone
    policy_kwargs["net_arch"] = [width] * depth if head_layout == "shared" else dict(pi=[width] * depth, vf=[width] * depth)
    if "batch_norm" in params:
        policy_kwargs["features_extractor_kwargs"] = dict(batch_norm=params.pop("batch_norm"))
    else:
        policy_kwargs["activation_fn"] = ACTIVATIONS[params.pop("activation_fn")]
    return {**hyperparams, **params, "policy_kwargs": policy_kwargs}
