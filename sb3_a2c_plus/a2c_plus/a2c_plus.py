import contextlib
import io
import pathlib
import pickle
import warnings
import zipfile
from collections.abc import Iterable
from typing import Any, ClassVar, NamedTuple, TypeVar

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.buffers import RolloutBuffer
from stable_baselines3.common.policies import ActorCriticPolicy, BasePolicy
from stable_baselines3.common.type_aliases import GymEnv, MaybeCallback, Schedule
from stable_baselines3.common.utils import LinearSchedule, explained_variance
from torch.nn import functional as F

from sb3_a2c_plus.a2c_plus.policies import CnnPolicy, MlpPolicy, MultiInputPolicy
from sb3_a2c_plus.a2c_plus.rollout import DeferredCriticRollout
from sb3_a2c_plus.common.diagnostics import inactive_units
from sb3_a2c_plus.common.faults import sigterm_as_keyboard_interrupt
from sb3_a2c_plus.common.returns import ADVANTAGE_ESTIMATORS
from sb3_a2c_plus.common.save_util import check_model_file, save_atomically
from sb3_a2c_plus.common.torch_layers import batch_norm_per_group
from sb3_a2c_plus.common.utils import is_integer

SelfA2CPlus = TypeVar("SelfA2CPlus", bound="A2CPlus")

ROLLOUT_BATCH_NORM_MODES = ("running", "batch")
GRAD_CLIP_MODES = ("global", "per_parameter")
# Settings left at None, resolved by the policy class. CnnPolicy: the A2C paper's Atari values (the zoo's too),
# where they were measured. Every other policy: SB3's A2C loss coefficients, with each parameter tensor's gradient
# clipped on its own and the rate decayed linearly from 1e-3, which beat SB3's A2C defaults on CartPole, Acrobot (10
# seeds each) and LunarLander (20) (docs/benchmarks.md, "README's vector quickstart"); the global clip at 0.5 scaled
# every early update there, so the critic's error set how far the actor moved
IMAGE_POLICY_DEFAULTS = dict(ent_coef=0.01, vf_coef=0.25, learning_rate=7e-4, grad_clip="global")
OTHER_POLICY_DEFAULTS = dict(
    ent_coef=0.0, vf_coef=0.5, learning_rate=LinearSchedule(1e-3, 0.0, 1.0), grad_clip="per_parameter"
)
# What the update and the rollout call on a policy
POLICY_METHODS = ("forward", "evaluate_actions", "predict_values")


class RolloutBatch(NamedTuple):
    observations: th.Tensor | dict[str, th.Tensor]
    actions: th.Tensor
    advantages: th.Tensor
    returns: th.Tensor


class NonFiniteLossError(ValueError):
    """A loss or gradient was NaN or infinite; the optimiser step was not taken."""


def _is_fraction(value: Any) -> bool:
    """A number in [0, 1] (bool is an int subclass: True would pass as 1)."""
    return not isinstance(value, bool) and isinstance(value, (int, float)) and 0.0 <= value <= 1.0


