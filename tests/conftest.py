import pytest
from stable_baselines3.common.vec_env import DummyVecEnv

from tests.envs import SeededImageEnv


@pytest.fixture
def image_env() -> DummyVecEnv:
    """Four 84x84x1 uint8 fake Atari screens with 6 discrete actions."""
    return DummyVecEnv([lambda: SeededImageEnv(action_dim=6, n_channels=1)] * 4)
