"""The native Atari backend (ale_py's C++ vector environment) against SB3's standard pipeline."""

import functools
import os
import time
from unittest import mock

import numpy as np
import pytest
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.env_util import make_atari_env
from stable_baselines3.common.vec_env import DummyVecEnv, VecFrameStack, VecTransposeImage

from sb3_a2c_plus import A2CPlus
from sb3_a2c_plus.envs import AtariVecEnv, make_atari_vec_env
from sb3_a2c_plus.envs.atari import _make_registered

SPACE_INVADERS = "SpaceInvadersNoFrameskip-v4"


def _standard(env_id: str, terminal_on_life_loss: bool) -> VecTransposeImage:
    wrapper_kwargs = dict(noop_max=0, terminal_on_life_loss=terminal_on_life_loss, clip_reward=False)
    env = make_atari_env(functools.partial(_make_registered, env_id), n_envs=1, seed=0, wrapper_kwargs=wrapper_kwargs)
    return VecTransposeImage(VecFrameStack(env, n_stack=4))


@pytest.mark.parametrize("env_id", [SPACE_INVADERS, "BreakoutNoFrameskip-v4"])
@pytest.mark.parametrize("terminal_on_life_loss", [False, True])
def test_same_game_as_monitor_once_the_scripted_steps_are_replayed(env_id, terminal_on_life_loss):
    # The standard wrappers play steps the agent never sees: FIRE and action 2 after a reset
    # (FireResetEnv), a no-op after a lost life (EpisodicLifeEnv), then FIRE and action 2 again.
    standard = _standard(env_id, terminal_on_life_loss)
    native = AtariVecEnv(
        env_id, 1, noop_max=0, fire_reset=False, terminal_on_life_loss=terminal_on_life_loss, clip_reward=False
    )
    after_life_loss = [0, 1, 2]
    standard.reset()
    native.reset()
    for action in (1, 2):
        native.step(np.array([action]))

    rng = np.random.default_rng(0)
    life_losses = 0
    for _ in range(20_000):
        action = rng.integers(0, standard.action_space.n, size=1)
        standard_obs, _, standard_done, standard_info = standard.step(action)
        native_obs, _, native_done, native_info = native.step(action)
        assert native_done[0] == standard_done[0]
        if "episode" in standard_info[0]:
            assert native_info[0]["episode"]["r"] == standard_info[0]["episode"]["r"]
            assert native_info[0]["episode"]["l"] == standard_info[0]["episode"]["l"]
            break
        assert "episode" not in native_info[0]
        if standard_done[0]:  # a lost life: replay what EpisodicLifeEnv and FireResetEnv did
            life_losses += 1
            for scripted in after_life_loss:
                native_obs, _, scripted_done, _ = native.step(np.array([scripted]))
                assert not scripted_done[0]
        np.testing.assert_array_equal(native_obs[0, -1], standard_obs[0, -1])
    else:
        pytest.fail("no game ended")
    assert (life_losses > 0) == terminal_on_life_loss
    standard.close()
    native.close()


def test_spaces_and_dtypes_match_the_standard_pipeline():
    standard = make_atari_vec_env(SPACE_INVADERS, n_envs=2, seed=0, backend="dummy")
    native = make_atari_vec_env(SPACE_INVADERS, n_envs=2, seed=0, backend="native")
    assert native.observation_space == standard.observation_space
    assert native.action_space == standard.action_space
    obs = native.reset()
    assert obs.shape == (2, 4, 84, 84) and obs.dtype == np.uint8
    assert standard.reset().dtype == obs.dtype
    standard.close()
    native.close()


def _play_until(env: AtariVecEnv, condition, max_steps: int = 20_000, action: int | None = None):
    rng = np.random.default_rng(1)
    for _ in range(max_steps):
        actions = np.full(env.num_envs, action) if action is not None else rng.integers(0, env.action_space.n, env.num_envs)
        obs, rewards, dones, infos = env.step(actions)
        if condition(obs, rewards, dones, infos):
            return obs, rewards, dones, infos
    pytest.fail("condition never met")


