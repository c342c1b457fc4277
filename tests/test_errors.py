import pytest

from sb3_a2c_plus import A2CPlus


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(advantage_estimator="td"), r"advantage_estimator must be one of \('nstep', 'gae'\), got 'td'"),
        (dict(gae_lambda=1.5), r"gae_lambda must be in \[0, 1\], got 1.5"),
        (dict(gae_lambda=-0.1), r"gae_lambda must be in \[0, 1\], got -0.1"),
        (dict(gae_lambda=True), r"gae_lambda must be in \[0, 1\], got True"),
        (dict(n_steps=0), r"n_steps must be an integer >= 1, got 0"),
        (dict(n_steps=True), r"n_steps must be an integer >= 1, got True"),
        (dict(rollout_batch_norm="frozen"), r"rollout_batch_norm must be one of \('running', 'batch'\), got 'frozen'"),
        (dict(grad_clip="per_layer"), r"grad_clip must be one of \('global', 'per_parameter'\), got 'per_layer'"),
        (dict(policy_kwargs=dict(net_arch=[64, 0])), r"net_arch: every head width must be a positive integer"),
        (dict(policy_kwargs=dict(net_arch=dict(pi=[64], vf=[-8]))), r"net_arch: every head width must be a positive integer"),
        (dict(policy_kwargs=dict(head_layout="tied")), r"head_layout must be one of \('separate', 'shared'\), got 'tied'"),
        (dict(policy_kwargs=dict(head_batch_norm=True)), r"head_batch_norm was removed .* at commit bbdeccc"),
        (dict(policy_kwargs=dict(head_init="xavier")), r"head_init must be one of \('orthogonal', 'torch'\), got 'xavier'"),
    ],
)
def test_bad_hyperparameters_name_the_parameter_and_allowed_values(kwargs, message):
    with pytest.raises(ValueError, match=message):
        A2CPlus("MlpPolicy", "CartPole-v1", **kwargs)


def test_bad_hyperparameter_given_at_load_time_is_rejected(tmp_path):
    A2CPlus("MlpPolicy", "CartPole-v1").save(tmp_path / "model")
    with pytest.raises(ValueError, match="advantage_estimator must be one of"):
        A2CPlus.load(tmp_path / "model", advantage_estimator="mc")


def test_cnn_policy_on_vector_observations():
    with pytest.raises(ValueError, match="CnnPolicy needs image observations.*Use 'MlpPolicy'"):
        A2CPlus("CnnPolicy", "CartPole-v1")


def test_cnn_heads_need_positive_width(image_env):
    with pytest.raises(ValueError, match="net_arch: every head width must be a positive integer"):
        A2CPlus("CnnPolicy", image_env, policy_kwargs=dict(net_arch=dict(pi=[0], vf=[512])))


def test_cnn_geometry_must_be_consistent(image_env):
    kwargs = dict(features_extractor_kwargs=dict(channels=(32, 64), kernel_sizes=(8, 4, 3), strides=(4, 2, 1)))
    with pytest.raises(ValueError, match="channels, kernel_sizes and strides must be non-empty and of equal length"):
        A2CPlus("CnnPolicy", image_env, policy_kwargs=kwargs)
