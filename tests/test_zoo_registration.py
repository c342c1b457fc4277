"""The .pth start-up hook and the registration into RL Zoo, checked against the installed package."""

import json
import sys
from pathlib import Path

import pytest

import _sb3_a2c_plus_zoo_hook
from tests.zoo import run, run_python

REGISTERED = """
import rl_zoo3.exp_manager, rl_zoo3.hyperparams_opt, rl_zoo3.utils
from sb3_a2c_plus import A2CPlus
from sb3_a2c_plus.zoo import HYPERPARAMS_FILE
print(rl_zoo3.utils.ALGOS.get("a2c_plus") is A2CPlus,
      "a2c_plus" in rl_zoo3.hyperparams_opt.HYPERPARAMS_SAMPLER,
      "a2c_plus" in rl_zoo3.hyperparams_opt.HYPERPARAMS_CONVERTER,
      HYPERPARAMS_FILE.is_file())
"""


def test_install_mode_ships_the_hook(tmp_path):
    # Asked from outside the checkout, where the repository's own files cannot shadow the install
    code = """
import json
from importlib.metadata import distribution
dist = distribution("sb3_a2c_plus")
editable = json.loads(dist.read_text("direct_url.json") or "{}").get("dir_info", {}).get("editable", False)
print(json.dumps({"editable": editable, "files": sorted(str(path) for path in dist.files or [])}))
"""
    installed = json.loads(run_python(code, tmp_path))
    print(f"sb3_a2c_plus is installed {'editable' if installed['editable'] else 'as a regular wheel'}")
    assert "sb3_a2c_plus_zoo.pth" in installed["files"]
    if not installed["editable"]:
        assert {"_sb3_a2c_plus_zoo_hook.py", "sb3_a2c_plus/hyperparams/a2c_plus.yml"} <= set(installed["files"])


def test_start_up_loads_nothing_heavy(tmp_path):
    code = (
        "import sys; "
        "print(sorted(m for m in ('torch', 'numpy', 'stable_baselines3', 'sb3_a2c_plus', 'rl_zoo3', 'optuna') "
        "if m in sys.modules), '_sb3_a2c_plus_zoo_hook' in sys.modules)"
    )
    assert run_python(code, tmp_path) == "[] True"


def test_importing_rl_zoo3_registers_everything(tmp_path):
    assert run_python(REGISTERED, tmp_path) == "True True True True"


def test_only_rl_zoo3_triggers_the_registration(tmp_path):
    code = "import sb3_a2c_plus, sys; print('rl_zoo3' in sys.modules, 'rl_zoo3.utils' in sys.modules)"
    assert run_python(code, tmp_path) == "False False"


def test_registration_can_be_switched_off(tmp_path):
    code = "import rl_zoo3.utils, sys; print('a2c_plus' in rl_zoo3.utils.ALGOS, '_sb3_a2c_plus_zoo_hook' in sys.modules)"
    assert run_python(code, tmp_path, env={"SB3_A2C_PLUS_NO_ZOO": "1"}) == "False True"


def test_a_failing_registration_warns_and_leaves_rl_zoo3_working(tmp_path):
    code = """
import sys, warnings
sys.modules["sb3_a2c_plus.zoo"] = None  # any import of it now fails
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    import rl_zoo3.utils
print(any("could not register with RL Zoo" in str(w.message) for w in caught), "ppo" in rl_zoo3.utils.ALGOS,
      "a2c_plus" in rl_zoo3.utils.ALGOS)
"""
    assert run_python(code, tmp_path) == "True True False"


def test_registration_is_idempotent(tmp_path):
    code = """
import _sb3_a2c_plus_zoo_hook as hook, sys
hook.install(); hook.install()
from rl_zoo3.exp_manager import ExperimentManager
init = ExperimentManager.__init__
import sb3_a2c_plus.zoo
sb3_a2c_plus.zoo.register(); sb3_a2c_plus.zoo.register()
print(sum(type(f).__name__ == "ZooRegistrationFinder" for f in sys.meta_path), ExperimentManager.__init__ is init)
"""
    assert run_python(code, tmp_path) == "1 True"


def test_explicit_register_without_site_hooks(tmp_path):
    # `python -S` skips .pth files; sb3_a2c_plus.zoo.register() is the manual way in.
    code = f"import sys; sys.path[:0] = {sys.path!r}; import sb3_a2c_plus.zoo; sb3_a2c_plus.zoo.register()\n{REGISTERED}"
    assert run(["-S", "-c", code], tmp_path).strip() == "True True True True"


@pytest.mark.parametrize("start_method", ["fork", "forkserver", "spawn"])
def test_registration_in_subprocess_workers(tmp_path, start_method):
    code = f"""
from stable_baselines3.common.vec_env import SubprocVecEnv
from tests.envs import ZooAlgosProbe

if __name__ == "__main__":
    env = SubprocVecEnv([ZooAlgosProbe] * 2, start_method="{start_method}")
    print(env.get_attr("a2c_plus_registered"))
    env.close()
"""
    script = tmp_path / "probe.py"
    script.write_text(code)
    repo_root = str(Path(__file__).resolve().parent.parent)
    assert run([str(script)], tmp_path, env={"PYTHONPATH": repo_root}).strip().endswith("[True, True]")


def test_hook_ignores_other_modules():
    finder = _sb3_a2c_plus_zoo_hook.ZooRegistrationFinder()
    assert finder.find_spec("json") is None
    assert finder.find_spec("rl_zoo3") is None
