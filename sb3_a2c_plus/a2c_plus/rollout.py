"""
The rollout of A2CPlus: SB3's ``OnPolicyAlgorithm.collect_rollouts`` with the critic of A2CPlus's own policies
run once per rollout instead of at every step, BatchNorm as ``rollout_batch_norm`` says, and the returns computed
by ``advantage_estimator``.
"""

from typing import Any

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.buffers import RolloutBuffer
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm
from stable_baselines3.common.policies import ActorCriticPolicy, BasePolicy
from stable_baselines3.common.utils import obs_as_tensor
from stable_baselines3.common.vec_env import SubprocVecEnv, VecEnv

from sb3_a2c_plus.a2c_plus.policies import A2CPlusPolicy
from sb3_a2c_plus.common.faults import PIPE_ERRORS, dead_worker_error, env_step_uninterrupted
from sb3_a2c_plus.common.openmp import release_idle_threads
from sb3_a2c_plus.common.returns import estimate_returns


def _check_finite(obs: np.ndarray | dict[str, np.ndarray], num_timesteps: int) -> None:
    """
    Raise a ValueError on NaN or infinite float observations. The rollouts' action distributions
    skip torch's own argument checks (see ``A2CPlusPolicy.act_deferring_values``), which used to catch them.
    """
    for array in obs.values() if isinstance(obs, dict) else [obs]:
        if array.dtype.kind == "f" and not np.isfinite(array).all():
            raise ValueError(
                f"A2CPlus, after {num_timesteps} steps: the environment returned a NaN or infinite observation. "
                "Wrap it in stable_baselines3.common.vec_env.VecCheckNan(env, raise_exception=True) to find "
                "the step that produced it."
            )


def defers_values(policy: BasePolicy) -> bool:
    """
    Whether the rollout may run the critic once per rollout (``act_deferring_values``) rather than
    ``forward()`` at each step: only for A2CPlus's own policies, and only where ``forward()`` is the
    one they inherit, so a subclass that overrides ``forward()`` has its values used as written.
    """
    return isinstance(policy, A2CPlusPolicy) and type(policy).forward is ActorCriticPolicy.forward


