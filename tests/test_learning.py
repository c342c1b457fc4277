import numpy as np
from stable_baselines3.common.env_util import make_atari_env, make_vec_env
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.utils import LinearSchedule
from stable_baselines3.common.vec_env import SubprocVecEnv, VecFrameStack

from sb3_a2c_plus import A2CPlus
from tests.envs import make_atari


def test_cartpole_reaches_200():
    # A random policy scores about 22; 500 is the maximum.
    env = make_vec_env("CartPole-v1", n_envs=8, seed=0)
    model = A2CPlus("MlpPolicy", env, learning_rate=LinearSchedule(7e-4, 0.0, 1.0), seed=0).learn(60_000)
    mean_return, _ = evaluate_policy(model, make_vec_env("CartPole-v1", seed=100), n_eval_episodes=10, deterministic=True)
    assert mean_return >= 200


def test_short_atari_run_on_subprocesses():
    env = VecFrameStack(make_atari_env(make_atari, n_envs=4, seed=0, vec_env_cls=SubprocVecEnv), n_stack=4)
    try:
        model = A2CPlus("CnnPolicy", env, n_steps=5, seed=0).learn(1_000)
    finally:
        env.close()
    assert model.num_timesteps == 1_000
    assert model._n_updates == 50
    losses = {key: value for key, value in model.logger.name_to_value.items() if key.startswith("train/")}
    assert {"train/policy_loss", "train/value_loss", "train/entropy_loss"} <= losses.keys()
    assert all(np.isfinite(value) for value in losses.values())