def test_life_loss_ends_the_training_episode_but_not_the_game():
    env = AtariVecEnv(SPACE_INVADERS, 1, seed=3)
    obs = env.reset()
    lives = env.reset_infos[0]["lives"]
    score = 0.0
    rewards_seen = set()

    def life_lost(obs, rewards, dones, infos):
        nonlocal score
        score += rewards[0]
        rewards_seen.add(float(rewards[0]))
        return dones[0]

    obs, _, _, infos = _play_until(env, life_lost)
    assert infos[0]["lives"] == lives - 1
    assert "episode" not in infos[0] and not infos[0]["TimeLimit.truncated"]
    # The terminal stack holds the last frames; the new training episode starts from the last one only
    assert infos[0]["terminal_observation"][:3].any()
    assert not obs[0, :3].any() and obs[0, 3].any()
    np.testing.assert_array_equal(obs[0, 3], infos[0]["terminal_observation"][3])
    # Rewards are clipped for training
    assert rewards_seen <= {0.0, 1.0}

    obs, _, _, infos = _play_until(env, lambda obs, rewards, dones, infos: "episode" in infos[0])
    assert infos[0]["episode"]["r"] > 0
    env.close()


def test_time_limit_is_a_truncation_with_terminal_observation():
    env = AtariVecEnv(SPACE_INVADERS, 2, seed=0, noop_max=0, max_episode_frames=400)
    env.reset()
    reset_frames = 1  # the FIRE frame ale_py plays at reset
    for step in range(1, 101):
        obs, _, dones, infos = env.step(np.zeros(2, dtype=np.int64))  # NOOP: nothing ends the game before
        assert dones.all() == (step == 100)
    for info in infos:
        assert info["TimeLimit.truncated"]
        assert info["terminal_observation"].shape == (4, 84, 84)
        assert info["episode"]["l"] == 400 + reset_frames
    # The games were reset: fresh stacks
    assert not obs[:, :3].any()
    env.close()


@pytest.mark.parametrize("seed_in_constructor", [True, False])
def test_seeding_reproduces_episodes(seed_in_constructor):
    def play(seed: int) -> tuple[np.ndarray, list]:
        if seed_in_constructor:
            env = AtariVecEnv(SPACE_INVADERS, 2, seed=seed)
        else:
            env = AtariVecEnv(SPACE_INVADERS, 2)
            env.seed(seed)
        frames = [env.reset()]
        episodes = []
        rng = np.random.default_rng(0)
        for _ in range(1500):
            obs, _, _, infos = env.step(rng.integers(0, 6, 2))
            frames.append(obs)
            ended = [(index, info["episode"]) for index, info in enumerate(infos) if "episode" in info]
            episodes += [(index, episode["r"], episode["l"]) for index, episode in ended]
        env.close()
        return np.stack(frames), episodes

    first, again, other = play(7), play(7), play(8)
    np.testing.assert_array_equal(first[0], again[0])
    assert first[1] == again[1] and first[1]
    assert not np.array_equal(first[0], other[0])


