import gymnasium as gym
import numpy as np
import pytest
import torch as th
from stable_baselines3.common.envs import IdentityEnv, IdentityEnvBox, IdentityEnvMultiBinary, IdentityEnvMultiDiscrete
from stable_baselines3.common.sb2_compat.rmsprop_tf_like import RMSpropTFLike
from stable_baselines3.common.utils import LinearSchedule
from stable_baselines3.common.vec_env import DummyVecEnv

from sb3_a2c_plus import A2CPlus, NonFiniteLossError
from tests.envs import NaNWrapper

LOGGED_KEYS = {
    "train/policy_loss",
    "train/value_loss",
    "train/entropy_loss",
    "train/explained_variance",
    "train/grad_norm",
    "train/clipped_share",
    "train/advantage_mean",
    "train/value_mean",
    "train/value_target_mean",
    "train/inactive_units_pi",
    "train/inactive_units_vf",
    "train/learning_rate",
    "train/n_updates",
}


@pytest.mark.parametrize(
    "make_env, kwargs",
    [
        (lambda: IdentityEnv(4), {}),
        (lambda: IdentityEnvBox(), {}),
        (lambda: IdentityEnvBox(), dict(use_sde=True, sde_sample_freq=2)),
        (lambda: IdentityEnvMultiDiscrete(3), {}),
        (lambda: IdentityEnvMultiBinary(3), {}),
    ],
)
def test_action_spaces(make_env, kwargs):
    model = A2CPlus("MlpPolicy", DummyVecEnv([make_env] * 2), n_steps=4, seed=0, **kwargs).learn(64)
    assert model._n_updates == 8
    assert all(np.isfinite(model.logger.name_to_value[key]) for key in LOGGED_KEYS)
    obs = model.env.reset()
    action, _ = model.predict(obs)
    assert model.env.action_space.contains(action[0])


@pytest.mark.parametrize(
    "policy, policy_kwargs",
    [
        ("CnnPolicy", {}),
        ("CnnPolicy", dict(head_layout="shared", net_arch=[32])),
        ("MlpPolicy", dict(share_features_extractor=False)),
    ],
)
def test_rollout_values_are_the_critics_values_at_each_step(image_env, policy, policy_kwargs):
    # The rollout computes them once, after its last step, from the critic inputs it kept
    env = image_env if policy == "CnnPolicy" else DummyVecEnv([IdentityEnvBox] * 4)
    model = A2CPlus(policy, env, n_steps=3, seed=0, policy_kwargs=policy_kwargs)
    _, callback = model._setup_learn(total_timesteps=12, callback=None)
    assert model.collect_rollouts(model.env, callback, model.rollout_buffer, n_rollout_steps=3)
    buffer = model.rollout_buffer
    with th.no_grad():
        step_values = [model.policy(model.policy.obs_to_tensor(obs)[0])[1].flatten() for obs in buffer.observations]
    np.testing.assert_allclose(buffer.values, th.stack(step_values).numpy(), rtol=1e-6, atol=1e-6)


def test_logs_the_training_diagnostics(tmp_path):
    model = A2CPlus("MlpPolicy", "CartPole-v1", n_steps=8, seed=0, tensorboard_log=str(tmp_path)).learn(64)
    values = model.logger.name_to_value
    assert LOGGED_KEYS <= values.keys()
    assert values["train/entropy_loss"] < 0 < values["train/value_loss"]
    buffer = model.rollout_buffer
    assert values["train/value_target_mean"] == pytest.approx(buffer.returns.mean(), rel=1e-5)
    assert values["train/advantage_mean"] == pytest.approx(buffer.advantages.mean(), rel=1e-5, abs=1e-6)
    assert list(tmp_path.glob("A2CPlus_1/events.out.tfevents.*"))


def test_logged_gradient_norm_is_taken_before_clipping():
    model = A2CPlus("MlpPolicy", "CartPole-v1", n_steps=8, max_grad_norm=1e-6, seed=0).learn(8)
    assert model.logger.name_to_value["train/grad_norm"] > 1e-3


@pytest.mark.parametrize("grad_clip", ["global", "per_parameter"])
@pytest.mark.parametrize("max_grad_norm, share", [(1e-6, 1.0), (1e6, 0.0)])
def test_logs_the_share_of_clipped_updates(max_grad_norm, share, grad_clip):
    model = A2CPlus("MlpPolicy", "CartPole-v1", n_steps=8, max_grad_norm=max_grad_norm, grad_clip=grad_clip, seed=0)
    model.learn(8 * 10, log_interval=1000)  # ten updates, none logged yet
    assert model.logger.name_to_value["train/clipped_share"] == share
    assert model.logger.name_to_count["train/clipped_share"] == 10


