"""
An SB3 ``VecEnv`` over ale_py's C++ vectorised Atari environment (``ale_py.vector_env.AtariVectorEnv``):
emulation, frame skipping, max-pooling, resizing and frame stacking run in C++ threads instead
of one Python process per game.
"""

import time
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from stable_baselines3.common.monitor import Monitor, ResultsWriter
from stable_baselines3.common.vec_env.base_vec_env import VecEnv, VecEnvIndices, VecEnvObs, VecEnvStepReturn

from sb3_a2c_plus.common.faults import EnvWorkerError
from sb3_a2c_plus.common.openmp import release_idle_threads
from sb3_a2c_plus.common.utils import is_integer


def _ale_spec(env_id: str) -> gym.envs.registration.EnvSpec:
    import ale_py

    gym.register_envs(ale_py)
    try:
        spec = gym.spec(env_id)
    except gym.error.Error as error:
        raise ValueError(f"env_id: unknown Atari game {env_id!r} ({error})") from error
    if "AtariEnv" not in str(spec.entry_point):
        raise ValueError(f"env_id: {env_id!r} is not an Atari game of ale_py; use an id such as 'SpaceInvadersNoFrameskip-v4'")
    return spec


class AtariVecEnv(VecEnv):
    """
    Atari games in C++ threads with the observations and semantics of SB3's standard pipeline,
    ``make_atari_env`` (Monitor + ``AtariWrapper``) + ``VecFrameStack(4)`` + ``VecTransposeImage``:
    84x84 grayscale frames, 4 stacked channel-first (uint8), frame skip 4 with max-pooling of the
    last two frames, no-op starts, FIRE on reset, a life loss ends a training episode (the game goes
    on and the frame stack restarts), rewards clipped to their sign, the 108k-frame limit as a
    truncation with ``terminal_observation`` (and ``TimeLimit.truncated``) in the info, and
    ``info["episode"]`` with the raw score and length (in frames) of each full game, as SB3's
    ``Monitor`` reports them.

    Two differences remain, both from the standard wrappers playing scripted steps the agent never
    sees: after a reset the standard pipeline plays FIRE and action 2 (8 frames) where ale_py presses
    FIRE for one frame, and after a lost life it plays a no-op step (and FIRE and action 2 in games
    with FIRE) where here the agent acts at once. With those steps replayed, scores, lengths and
    frames are identical (see tests/test_native_atari.py).

    Each ``step_async`` first releases the idle OpenMP threads of PyTorch, which would otherwise
    spin-wait on the cores the emulator threads need (:mod:`sb3_a2c_plus.common.openmp`).

    :param env_id: Gymnasium id of an ALE game, e.g. ``"SpaceInvadersNoFrameskip-v4"``; the game, its
        sticky-action probability, action set and frame limit come from its registration
    :param n_envs: number of games played in parallel
    :param seed: seed of the first game (game ``i`` gets ``seed + i``); ``None`` for random seeds
    :param n_threads: emulator threads (0: one per core)
    :param noop_max: up to this many no-op frames at the start of each game
    :param frame_skip: frames per agent step
    :param screen_size: side of the square grayscale frames
    :param n_stack: frames stacked per observation
    :param terminal_on_life_loss: whether a lost life ends the training episode
    :param clip_reward: whether rewards are clipped to {-1, 0, 1} (episode scores stay raw)
    :param fire_reset: whether to press FIRE at reset in games that have it
    :param max_episode_frames: frame limit of a game (``None``: the one registered for ``env_id``)
    :param monitor_dir: if given, write ``<i>.monitor.csv`` files there, as ``Monitor`` does
    """

    def __init__(
        self,
        env_id: str,
        n_envs: int = 16,
        seed: int | None = None,
        n_threads: int = 0,
        noop_max: int = 30,
        frame_skip: int = 4,
        screen_size: int = 84,
        n_stack: int = 4,
        terminal_on_life_loss: bool = True,
        clip_reward: bool = True,
        fire_reset: bool = True,
        max_episode_frames: int | None = None,
        monitor_dir: str | None = None,
    ) -> None:
        if not is_integer(n_envs) or n_envs < 1:
            raise ValueError(f"n_envs must be an integer >= 1, got {n_envs!r}")
        spec = _ale_spec(env_id)
        from ale_py.vector_env import AtariVectorEnv

        kwargs = spec.kwargs
        self.env_id = env_id
        self.render_mode = None
        self.clip_reward = clip_reward
        self.terminal_on_life_loss = terminal_on_life_loss
        self.n_stack = n_stack
        self._games = AtariVectorEnv(
            kwargs["game"],
            n_envs,
            num_threads=n_threads,
            max_num_frames_per_episode=max_episode_frames or kwargs.get("max_num_frames_per_episode", 108_000),
            repeat_action_probability=kwargs.get("repeat_action_probability", 0.0),
            full_action_space=kwargs.get("full_action_space", False),
            autoreset_mode="NextStep",  # finished games are reset explicitly, once counted
            img_height=screen_size,
            img_width=screen_size,
            stack_num=n_stack,
            frameskip=frame_skip,
            noop_max=noop_max,
            life_loss_info=terminal_on_life_loss,
            reward_clipping=False,  # the raw score is needed for info["episode"]
            use_fire_reset=fire_reset,
        )
        observation_space = spaces.Box(0, 255, (n_stack, screen_size, screen_size), dtype=np.uint8)
        super().__init__(n_envs, observation_space, self._games.single_action_space)
        self._lives = np.zeros(n_envs, dtype=np.int64)
        self._scores = np.zeros(n_envs, dtype=np.float64)
        # Frames of the current training episode in each stack: older ones are zeroed, as
        # VecFrameStack does at an episode start (ale_py keeps them after a lost life).
        self._stack_depth = np.full(n_envs, n_stack, dtype=np.int64)
        if seed is not None:
            self.seed(seed)  # applied at the next reset, as for SB3's VecEnvs
        self._start_time = time.time()
        self._writers = None
        if monitor_dir is not None:
            header = {"t_start": self._start_time, "env_id": env_id}
            self._writers = [ResultsWriter(f"{monitor_dir}/{index}", header=header) for index in range(n_envs)]

    def reset(self) -> VecEnvObs:
        seeds = None
        if any(seed is not None for seed in self._seeds):
            # ale_py takes C ints; RL Zoo draws seeds up to 2**32 - 1
            seeds = np.array([-1 if seed is None else seed % 2**31 for seed in self._seeds], dtype=np.int64)
        obs, info = self._games.reset(seed=seeds)
        self._reset_seeds()
        self._lives[:] = info["lives"]
        self._scores[:] = 0.0
        self._stack_depth[:] = 1
        self.reset_infos = [{"lives": int(lives)} for lives in self._lives]
        return obs

    def step_async(self, actions: np.ndarray) -> None:
        actions = np.asarray(actions).reshape(self.num_envs)
        # ale_py's threads do not report an action out of range: the next recv() would wait forever
        invalid = ~np.isin(actions, np.arange(self.action_space.n))
        if invalid.any():
            index = int(invalid.nonzero()[0][0])
            valid = f"0 to {self.action_space.n - 1}"
            raise ValueError(f"actions: env {index} got {actions[index].item()!r}, not an action of this game ({valid})")
        # After a forward pass torch's idle OpenMP threads spin-wait on the cores the emulator needs.
        release_idle_threads()
        try:
            self._games.send(actions.astype(np.int64))
        except RuntimeError as error:
            raise self._emulator_error(error) from error

    def step_wait(self) -> VecEnvStepReturn:
        try:
            obs, rewards, terminated, truncated, info = self._games.recv()
        except RuntimeError as error:
            raise self._emulator_error(error) from error
        lives = info["lives"]
        dones = terminated | truncated
        self._scores += rewards
        infos: list[dict[str, Any]] = [{"lives": game_lives} for game_lives in lives.tolist()]

        # Most steps end nothing and find every stack full: they skip the masking and bookkeeping.
        partial_stacks = self._stack_depth < self.n_stack
        if partial_stacks.any():
            self._stack_depth[partial_stacks] += 1
            self._mask_older_frames(obs, partial_stacks.nonzero()[0])
        if dones.any():
            # ale_py flags a lost life (with lives left) as terminated; everything else ends the game.
            life_lost = terminated & (lives < self._lives) & (lives > 0)
            game_over = (terminated & ~life_lost) | truncated
            for index in dones.nonzero()[0]:
                infos[index]["terminal_observation"] = obs[index].copy()
                infos[index]["TimeLimit.truncated"] = bool(truncated[index] and not terminated[index])
            if game_over.any():
                self._record_episodes(game_over.nonzero()[0], info["episode_frame_number"], infos)
                reset_obs, reset_info = self._games.reset(options={"reset_mask": game_over})
                obs[game_over] = reset_obs[game_over]
                lives = np.where(game_over, reset_info["lives"], lives)
                self._scores[game_over] = 0.0
            self._stack_depth[dones] = 1
            self._mask_older_frames(obs, dones.nonzero()[0])
        self._lives[:] = lives

        rewards = np.sign(rewards) if self.clip_reward else rewards
        return obs, rewards.astype(np.float32), dones, infos

    def _emulator_error(self, error: Exception) -> EnvWorkerError:
        return EnvWorkerError(
            f"ale_py's native Atari emulator failed during a step of its {self.num_envs} games ({error}). Training "
            "stopped there; the models and logs saved before are intact."
        )

    def _record_episodes(self, games: np.ndarray, frames: np.ndarray, infos: list[dict[str, Any]]) -> None:
        """``info["episode"]`` (and the monitor rows) of the games that just ended."""
        for index in games:
            episode = {"r": float(self._scores[index]), "l": int(frames[index]), "t": round(time.time() - self._start_time, 6)}
            infos[index]["episode"] = episode
            if self._writers is not None:
                self._writers[index].write_row(episode)

    def _mask_older_frames(self, obs: np.ndarray, indices: np.ndarray) -> None:
        for index in indices:
            obs[index, : self.n_stack - self._stack_depth[index]] = 0

    def close(self) -> None:
        """Stop the emulator threads and close the monitor files."""
        if self._games is None:
            return
        self._games.close()
        # ale_py's threads stop when its C++ vectoriser is destroyed, not on close()
        self._games = None  # type: ignore[assignment]
        if self._writers is not None:
            for writer in self._writers:
                writer.close()

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        """Attributes of the adapter itself (there are no per-game Python environments)."""
        return [getattr(self, attr_name)] * len(self._get_indices(indices))

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        raise NotImplementedError("AtariVecEnv has no per-game environments whose attributes could be set")

    def env_method(self, method_name: str, *method_args, indices: VecEnvIndices = None, **method_kwargs) -> list[Any]:
        raise NotImplementedError("AtariVecEnv has no per-game environments whose methods could be called")

    def env_is_wrapped(self, wrapper_class: type[gym.Wrapper], indices: VecEnvIndices = None) -> list[bool]:
        # Episode statistics come as Monitor's do, so evaluate_policy can rely on them
        return [wrapper_class is Monitor] * len(self._get_indices(indices))