def test_close_stops_the_emulator_threads():
    def thread_ids() -> set[str]:
        return set(os.listdir("/proc/self/task"))

    before = thread_ids()
    env = AtariVecEnv(SPACE_INVADERS, 4, n_threads=2)
    env.reset()
    emulator_threads = thread_ids() - before
    assert len(emulator_threads) >= 2
    env.close()
    # Only the env's own threads are checked: in a full test run other libraries' threads come and go
    # meanwhile. A stopped thread may take a moment to leave the task list, hence the bounded wait.
    deadline = time.monotonic() + 5.0
    while emulator_threads & thread_ids() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not emulator_threads & thread_ids()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(env_id="SpaceInvaderz-v4"), "env_id: unknown Atari game 'SpaceInvaderz-v4'"),
        (dict(env_id="CartPole-v1"), "env_id: 'CartPole-v1' is not an Atari game of ale_py"),
        (dict(env_id=SPACE_INVADERS, n_envs=0), r"n_envs must be an integer >= 1, got 0"),
        (dict(env_id=SPACE_INVADERS, n_envs=True), r"n_envs must be an integer >= 1, got True"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        AtariVecEnv(**kwargs)
    with pytest.raises(ValueError, match=message):
        make_atari_vec_env(**kwargs)


def test_unknown_backend():
    with pytest.raises(ValueError, match=r"backend must be one of \('subproc', 'dummy', 'native'\), got 'gpu'"):
        make_atari_vec_env(SPACE_INVADERS, backend="gpu")


def test_a2c_plus_trains_on_it(tmp_path):
    env = AtariVecEnv(SPACE_INVADERS, 4, seed=0, monitor_dir=str(tmp_path))
    model = A2CPlus("CnnPolicy", env, seed=0).learn(4_000)
    assert model._n_updates == 200
    assert all(np.isfinite(value) for key, value in model.logger.name_to_value.items() if key.startswith("train/"))
    # Full games went into the episode statistics and the monitor files, as with Monitor
    assert len(model.ep_info_buffer) > 0
    assert sorted(path.name for path in tmp_path.glob("*.monitor.csv")) == [f"{index}.monitor.csv" for index in range(4)]
    env.close()


def test_standard_backend_registers_ale_in_subprocess_workers():
    env = make_atari_vec_env(SPACE_INVADERS, n_envs=2, seed=0, backend="subproc")
    assert env.reset().shape == (2, 4, 84, 84)
    env.close()


def test_dummy_vec_env_is_the_in_process_backend():
    env = make_atari_vec_env(SPACE_INVADERS, n_envs=1, backend="dummy")
    assert isinstance(env.unwrapped, DummyVecEnv)
    env.close()


def test_rollout_keeps_what_the_env_returned():
    env = AtariVecEnv(SPACE_INVADERS, 4, seed=0)
    model = A2CPlus("CnnPolicy", env, n_steps=6, seed=0)
    returned = []
    original_step = env.step

    def recording_step(actions):
        result = original_step(actions)
        returned.append((np.array(actions), result[0].copy(), result[1].copy()))
        return result

    with mock.patch.object(env, "step", side_effect=recording_step):
        model.learn(4 * 6 * 3)
    assert len(returned) == 18  # one env.step per rollout step
    buffer = model.rollout_buffer
    # Each row: the observation the step before returned (the last rollout's first one: the one before it)
    np.testing.assert_array_equal(buffer.observations, np.stack([obs for _, obs, _ in returned[-7:-1]]))
    np.testing.assert_array_equal(buffer.actions.reshape(6, 4), np.stack([actions for actions, _, _ in returned[-6:]]))
    np.testing.assert_array_equal(buffer.rewards, np.stack([rewards for _, _, rewards in returned[-6:]]))
    np.testing.assert_array_equal(model._last_obs, returned[-1][1])
    env.close()


class _StopAfter(BaseCallback):
    def __init__(self, n_calls: int) -> None:
        super().__init__()
        self.stop_at = n_calls

    def _on_step(self) -> bool:
        return self.n_calls < self.stop_at


def test_rollout_stopped_by_a_callback_goes_on_from_there():
    env = AtariVecEnv(SPACE_INVADERS, 4, seed=0)
    model = A2CPlus("CnnPolicy", env, n_steps=5, seed=0)
    model.learn(1_000, callback=_StopAfter(7))  # stops in the middle of the second rollout
    assert model.num_timesteps == 7 * 4
    model.learn(40, reset_num_timesteps=False)
    assert model.num_timesteps == 7 * 4 + 40
    env.close()


def test_all_games_in_one_ale_py_vector_env():
    # A two-group variant, emulating one group while the policy acted for the other, never trained faster
    # (docs/benchmarks.md) and was removed
    env = AtariVecEnv(SPACE_INVADERS, 16)
    assert env._games.num_envs == 16
    env.close()
    env.close()  # closing again does nothing