class DeferredCriticRollout(OnPolicyAlgorithm):
    """
    The rollout half of :class:`~sb3_a2c_plus.a2c_plus.a2c_plus.A2CPlus`, which sets the attributes it reads:
    ``rollout_batch_norm`` (``"running"`` or ``"batch"``) and ``advantage_estimator``.
    """

    policy: ActorCriticPolicy
    rollout_batch_norm: str
    advantage_estimator: str

    def collect_rollouts(
        self,
        env: VecEnv,
        callback: BaseCallback,
        rollout_buffer: RolloutBuffer,
        n_rollout_steps: int,
    ) -> bool:
        """
        Collect experiences using the current policy and fill a ``RolloutBuffer``, then compute
        returns and advantages with ``advantage_estimator``. As in SB3, with these changes:
        BatchNorm follows ``rollout_batch_norm``, forward passes run in inference mode, with
        A2CPlus's own policies (:func:`defers_values`) the critic's values are computed once for the
        whole rollout after its last step (each step keeps the critic's input; callbacks see no
        ``values`` and the buffer's values are NaN until then; other policies run ``forward()``
        at each step, as in SB3), the bootstrap values of time-limit truncations are computed in one batch, on a
        ``SubprocVecEnv`` the idle OpenMP threads of torch are released before each step (as
        :class:`~sb3_a2c_plus.envs.AtariVecEnv` does).

        :param env: The training environment
        :param callback: Callback that will be called at each step
            (and at the beginning and end of the rollout)
        :param rollout_buffer: Buffer to fill with rollouts
        :param n_rollout_steps: Number of experiences to collect per environment
        :return: True if function returned with at least `n_rollout_steps`
            collected, False if callback terminated rollout prematurely.
        """
        assert self._last_obs is not None, "No previous observation was provided"
        self.policy.set_training_mode(self.rollout_batch_norm == "batch")
        rollout_buffer.reset()
        # Sample new weights for the state dependent exploration
        if self.use_sde:
            self.policy.reset_noise(env.num_envs)

        callback.on_rollout_start()

        critic_inputs: list[th.Tensor] = []
        # Games stepped in other processes need the cores that torch's idle OpenMP threads would spin on
        # after each forward pass (AtariVecEnv releases them itself; envs stepped here leave the cores free)
        release_threads = isinstance(env.unwrapped, SubprocVecEnv)
        for n_steps in range(n_rollout_steps):
            if self.use_sde and self.sde_sample_freq > 0 and n_steps % self.sde_sample_freq == 0:
                # Sample a new noise matrix
                self.policy.reset_noise(env.num_envs)
            actions, clipped_actions, critic_input, log_probs = self._act(self._last_obs)  # type: ignore[arg-type]
            if release_threads:
                release_idle_threads()
            try:
                with env_step_uninterrupted():
                    new_obs, rewards, dones, infos = env.step(clipped_actions)
            except PIPE_ERRORS as error:
                raise (dead_worker_error(env) or error) from error
            if not self._record_step(env, callback, rollout_buffer, actions, log_probs, new_obs, rewards, dones, infos):
                return False
            critic_inputs.append(critic_input)

        with th.inference_mode():
            values = th.cat(critic_inputs)
            if defers_values(self.policy):
                values = self.policy.values_from_critic_input(values)
            # Compute value for the last timestep
            last_values = self.policy.predict_values(obs_as_tensor(self._last_obs, self.device))  # type: ignore[arg-type]
        rollout_buffer.values[:] = values.cpu().numpy().reshape(rollout_buffer.values.shape)

        rollout_buffer.advantages[:], rollout_buffer.returns[:] = estimate_returns(
            self.advantage_estimator,
            rewards=rollout_buffer.rewards,
            values=rollout_buffer.values,
            episode_starts=rollout_buffer.episode_starts,
            last_values=last_values.cpu().numpy().flatten(),
            last_dones=self._last_episode_starts,  # type: ignore[arg-type]
            gamma=self.gamma,
            gae_lambda=self.gae_lambda,
        )

        callback.update_locals(locals())

        callback.on_rollout_end()

        return True

    def _act(self, obs: np.ndarray | dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, th.Tensor, th.Tensor]:
        """
        Actions as sampled and as sent to the env (clipped or unscaled), what the critic needs
        (its input where :func:`defers_values`, else the values from ``forward()``) and log-probabilities.
        """
        _check_finite(obs, self.num_timesteps)
        with th.inference_mode():
            if defers_values(self.policy):
                actions, log_probs, critic_input = self.policy.act_deferring_values(obs_as_tensor(obs, self.device))
            else:
                actions, critic_input, log_probs = self.policy(obs_as_tensor(obs, self.device))
        actions = actions.cpu().numpy()
        clipped_actions = actions
        if isinstance(self.action_space, spaces.Box):
            if self.policy.squash_output:
                # Unscale the actions to match env bounds if they were squashed to [-1, 1]
                clipped_actions = self.policy.unscale_action(clipped_actions)
            else:
                # Clip the actions: they come from an unbounded Gaussian
                clipped_actions = np.clip(actions, self.action_space.low, self.action_space.high)
        return actions, clipped_actions, critic_input, log_probs

    def _record_step(
        self,
        env: VecEnv,
        callback: BaseCallback,
        rollout_buffer: RolloutBuffer,
        actions: np.ndarray,
        log_probs: th.Tensor,
        new_obs: np.ndarray,
        rewards: np.ndarray,
        dones: np.ndarray,
        infos: list[dict[str, Any]],
    ) -> bool:
        """
        Count the step, run the callbacks and store the transition with NaN values (``collect_rollouts``
        fills them in); False if a callback stops training.
        """
        self.num_timesteps += env.num_envs

        # Give access to local variables
        callback.update_locals(locals())
        if not callback.on_step():
            return False

        self._update_info_buffer(infos, dones)

        if isinstance(self.action_space, spaces.Discrete):
            # Reshape in case of discrete action
            actions = actions.reshape(-1, 1)

        self._bootstrap_truncated_episodes(rewards, dones, infos)

        rollout_buffer.add(
            self._last_obs,  # type: ignore[arg-type]
            actions,
            rewards,
            self._last_episode_starts,  # type: ignore[arg-type]
            th.full((env.num_envs,), th.nan),
            log_probs,
        )
        self._last_obs = new_obs  # type: ignore[assignment]
        self._last_episode_starts = dones
        return True

    def _bootstrap_truncated_episodes(self, rewards: np.ndarray, dones: np.ndarray, infos: list[dict[str, Any]]) -> None:
        """
        Add ``gamma * V(terminal_obs)`` to the reward of episodes cut by a time limit, so they
        are not treated as terminal (SB3 GH#633). One forward pass for all such envs, always
        with the BatchNorm running statistics.
        """
        truncated = [
            idx
            for idx, done in enumerate(dones)
            if done and infos[idx].get("terminal_observation") is not None and infos[idx].get("TimeLimit.truncated", False)
        ]
        if not truncated:
            return
        terminal_obs: np.ndarray | dict[str, np.ndarray]
        if isinstance(self.observation_space, spaces.Dict):
            terminal_obs = {
                key: np.stack([infos[idx]["terminal_observation"][key] for idx in truncated])
                for key in self.observation_space.spaces
            }
        else:
            terminal_obs = np.stack([infos[idx]["terminal_observation"] for idx in truncated])
        training = self.policy.training
        self.policy.set_training_mode(False)
        with th.inference_mode():
            terminal_values = self.policy.predict_values(self.policy.obs_to_tensor(terminal_obs)[0])
        self.policy.set_training_mode(training)
        rewards[truncated] += self.gamma * terminal_values.cpu().numpy().flatten()
