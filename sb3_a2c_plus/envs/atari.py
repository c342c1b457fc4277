import functools

import gymnasium as gym
from stable_baselines3.common.env_util import make_atari_env
from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv, VecEnv, VecFrameStack, VecTransposeImage

from sb3_a2c_plus.common.utils import is_integer
from sb3_a2c_plus.envs.native_atari import AtariVecEnv, _ale_spec

ATARI_BACKENDS = ("subproc", "dummy", "native")


def _make_registered(env_id: str, **kwargs) -> gym.Env:
    # Runs in each SubprocVecEnv worker, which starts without ale_py's games registered.
    import ale_py

    gym.register_envs(ale_py)
    return gym.make(env_id, **kwargs)


def make_atari_vec_env(
    env_id: str,
    n_envs: int = 16,
    seed: int | None = None,
    backend: str = "subproc",
    monitor_dir: str | None = None,
) -> VecEnv:
    """
    Atari games with SB3's standard preprocessing on the chosen backend; every backend gives
    the same spaces (4 stacked 84x84 grayscale frames, channel-first uint8) and semantics.

    :param env_id: Gymnasium id of an ALE game, e.g. ``"SpaceInvadersNoFrameskip-v4"``
    :param n_envs: number of games played in parallel
    :param seed: seed of the first game; ``None`` for random seeds
    :param backend: ``"subproc"`` (default): ``AtariWrapper`` in one process per game
        (``SubprocVecEnv``); ``"dummy"``: the same in this process; ``"native"``: ale_py's C++
        vectorised environment through :class:`AtariVecEnv`
    :param monitor_dir: where to write ``<i>.monitor.csv`` episode logs, if anywhere
    :return: the vectorised environment
    """
    if backend not in ATARI_BACKENDS:
        raise ValueError(f"backend must be one of {ATARI_BACKENDS}, got {backend!r}")
    if not is_integer(n_envs) or n_envs < 1:
        raise ValueError(f"n_envs must be an integer >= 1, got {n_envs!r}")
    if backend == "native":
        return AtariVecEnv(env_id, n_envs, seed=seed, monitor_dir=monitor_dir)
    _ale_spec(env_id)  # a clear error for an unknown game, before any worker starts
    env = make_atari_env(
        functools.partial(_make_registered, env_id),
        n_envs=n_envs,
        seed=seed,
        vec_env_cls=SubprocVecEnv if backend == "subproc" else DummyVecEnv,
        monitor_dir=monitor_dir,
    )
    return VecTransposeImage(VecFrameStack(env, n_stack=4))
