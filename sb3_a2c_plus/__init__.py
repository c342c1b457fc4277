import os

from sb3_a2c_plus.a2c_plus import A2CPlus, CnnPolicy, MlpPolicy, MultiInputPolicy, NonFiniteLossError
from sb3_a2c_plus.common.faults import EnvWorkerError

# Read version from file
version_file = os.path.join(os.path.dirname(__file__), "version.txt")
with open(version_file) as file_handler:
    __version__ = file_handler.read().strip()

__all__ = ["A2CPlus", "CnnPolicy", "EnvWorkerError", "MlpPolicy", "MultiInputPolicy", "NonFiniteLossError", "__version__"]
