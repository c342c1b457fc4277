"""
Metadata lives in setup.cfg. This file only adds ``sb3_a2c_plus_zoo.pth`` (the start-up hook
that registers A2CPlus with RL Zoo, see ``_sb3_a2c_plus_zoo_hook.py``) to both kinds of wheel:
``build_py`` puts it in regular wheels, and ``editable_wheel`` adds it to PEP 660 editable
wheels, whose build output is otherwise left out.
"""

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.command.editable_wheel import editable_wheel

PTH_NAME = "sb3_a2c_plus_zoo.pth"
# Sorted after setuptools' "__editable__.*.pth", which makes the hook module importable.
PTH_CONTENT = "import _sb3_a2c_plus_zoo_hook; _sb3_a2c_plus_zoo_hook.install()\n"


class BuildPyWithPth(build_py):
    def run(self) -> None:
        super().run()
        if not self.editable_mode:
            with open(f"{self.build_lib}/{PTH_NAME}", "w") as pth_file:
                pth_file.write(PTH_CONTENT)

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        return [*super().get_outputs(include_bytecode), f"{self.build_lib}/{PTH_NAME}"]


class _StrategyWithPth:
    """Wraps setuptools' editable strategy to add the hook's .pth to the editable wheel."""

    def __init__(self, strategy) -> None:
        self._strategy = strategy

    def __call__(self, wheel, files, mapping) -> None:
        self._strategy(wheel, files, mapping)
        wheel.writestr(PTH_NAME, PTH_CONTENT.encode())

    def __enter__(self):
        self._strategy.__enter__()
        return self

    def __exit__(self, *exc_info) -> None:
        self._strategy.__exit__(*exc_info)


class EditableWheelWithPth(editable_wheel):
    def _select_strategy(self, *args, **kwargs):
        return _StrategyWithPth(super()._select_strategy(*args, **kwargs))


setup(cmdclass={"build_py": BuildPyWithPth, "editable_wheel": EditableWheelWithPth})
