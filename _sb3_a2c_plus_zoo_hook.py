"""
Registers A2CPlus with RL Zoo when, and only when, rl_zoo3 is imported.

``sb3_a2c_plus_zoo.pth`` runs :func:`install` at interpreter start-up, so this module must
stay cheap and stdlib-only: it adds one finder to ``sys.meta_path`` and imports nothing else.
When one of the watched rl_zoo3 modules has been executed, the matching function of
``sb3_a2c_plus.zoo`` registers into it. Set ``SB3_A2C_PLUS_NO_ZOO=1`` to switch it off.
"""

import os
import sys

DISABLE_VARIABLE = "SB3_A2C_PLUS_NO_ZOO"

# rl_zoo3 module -> function of sb3_a2c_plus.zoo that registers into it
WATCHED = {
    "rl_zoo3.utils": "register_algorithm",
    "rl_zoo3.hyperparams_opt": "register_tuning",
    "rl_zoo3.exp_manager": "register_experiment_manager",
}


def _register(module_name: str) -> None:
    try:
        import sb3_a2c_plus.zoo

        getattr(sb3_a2c_plus.zoo, WATCHED[module_name])()
    except Exception as error:  # a broken plugin must never break rl_zoo3 itself
        import warnings

        warnings.warn(
            f"sb3_a2c_plus could not register with RL Zoo ({module_name}): {error!r}. "
            f"`--algo a2c_plus` may be unavailable; set {DISABLE_VARIABLE}=1 to skip the registration.",
            RuntimeWarning,
            stacklevel=2,
        )


class _RegisteringLoader:
    """Runs the wrapped loader, then the registration for the module it loaded."""

    def __init__(self, loader) -> None:
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module) -> None:
        # The module keeps its real loader (importlib.resources, reloads, ... see that one).
        module.__loader__ = module.__spec__.loader = self.loader
        self.loader.exec_module(module)
        _register(module.__name__)

    def __getattr__(self, name: str):
        return getattr(self.loader, name)


class ZooRegistrationFinder:
    """Meta path finder that only intercepts the watched rl_zoo3 modules."""

    def find_spec(self, fullname: str, path=None, target=None):
        if fullname not in WATCHED:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = _RegisteringLoader(spec.loader)
                return spec
        return None


def install() -> None:
    """Install the finder once; register right away for watched modules already imported."""
    if os.environ.get(DISABLE_VARIABLE, "") not in ("", "0"):
        return
    if any(type(finder).__name__ == ZooRegistrationFinder.__name__ for finder in sys.meta_path):
        return
    sys.meta_path.insert(0, ZooRegistrationFinder())
    for module_name in WATCHED:
        if module_name in sys.modules:
            _register(module_name)
