from sb3_a2c_plus.envs.atari import ATARI_BACKENDS, make_atari_vec_env
from sb3_a2c_plus.envs.native_atari import AtariVecEnv

__all__ = ["ATARI_BACKENDS", "AtariVecEnv", "make_atari_vec_env"]
