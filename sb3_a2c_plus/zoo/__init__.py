"""
RL Zoo integration. ``_sb3_a2c_plus_zoo_hook`` calls each function right after rl_zoo3 has
imported the module it registers into; :func:`register` does all of them at once, for
processes started without site hooks (``python -S``). Every function is idempotent.
"""

import functools
import inspect
import re
from pathlib import Path
from typing import Any

ALGO_NAME = "a2c_plus"
HYPERPARAMS_FILE = Path(__file__).resolve().parent.parent / "hyperparams" / f"{ALGO_NAME}.yml"
NATIVE_ATARI_KEY = "native_atari"
# The zoo evaluates with deterministic actions except on Atari; False ranks trials by the sampled actions'
# score, which is what the training logs' ep_rew_mean shows
DETERMINISTIC_EVAL_KEY = "deterministic_eval"
# The zoo's config language writes a linear decay to 0 as "lin_<start>"; "lin_<start>_<end>" decays to <end>
LINEAR_TO_FLOOR = re.compile(r"lin_([^_]+)_([^_]+)")


def linear_schedule_to_floor(value: Any) -> Any:
    """
    ``"lin_<start>_<end>"`` as SB3's ``LinearSchedule(start, end, 1.0)``, the learning rate going linearly from
    ``start`` to ``end`` over the run (``"lin_8.3e-4_1e-4"``); any other value unchanged, for the zoo to read.
    """
    match = LINEAR_TO_FLOOR.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        return value
    from stable_baselines3.common.utils import LinearSchedule

    try:
        start, end = float(match[1]), float(match[2])
    except ValueError:
        raise ValueError(f"learning_rate {value!r}: 'lin_<start>_<end>' needs two numbers, e.g. 'lin_8.3e-4_1e-4'") from None
    return LinearSchedule(start, end, 1.0)


def _pop_bool(hyperparams: dict[str, Any], key: str, default: bool) -> bool:
    """Take a True/False setting of this package out of the zoo's hyperparameters, refusing anything else."""
    value = hyperparams.pop(key, default)
    if not isinstance(value, bool):
        raise ValueError(f"{key} must be True or False, got {value!r}")
    return value


def register_algorithm() -> None:
    """Make ``--algo a2c_plus`` a choice of train, enjoy and record_video (``rl_zoo3.utils.ALGOS``)."""
    from rl_zoo3.utils import ALGOS

    from sb3_a2c_plus import A2CPlus

    ALGOS[ALGO_NAME] = A2CPlus


def register_tuning() -> None:
    """Make ``-optimize`` and ``--trial-id`` use the A2CPlus sampler and converter."""
    from rl_zoo3.hyperparams_opt import HYPERPARAMS_CONVERTER, HYPERPARAMS_SAMPLER

    from sb3_a2c_plus.zoo.hyperparams_opt import convert_a2c_plus_params, sample_a2c_plus_params

    HYPERPARAMS_SAMPLER[ALGO_NAME] = sample_a2c_plus_params
    HYPERPARAMS_CONVERTER[ALGO_NAME] = convert_a2c_plus_params


def register_experiment_manager() -> None:
    """
    Teach ``ExperimentManager`` five things. For ``--algo a2c_plus``: read ``hyperparams/a2c_plus.yml``
    shipped with this package unless ``-conf`` is given, and tune on a database with Optuna
    heartbeats (see :mod:`sb3_a2c_plus.zoo.storage`). For every algorithm: the hyperparameter
    ``native_atari: true`` (``--hyperparams native_atari:True``) trains on ale_py's C++ vectorised
    Atari environment (:class:`~sb3_a2c_plus.envs.AtariVecEnv`) instead of ``AtariWrapper`` on ``--vec-env``;
    ``deterministic_eval: false`` makes the evaluations (``--eval-freq`` and the trials of ``-optimize``) sample
    their actions; and ``learning_rate: lin_<start>_<end>`` decays linearly to ``end`` (:func:`linear_schedule_to_floor`).
    """
    from rl_zoo3.exp_manager import ExperimentManager

    from sb3_a2c_plus.zoo.storage import is_database_url, studies_with_heartbeat

    original_init = ExperimentManager.__init__
    if getattr(original_init, "_sb3_a2c_plus", False):
        return
    init_signature = inspect.signature(original_init)
    original_optimization = ExperimentManager.hyperparameters_optimization
    original_preprocess = ExperimentManager._preprocess_hyperparams
    original_create_envs = ExperimentManager.create_envs

    @functools.wraps(original_init)
    def __init__(self, *args, **kwargs) -> None:
        original_init(self, *args, **kwargs)
        if self.algo == ALGO_NAME and not init_signature.bind(self, *args, **kwargs).arguments.get("config"):
            self.config = str(HYPERPARAMS_FILE)

    @functools.wraps(original_optimization)
    def hyperparameters_optimization(self) -> None:
        if self.algo != ALGO_NAME or not is_database_url(self.storage):
            return original_optimization(self)
        with studies_with_heartbeat(self.storage):
            return original_optimization(self)

    @functools.wraps(original_preprocess)
    def _preprocess_hyperparams(self, hyperparams):
        native_atari = _pop_bool(hyperparams, NATIVE_ATARI_KEY, False)
        if native_atari and not self._is_atari:
            raise ValueError(f"{NATIVE_ATARI_KEY}: the native backend is for Atari games, not {self.env_name.gym_id}")
        self.native_atari = native_atari
        self.deterministic_eval = _pop_bool(hyperparams, DETERMINISTIC_EVAL_KEY, self.deterministic_eval)
        schedule = linear_schedule_to_floor(hyperparams.get("learning_rate"))
        if schedule is hyperparams.get("learning_rate"):
            return original_preprocess(self, hyperparams)
        # The zoo's own schedule parser refuses schedule objects: the decay goes in after it
        processed, *rest = original_preprocess(
            self, {key: value for key, value in hyperparams.items() if key != "learning_rate"}
        )
        return ({**processed, "learning_rate": schedule}, *rest)

    @functools.wraps(original_create_envs)
    def create_envs(self, n_envs: int, eval_env: bool = False, no_log: bool = False):
        # Evaluation keeps the standard pipeline: both give the same observation space.
        if eval_env or not getattr(self, "native_atari", False):
            return original_create_envs(self, n_envs, eval_env=eval_env, no_log=no_log)
        from sb3_a2c_plus.envs import AtariVecEnv

        env = AtariVecEnv(self.env_name.gym_id, n_envs, seed=self.seed, monitor_dir=None if no_log else self.save_path)
        if self.verbose > 0:
            print(f"Using ale_py's native vectorised Atari environment for {n_envs} games")
        return env

    __init__._sb3_a2c_plus = True  # type: ignore[attr-defined]
    ExperimentManager.__init__ = __init__  # type: ignore[method-assign]
    ExperimentManager.hyperparameters_optimization = hyperparameters_optimization  # type: ignore[method-assign]
    ExperimentManager._preprocess_hyperparams = _preprocess_hyperparams  # type: ignore[method-assign]
    ExperimentManager.create_envs = create_envs  # type: ignore[method-assign]


def register() -> None:
    """Register A2CPlus, its tuning and its default hyperparameters with RL Zoo."""
    register_algorithm()
    register_tuning()
    register_experiment_manager()
