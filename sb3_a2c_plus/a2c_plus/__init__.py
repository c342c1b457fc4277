from sb3_a2c_plus.a2c_plus.a2c_plus import A2CPlus, NonFiniteLossError
from sb3_a2c_plus.a2c_plus.policies import CnnPolicy, MlpPolicy, MultiInputPolicy

__all__ = ["A2CPlus", "CnnPolicy", "MlpPolicy", "MultiInputPolicy", "NonFiniteLossError"]
