from typing import Any

import numpy as np


def is_integer(value: Any) -> bool:
    """Whether ``value`` is a Python or NumPy integer. Booleans are not: ``True`` for a count is a mistake, not 1."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))