def test_logs_the_share_of_head_units_that_fired_for_none_of_the_batch():
    model = A2CPlus("MlpPolicy", "CartPole-v1", n_steps=8, seed=0, policy_kwargs=dict(activation_fn=th.nn.ReLU))
    with th.no_grad():
        # The heads' last hidden layers ignore their input: a quarter of the actor's units sit below zero
        for net, dead in ((model.policy.mlp_extractor.policy_net, 16), (model.policy.mlp_extractor.value_net, 0)):
            net[-2].weight.zero_()
            net[-2].bias.fill_(1.0)[:dead] = -1.0
    model.learn(8 * 3, log_interval=1000)  # three updates, averaged
    values, counts = model.logger.name_to_value, model.logger.name_to_count
    assert (values["train/inactive_units_pi"], values["train/inactive_units_vf"]) == (0.25, 0.0)
    assert counts["train/inactive_units_pi"] == 3


@pytest.mark.parametrize("grad_clip", ["global", "per_parameter"])
def test_grad_clip_bounds_the_whole_gradient_or_each_tensor(grad_clip, tmp_path):
    model = A2CPlus("MlpPolicy", "CartPole-v1", n_steps=8, max_grad_norm=1e-3, grad_clip=grad_clip, seed=0).learn(8)
    norms = th.stack([param.grad.norm() for param in model.policy.parameters()])
    assert model.logger.name_to_value["train/grad_norm"] > 1e-2  # the global norm before clipping, in both modes
    if grad_clip == "global":
        assert th.linalg.vector_norm(norms) == pytest.approx(1e-3, rel=1e-3)
    else:
        # each tensor at most max_grad_norm long, so together longer than the global clip allows
        assert norms.max() <= 1e-3 * (1 + 1e-4)
        assert th.linalg.vector_norm(norms) > 2e-3
    model.save(tmp_path / "model.zip")
    assert A2CPlus.load(tmp_path / "model.zip").grad_clip == grad_clip


def test_linear_learning_rate_decay_to_zero():
    model = A2CPlus("MlpPolicy", "CartPole-v1", n_steps=5, learning_rate=LinearSchedule(1e-3, 0.0, 1.0), seed=0)
    model.learn(200)
    # SB3 updates the progress after each rollout: the last update runs with none left
    assert model.logger.name_to_value["train/learning_rate"] == 0.0
    assert model.policy.optimizer.param_groups[0]["lr"] == 0.0
    assert model.lr_schedule(0.5) == pytest.approx(5e-4)


def test_optimizers():
    default = A2CPlus("MlpPolicy", "CartPole-v1").policy.optimizer
    assert isinstance(default, th.optim.RMSprop)
    assert default.defaults["alpha"] == 0.99 and default.defaults["eps"] == 1e-5
    tf_like = A2CPlus(
        "MlpPolicy", "CartPole-v1", policy_kwargs=dict(optimizer_class=RMSpropTFLike, optimizer_kwargs=dict(eps=1e-5))
    ).policy.optimizer
    assert isinstance(tf_like, RMSpropTFLike)
    assert isinstance(A2CPlus("MlpPolicy", "CartPole-v1", use_rms_prop=False).policy.optimizer, th.optim.Adam)


def test_non_finite_loss_stops_before_the_optimizer_step():
    env = DummyVecEnv([lambda: NaNWrapper(gym.make("CartPole-v1"), "reward", from_step=12)])
    model = A2CPlus("MlpPolicy", env, n_steps=5, seed=0)
    model.learn(10)  # two good updates
    weights = {key: value.clone() for key, value in model.policy.state_dict().items()}
    optimizer_state = {key: state["square_avg"].clone() for key, state in model.policy.optimizer.state.items()}

    with pytest.raises(NonFiniteLossError, match=r"update 3: non-finite loss .* weights are those after update 2"):
        model.learn(10, reset_num_timesteps=False)
    assert all(th.equal(weights[key], value) for key, value in model.policy.state_dict().items())
    assert all(th.equal(optimizer_state[key], state["square_avg"]) for key, state in model.policy.optimizer.state.items())
    # A ValueError, so RL Zoo prunes such a trial instead of crashing the study
    assert issubclass(NonFiniteLossError, ValueError)


def test_non_finite_observations_get_a_clear_error():
    # The 8th step returns NaN. The rollouts skip torch's checks of the action distribution, which rejected NaN logits
    env = DummyVecEnv([lambda: NaNWrapper(gym.make("CartPole-v1"), "observation", from_step=7)])
    model = A2CPlus("MlpPolicy", env, n_steps=5, seed=0)
    message = r"after 8 steps: the environment returned a NaN or infinite observation. .*VecCheckNan"
    with pytest.raises(ValueError, match=message):
        model.learn(20)
