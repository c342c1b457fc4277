"""Optuna search space of A2CPlus for RL Zoo's ``-optimize``."""

import os
import socket
from typing import Any

import optuna
import torch as th
from stable_baselines3.common.sb2_compat.rmsprop_tf_like import RMSpropTFLike
from torch import nn

OPTIMIZERS = {
    "rmsprop": (th.optim.RMSprop, dict(alpha=0.99, eps=1e-5, weight_decay=0)),
    "rmsprop_tf": (RMSpropTFLike, dict(alpha=0.99, eps=1e-5)),
}
ACTIVATIONS = {"tanh": nn.Tanh, "relu": nn.ReLU}


def sample_a2c_plus_params(trial: optuna.Trial, n_actions: int, n_envs: int, additional_args: dict) -> dict[str, Any]:
    """
    Sample A2CPlus hyperparameters: return estimator (and lambda for GAE), rollout length, gamma,
    learning rate and its schedule, entropy and value coefficients, gradient clip, advantage
    normalisation, optimizer, head width, and for image policies BatchNorm on/off and shared or
    separate heads (activation for vector ones). The zoo stores the experiment's default
    hyperparameters in the study's user attributes; the policy there tells image from vector policies.

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
    }
    if sampled["advantage_estimator"] == "gae":
        sampled["one_minus_gae_lambda"] = trial.suggest_float("one_minus_gae_lambda", 1e-3, 0.2, log=True)
    if image_policy:
        sampled["batch_norm"] = trial.suggest_categorical("batch_norm", [True, False])
        # The `atari` entry's layout and the design's: on LunarLander shared heads scored far lower, so only here
        sampled["head_layout"] = trial.suggest_categorical("head_layout", ["shared", "separate"])
    else:
        sampled["activation_fn"] = trial.suggest_categorical("activation_fn", list(ACTIVATIONS))
    trial.set_user_attr("gamma", 1 - sampled["one_minus_gamma"])
    # Which machine and process ran the trial, for tuning spread over several workers
    trial.set_user_attr("worker", f"{socket.gethostname()}:{os.getpid()}")

    # The converter speaks the zoo's config language ("lin_7e-4"); the model needs schedules.
    return ExperimentManager._preprocess_schedules(convert_a2c_plus_params(sampled))


def convert_a2c_plus_params(sampled_params: dict[str, Any]) -> dict[str, Any]:
    """
    Turn sampled (or stored, for ``--trial-id``) Optuna parameters into A2CPlus hyperparameters,
    in the form of a zoo config entry: a linear learning rate is written ``"lin_<value>"``.
    ``policy_kwargs`` is complete (optimizer, heads, and BatchNorm or activation), since the zoo
    replaces the config's ``policy_kwargs`` with it.

    :param sampled_params: the trial's parameters
    :return: hyperparameters in RL Zoo's config form
    """
    params = dict(sampled_params)
    hyperparams: dict[str, Any] = {"gamma": 1 - params.pop("one_minus_gamma")}
    if "one_minus_gae_lambda" in params:
        hyperparams["gae_lambda"] = 1 - params.pop("one_minus_gae_lambda")
    learning_rate = params.pop("learning_rate")
    hyperparams["learning_rate"] = f"lin_{learning_rate}" if params.pop("lr_schedule") == "linear" else learning_rate

    optimizer_class, optimizer_kwargs = OPTIMIZERS[params.pop("optimizer")]
    width = params.pop("head_width")
    policy_kwargs: dict[str, Any] = dict(optimizer_class=optimizer_class, optimizer_kwargs=dict(optimizer_kwargs))
    if "batch_norm" in params:  # image policy: one hidden layer after the conv backbone, shared or one per head
        # Trials stored before head_layout was sampled had separate heads
        head_layout = params.pop("head_layout", "separate")
        policy_kwargs["net_arch"] = [width] if head_layout == "shared" else dict(pi=[width], vf=[width])
        policy_kwargs["head_layout"] = head_layout
        policy_kwargs["features_extractor_kwargs"] = dict(batch_norm=params.pop("batch_norm"))
    else:
        policy_kwargs["net_arch"] = dict(pi=[width, width], vf=[width, width])
        policy_kwargs["activation_fn"] = ACTIVATIONS[params.pop("activation_fn")]
    return {**hyperparams, **params, "policy_kwargs": policy_kwargs}