class A2CPlus(DeferredCriticRollout):
    """
    Advantage Actor Critic with an explicit return estimator, a BatchNorm conv backbone and
    separate actor and critic heads (see :class:`~sb3_a2c_plus.a2c_plus.policies.CnnPolicy`).

    Paper: https://arxiv.org/abs/1602.01783. It accepts every parameter of SB3's ``A2C`` with
    the same meaning, and adds ``advantage_estimator``, ``grad_clip`` and ``rollout_batch_norm``.

    The default estimator is ``"nstep"``, the reference notebook's targets: they carry no
    lambda to tune. In the ablations of docs/benchmarks.md GAE(0.95) did not beat them: on
    LunarLander it scored below them, and on SpaceInvaders the two were within the spread over
    seeds. The tuned LunarLander entry uses GAE with a lambda of almost 1, i.e. close to n-step.

    :param policy: The policy model to use (MlpPolicy, CnnPolicy, MultiInputPolicy), or any
        subclass of SB3's ``ActorCriticPolicy``. A2CPlus's own policies compute the critic once per
        rollout; other policies, and subclasses that override ``forward()``, run ``forward()`` at
        each step as SB3's ``A2C`` does
    :param env: The environment to learn from (if registered in Gym, can be str)
    :param learning_rate: The learning rate, it can be a function of the current progress
        remaining (from 1 to 0), e.g. ``stable_baselines3.common.utils.LinearSchedule(7e-4, 0.0, 1.0)``
        for a linear decay to 0. ``None``: a constant 7e-4 for ``CnnPolicy`` (SB3's A2C), else a linear
        decay from 1e-3 to 0 over the run
    :param n_steps: The number of steps to run for each environment per update
        (i.e. batch size is n_steps * n_env where n_env is number of environment copies running in parallel)
    :param gamma: Discount factor
    :param advantage_estimator: ``"nstep"``: value targets are the discounted rewards over the rest
        of the rollout plus ``gamma^(T-t) V(s_T)``, cut at episode ends, and the advantage is
        target minus ``V(s_t)``; ``"gae"``: GAE(``gae_lambda``) advantages with lambda-returns as
        value targets (``gae_lambda=1`` equals ``"nstep"``)
    :param gae_lambda: Factor for trade-off of bias vs variance for the ``"gae"`` estimator, in [0, 1].
        ``None``: 0.95 for ``"gae"``, 1 for ``"nstep"`` (which is GAE(1)); a value other than 1
        given with ``"nstep"`` has no effect and gets a warning that says so
    :param ent_coef: Entropy coefficient for the loss calculation. ``None``: 0.01 for ``CnnPolicy``
        (the A2C paper's Atari value), else 0.0 (SB3's A2C)
    :param vf_coef: Value function coefficient for the loss calculation. ``None``: 0.25 for
        ``CnnPolicy`` (the A2C paper's Atari value), else 0.5 (SB3's A2C)
    :param max_grad_norm: The maximum value for the gradient clipping
    :param grad_clip: What ``max_grad_norm`` bounds. ``"global"`` (SB3): the norm of all the
        gradients together, scaled down as one vector, so the update keeps its direction;
        ``"per_parameter"``: each parameter tensor's gradient on its own (TensorFlow's
        ``clip_by_norm`` per tensor, as the LunarLander notebook, shared/seeds/004), so the
        update's total norm may reach ``max_grad_norm`` times the square root of the number of tensors.
        ``None``: ``"global"`` for ``CnnPolicy``, else ``"per_parameter"`` (a large critic gradient then
        no longer shrinks the actor's step)
    :param rms_prop_eps: RMSProp epsilon. It stabilizes square root computation in denominator
        of RMSProp update
    :param use_rms_prop: Whether to use RMSprop (default, alpha 0.99) or Adam as optimizer.
        For SB3's TF-like RMSprop pass ``policy_kwargs=dict(optimizer_class=RMSpropTFLike,
        optimizer_kwargs=dict(eps=1e-5))`` (``stable_baselines3.common.sb2_compat.rmsprop_tf_like``)
    :param use_sde: Whether to use generalized State Dependent Exploration (gSDE)
        instead of action noise exploration (default: False)
    :param sde_sample_freq: Sample a new noise matrix every n steps when using gSDE
        Default: -1 (only sample at the beginning of the rollout)
    :param rollout_buffer_class: Rollout buffer class to use. If ``None``, it will be automatically selected.
        Returns and advantages are computed by ``advantage_estimator`` whatever the class.
    :param rollout_buffer_kwargs: Keyword arguments to pass to the rollout buffer on creation.
    :param normalize_advantage: Whether to normalize or not the advantage
    :param rollout_batch_norm: How BatchNorm layers behave while collecting rollouts.
        ``"running"`` (as SB3): eval mode, normalise with the running statistics and leave them
        unchanged; only the gradient step (train mode) updates them. ``"batch"`` (the reference
        notebook): train mode, normalise each step's batch of ``n_envs`` observations with its own
        statistics and update the running ones. Predictions (``predict``, evaluation) always use
        the running statistics, and so do the bootstrap values of time-limit truncations.
    :param stats_window_size: Window size for the rollout logging, specifying the number of episodes to average
        the reported success rate, mean episode length, and mean reward over
    :param tensorboard_log: the log location for tensorboard (if None, no logging)
    :param policy_kwargs: additional arguments to be passed to the policy on creation
    :param verbose: Verbosity level: 0 for no output, 1 for info messages (such as device or wrappers used), 2 for
        debug messages
    :param seed: Seed for the pseudo random generators
    :param device: Device (cpu, cuda, ...) on which the code should be run.
        Setting it to auto, the code will be run on the GPU if possible.
    :param _init_setup_model: Whether or not to build the network at the creation of the instance
    """

    policy_aliases: ClassVar[dict[str, type[BasePolicy]]] = {
        "MlpPolicy": MlpPolicy,
        "CnnPolicy": CnnPolicy,
        "MultiInputPolicy": MultiInputPolicy,
    }
    policy: ActorCriticPolicy

    def __init__(
        self,
        policy: str | type[ActorCriticPolicy],
        env: GymEnv | str,
        learning_rate: float | Schedule | None = None,
        n_steps: int = 5,
        gamma: float = 0.99,
        advantage_estimator: str = "nstep",
        gae_lambda: float | None = None,
        ent_coef: float | None = None,
        vf_coef: float | None = None,
        max_grad_norm: float = 0.5,
        grad_clip: str | None = None,
        rms_prop_eps: float = 1e-5,
        use_rms_prop: bool = True,
        use_sde: bool = False,
        sde_sample_freq: int = -1,
        rollout_buffer_class: type[RolloutBuffer] | None = None,
        rollout_buffer_kwargs: dict[str, Any] | None = None,
        normalize_advantage: bool = False,
        rollout_batch_norm: str = "running",
        stats_window_size: int = 100,
        tensorboard_log: str | None = None,
        policy_kwargs: dict[str, Any] | None = None,
        verbose: int = 0,
        seed: int | None = None,
        device: th.device | str = "auto",
        _init_setup_model: bool = True,
    ):
        if gae_lambda is None:
            gae_lambda = 0.95 if advantage_estimator == "gae" else 1.0
        elif advantage_estimator == "nstep" and _is_fraction(gae_lambda) and gae_lambda != 1.0:
            warnings.warn(
                f"gae_lambda={gae_lambda} has no effect with advantage_estimator='nstep' (n-step returns are "
                "GAE with lambda 1): pass advantage_estimator='gae' to use it",
                UserWarning,
                stacklevel=2,
            )
        super().__init__(
            policy,
            env,
            learning_rate=learning_rate,
            n_steps=n_steps,
            gamma=gamma,
            gae_lambda=gae_lambda,
            ent_coef=ent_coef,
            vf_coef=vf_coef,
            max_grad_norm=max_grad_norm,
            use_sde=use_sde,
            sde_sample_freq=sde_sample_freq,
            rollout_buffer_class=rollout_buffer_class,
            rollout_buffer_kwargs=rollout_buffer_kwargs,
            stats_window_size=stats_window_size,
            tensorboard_log=tensorboard_log,
            policy_kwargs=policy_kwargs,
            verbose=verbose,
            device=device,
            seed=seed,
            _init_setup_model=False,
            supported_action_spaces=(
                spaces.Box,
                spaces.Discrete,
                spaces.MultiDiscrete,
                spaces.MultiBinary,
            ),
        )

        self.advantage_estimator = advantage_estimator
        self.normalize_advantage = normalize_advantage
        self.rollout_batch_norm = rollout_batch_norm
        self.grad_clip = grad_clip

        # RMSprop as in the original A2C (and SB3's A2C), unless an optimizer is given explicitly
        if use_rms_prop and "optimizer_class" not in self.policy_kwargs:
            self.policy_kwargs["optimizer_class"] = th.optim.RMSprop
            self.policy_kwargs["optimizer_kwargs"] = dict(alpha=0.99, eps=rms_prop_eps, weight_decay=0)

        if _init_setup_model:
            self._setup_model()

    def _check_policy_class(self) -> None:
        # Refused here rather than deep inside learn(), after the environments have started
        missing = [name for name in POLICY_METHODS if not callable(getattr(self.policy_class, name, None))]
        if not isinstance(self.policy_class, type) or not issubclass(self.policy_class, ActorCriticPolicy) or missing:
            name = getattr(self.policy_class, "__name__", repr(self.policy_class))
            lacks = f"it lacks {', '.join(missing)}" if missing else "it is not a subclass of ActorCriticPolicy"
            raise TypeError(
                f"A2CPlus needs an actor-critic policy (a subclass of stable_baselines3's ActorCriticPolicy, which "
                f"provides {', '.join(POLICY_METHODS)}): {name} cannot be used, {lacks}"
            )

    def _check_hyperparameters(self) -> None:
        if self.advantage_estimator not in ADVANTAGE_ESTIMATORS:
            raise ValueError(f"advantage_estimator must be one of {ADVANTAGE_ESTIMATORS}, got {self.advantage_estimator!r}")
        if not _is_fraction(self.gae_lambda):
            raise ValueError(f"gae_lambda must be in [0, 1], got {self.gae_lambda}")
        if not is_integer(self.n_steps) or self.n_steps < 1:
            raise ValueError(f"n_steps must be an integer >= 1, got {self.n_steps!r}")
        if self.rollout_batch_norm not in ROLLOUT_BATCH_NORM_MODES:
            raise ValueError(f"rollout_batch_norm must be one of {ROLLOUT_BATCH_NORM_MODES}, got {self.rollout_batch_norm!r}")
        if self.grad_clip not in GRAD_CLIP_MODES:
            raise ValueError(f"grad_clip must be one of {GRAD_CLIP_MODES}, got {self.grad_clip!r}")

    def _setup_model(self) -> None:
        self._check_policy_class()
        defaults = IMAGE_POLICY_DEFAULTS if issubclass(self.policy_class, CnnPolicy) else OTHER_POLICY_DEFAULTS
        for name, default in defaults.items():
            if getattr(self, name) is None:
                setattr(self, name, default)
        self._check_hyperparameters()
        super()._setup_model()

    def _maybe_recommend_cpu(self, mlp_class_name: str = "A2CPlusPolicy") -> None:
        super()._maybe_recommend_cpu(mlp_class_name)

    def _rollout_batch(self) -> RolloutBatch:
        """
        The whole rollout as one batch in time-major order (row ``step * n_envs + env``). A2C takes
        a single gradient step, so SB3's shuffle and its two copies of the observations are skipped.
        """
        buffer = self.rollout_buffer
        n_rows = buffer.buffer_size * buffer.n_envs
        observations: th.Tensor | dict[str, th.Tensor]
        if isinstance(buffer.observations, dict):
            observations = {
                key: buffer.to_torch(obs.reshape(n_rows, *obs.shape[2:])) for key, obs in buffer.observations.items()
            }
        else:
            observations = buffer.to_torch(buffer.observations.reshape(n_rows, *buffer.observations.shape[2:]))
        return RolloutBatch(
            observations=observations,
            # float32 like SB3's RolloutBuffer.get, which Discrete actions are cast back from
            actions=buffer.to_torch(buffer.actions.reshape(n_rows, -1).astype(np.float32, copy=False)),
            advantages=buffer.to_torch(buffer.advantages.reshape(n_rows)),
            returns=buffer.to_torch(buffer.returns.reshape(n_rows)),
        )

    def train(self) -> None:
        """
        Update policy using the currently gathered rollout buffer (one gradient step over the
        whole rollout). Raises :class:`NonFiniteLossError` before the optimiser step when the
        loss or the gradient is not finite, so the weights stay those of the last good update.
        """
        # Switch to train mode (this affects batch norm / dropout)
        self.policy.set_training_mode(True)

        # Update optimizer learning rate
        self._update_learning_rate(self.policy.optimizer)

        rollout_data = self._rollout_batch()
        actions = rollout_data.actions
        if isinstance(self.action_space, spaces.Discrete):
            # Convert discrete action from float to long
            actions = actions.long().flatten()

        # "batch": each env step's observations normalised together, as they were during the rollout (the reference
        # notebook backpropagates through those very forward passes), in one pass; the rollout has already moved
        # the running statistics with these batches
        per_step = self.rollout_batch_norm == "batch"
        with batch_norm_per_group(self.policy, self.rollout_buffer.n_envs) if per_step else contextlib.nullcontext():
            with inactive_units(self.policy) as inactive:
                values, log_prob, entropy = self.policy.evaluate_actions(rollout_data.observations, actions)
        values = values.flatten()

        advantages = rollout_data.advantages
        if self.normalize_advantage:
            advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)

        policy_loss = -(advantages * log_prob).mean()
        value_loss = F.mse_loss(rollout_data.returns, values)
        # Approximate the entropy when it has no analytical form
        entropy_loss = -th.mean(-log_prob) if entropy is None else -th.mean(entropy)

        loss = policy_loss + self.ent_coef * entropy_loss + self.vf_coef * value_loss

        self.policy.optimizer.zero_grad()
        loss.backward()
        grad_norm, clipped = self._clip_gradients()
        if not (th.isfinite(loss) and th.isfinite(grad_norm)):
            raise NonFiniteLossError(
                f"A2CPlus update {self._n_updates + 1}: non-finite loss ({loss.item()}) or gradient norm "
                f"({grad_norm.item()}). The optimiser step was not taken, so the weights are those after update "
                f"{self._n_updates}. Try a lower learning_rate or max_grad_norm, and check the environment "
                "for NaN or infinite observations and rewards."
            )
        self.policy.optimizer.step()
        self._n_updates += 1

        explained_var = explained_variance(self.rollout_buffer.values.flatten(), self.rollout_buffer.returns.flatten())
        self.logger.record("train/n_updates", self._n_updates, exclude="tensorboard")
        self.logger.record("train/explained_variance", explained_var)
        self.logger.record("train/entropy_loss", entropy_loss.item())
        self.logger.record("train/policy_loss", policy_loss.item())
        self.logger.record("train/value_loss", value_loss.item())
        self.logger.record("train/grad_norm", grad_norm.item())
        # Averaged over the updates since the last log: how often the clip, not the learning rate, set the step
        self.logger.record_mean("train/clipped_share", float(clipped))
        self.logger.record("train/advantage_mean", rollout_data.advantages.mean().item())
        self.logger.record("train/value_mean", values.mean().item())
        self.logger.record("train/value_target_mean", rollout_data.returns.mean().item())
        # Averaged like the clipped share: units that stay at 0 over whole batches stop learning (dead ReLUs)
        for head, share in inactive.items():
            self.logger.record_mean(f"train/inactive_units_{head}", share)
        if hasattr(self.policy, "log_std"):
            self.logger.record("train/std", th.exp(self.policy.log_std).mean().item())

    def _clip_gradients(self) -> tuple[th.Tensor, bool]:
        """
        Clip the gradients as ``grad_clip`` says; return the global norm before clipping (the signal
        of exploding updates, whatever the mode) and whether any gradient was scaled down.
        """
        if self.grad_clip == "global":
            grad_norm = th.nn.utils.clip_grad_norm_(self.policy.parameters(), self.max_grad_norm)
            return grad_norm, bool(grad_norm > self.max_grad_norm)
        norms = th.stack(
            [
                th.nn.utils.clip_grad_norm_(param, self.max_grad_norm)
                for param in self.policy.parameters()
                if param.grad is not None
            ]
        )
        return th.linalg.vector_norm(norms), bool((norms > self.max_grad_norm).any())

    def learn(
        self: SelfA2CPlus,
        total_timesteps: int,
        callback: MaybeCallback = None,
        log_interval: int = 100,
        tb_log_name: str = "A2CPlus",
        reset_num_timesteps: bool = True,
        progress_bar: bool = False,
    ) -> SelfA2CPlus:
        """
        SB3's ``learn``, with two faults made explicit: SIGTERM stops it as Ctrl-C does (``KeyboardInterrupt``,
        on which RL Zoo saves the model; never within a step of the env, which could then not be closed),
        and a ``SubprocVecEnv`` worker that dies ends it with an
        :class:`~sb3_a2c_plus.common.faults.EnvWorkerError` naming the env and how it died.
        """
        with sigterm_as_keyboard_interrupt():
            return super().learn(
                total_timesteps=total_timesteps,
                callback=callback,
                log_interval=log_interval,
                tb_log_name=tb_log_name,
                reset_num_timesteps=reset_num_timesteps,
                progress_bar=progress_bar,
            )

    def save(
        self,
        path: str | pathlib.Path | io.BufferedIOBase,
        exclude: Iterable[str] | None = None,
        include: Iterable[str] | None = None,
    ) -> None:
        """
        SB3's ``save``, made atomic for a file path (and so for the zoo's checkpoints, ``best_model.zip``
        and final model): the file at ``path`` is always either the complete previous model or the
        complete new one (see :func:`~sb3_a2c_plus.common.save_util.save_atomically`). A failed save
        raises an ``OSError`` that names the path. An open file object is written as SB3 writes it.

        :param path: path to the file where the model should be saved (``.zip`` is added without a suffix),
            or an open binary file
        :param exclude: names of parameters that should be excluded in addition to the default ones
        :param include: names of parameters that might be excluded but should be included anyway
        """
        if isinstance(path, (str, pathlib.Path)):
            save_atomically(path, lambda temporary: super(A2CPlus, self).save(temporary, exclude, include))
        else:
            super().save(path, exclude, include)

    @classmethod
    def load(  # type: ignore[override]
        cls: type[SelfA2CPlus],
        path: str | pathlib.Path | io.BufferedIOBase,
        env: GymEnv | None = None,
        device: th.device | str = "auto",
        custom_objects: dict[str, Any] | None = None,
        print_system_info: bool = False,
        force_reset: bool = True,
        **kwargs: Any,
    ) -> SelfA2CPlus:
        """
        Load an A2CPlus model from a zip file: weights, BatchNorm running statistics, optimizer
        state and hyperparameters. A corrupted file, or one saved by another algorithm, raises
        a ``ValueError`` that says so. See ``BaseAlgorithm.load`` for the parameters.
        """
        check_model_file(path, marker="advantage_estimator", algorithm_name=cls.__name__)
        try:
            return super().load(path, env, device, custom_objects, print_system_info, force_reset, **kwargs)
        except (RuntimeError, pickle.UnpicklingError, EOFError, zipfile.BadZipFile) as error:
            raise ValueError(f"{path!s} is corrupted: its parameters could not be restored ({error})") from error
