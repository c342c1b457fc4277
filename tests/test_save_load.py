import io
import zipfile

import numpy as np
import pytest
import torch as th
from stable_baselines3 import A2C
from stable_baselines3.common.env_util import make_vec_env

from sb3_a2c_plus import A2CPlus


def _state_equal(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(th.equal(a[key], b[key]) for key in a)


def test_round_trip_restores_weights_statistics_optimizer_and_hyperparameters(image_env, tmp_path):
    model = A2CPlus("CnnPolicy", image_env, n_steps=4, advantage_estimator="gae", gae_lambda=0.9, ent_coef=0.02, seed=0).learn(
        64
    )
    obs = image_env.reset()
    actions, _ = model.predict(obs, deterministic=True)
    model.save(tmp_path / "model")

    loaded = A2CPlus.load(tmp_path / "model", env=image_env)
    # Includes every BatchNorm's running_mean, running_var and num_batches_tracked
    assert _state_equal(model.policy.state_dict(), loaded.policy.state_dict())
    assert any("running_mean" in key for key in loaded.policy.state_dict())
    saved_opt, loaded_opt = model.policy.optimizer.state_dict(), loaded.policy.optimizer.state_dict()
    assert isinstance(loaded.policy.optimizer, th.optim.RMSprop)
    assert saved_opt["param_groups"] == loaded_opt["param_groups"]
    for key, state in saved_opt["state"].items():
        assert _state_equal(state, loaded_opt["state"][key])
    assert (loaded.advantage_estimator, loaded.gae_lambda, loaded.ent_coef, loaded.n_steps) == ("gae", 0.9, 0.02, 4)
    assert loaded.rollout_batch_norm == "running"
    np.testing.assert_array_equal(loaded.predict(obs, deterministic=True)[0], actions)

    # Continue training where it stopped
    loaded.learn(32, reset_num_timesteps=False)
    assert loaded.num_timesteps == model.num_timesteps + 32
    assert loaded._n_updates == model._n_updates + 2


def test_a_policy_saved_before_head_batch_norm_was_removed_still_loads(tmp_path):
    model = A2CPlus("MlpPolicy", "CartPole-v1", seed=0)
    path = tmp_path / "policy.pth"
    model.policy.save(path)
    saved = th.load(path, weights_only=False)
    saved["data"]["head_batch_norm"] = False  # what every policy.save wrote while the option existed
    th.save(saved, path)
    loaded = type(model.policy).load(path)
    assert _state_equal(model.policy.state_dict(), loaded.state_dict())
    saved["data"]["head_batch_norm"] = True
    th.save(saved, path)
    with pytest.raises(ValueError, match="head_batch_norm was removed"):
        type(model.policy).load(path)
    assert path.exists()


def test_load_from_file_object(tmp_path):
    model = A2CPlus("MlpPolicy", "CartPole-v1", seed=0)
    buffer = io.BytesIO()
    model.save(buffer)
    buffer.seek(0)
    loaded = A2CPlus.load(buffer)
    assert _state_equal(model.policy.state_dict(), loaded.policy.state_dict())


def test_corrupted_file_says_so_and_is_left_intact(tmp_path):
    path = tmp_path / "model.zip"
    A2CPlus("MlpPolicy", "CartPole-v1").save(path)
    damaged = path.read_bytes()[: path.stat().st_size // 2]
    path.write_bytes(damaged)
    with pytest.raises(ValueError, match="corrupted"):
        A2CPlus.load(path)
    assert path.read_bytes() == damaged

    path.write_bytes(b"not a zip archive at all")
    with pytest.raises(ValueError, match="corrupted or is not a Stable-Baselines3 model file"):
        A2CPlus.load(path)


def test_corrupted_parameters_say_so(tmp_path):
    good, bad = tmp_path / "good.zip", tmp_path / "bad.zip"
    A2CPlus("MlpPolicy", "CartPole-v1").save(good)
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(bad, "w") as target:
        for item in source.infolist():
            content = source.read(item.filename)
            target.writestr(item, b"garbage" if item.filename == "policy.pth" else content)
    with pytest.raises(ValueError, match="corrupted: its parameters could not be restored"):
        A2CPlus.load(bad)


def test_model_of_another_algorithm_is_refused(tmp_path):
    A2C("MlpPolicy", "CartPole-v1").save(tmp_path / "a2c")
    with pytest.raises(ValueError, match="was not saved by A2CPlus"):
        A2CPlus.load(tmp_path / "a2c")


def _parameters_after_updates(seed: int) -> list[th.Tensor]:
    env = make_vec_env("CartPole-v1", n_envs=4, seed=seed)
    model = A2CPlus("MlpPolicy", env, n_steps=5, seed=seed, device="cpu").learn(5 * 4 * 3)
    return [p.detach().clone() for p in model.policy.parameters()]


def test_same_seed_same_parameters():
    first, second, other_seed = _parameters_after_updates(3), _parameters_after_updates(3), _parameters_after_updates(4)
    assert all(th.equal(a, b) for a, b in zip(first, second))
    assert not all(th.equal(a, b) for a, b in zip(first, other_seed))


def test_cnn_same_seed_same_parameters(image_env):
    def train(seed: int) -> list[th.Tensor]:
        model = A2CPlus("CnnPolicy", image_env, n_steps=2, seed=seed, device="cpu").learn(16)
        return [t.detach().clone() for t in model.policy.state_dict().values()]

    assert all(th.equal(a, b) for a, b in zip(train(0), train(0)))
