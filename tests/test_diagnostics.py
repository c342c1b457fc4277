"""sb3_a2c_plus.common.diagnostics on saved-model terms: units that never fire while a policy plays, RMSprop's step."""

import numpy as np
import pytest
import torch as th
from stable_baselines3 import A2C

from sb3_a2c_plus import A2CPlus
from sb3_a2c_plus.common.diagnostics import rmsprop_step_to_learning_rate, unit_activity
from sb3_a2c_plus.envs import AtariVecEnv


@pytest.fixture
def breakout():
    env = AtariVecEnv("BreakoutNoFrameskip-v4", 2, seed=0)
    yield env
    env.close()


def test_unit_activity_finds_a_silent_layer_and_rmsprop_leaves_its_weights(breakout):
    model = A2CPlus("CnnPolicy", breakout, n_steps=5, seed=0)
    with th.no_grad():  # the critic's whole hidden layer stops firing; the actor's keeps firing
        model.policy.mlp_extractor.value_net[0].bias.fill_(-1e9)
    model.learn(10)  # one update: RMSprop's squared-gradient averages, zero for the critic's silent layer

    layers, entropy = unit_activity(model.policy, breakout, 10)
    assert sorted(layers) == ["mlp_extractor.policy_net.1", "mlp_extractor.value_net.1"]
    critic_units, critic_never, critic_per_state = layers["mlp_extractor.value_net.1"]
    actor_units, actor_never, actor_per_state = layers["mlp_extractor.policy_net.1"]
    assert critic_units == actor_units == 512
    assert (critic_never, critic_per_state) == (1.0, 0.0)  # nothing fires in the silent layer, in any state
    assert actor_never < 0.5 and 0.0 < actor_per_state < 1.0
    # An untrained policy's output layer (gain 0.01) is close to uniform over Breakout's 4 actions
    assert entropy == pytest.approx(np.log(4), abs=0.01)

    # A unit that never fires passes no gradient: torch's RMSprop leaves its weights where they are
    assert rmsprop_step_to_learning_rate(model.policy, "mlp_extractor.value_net.1") == 0.0
    assert 0.0 < rmsprop_step_to_learning_rate(model.policy, "mlp_extractor.policy_net.1") <= 1.0


def test_unit_activity_of_sb3_and_of_shared_heads(breakout):
    untrained = A2C("CnnPolicy", breakout, seed=0)
    layers, _ = unit_activity(untrained.policy, breakout, 10)
    assert list(layers) == ["features_extractor.linear.1"]  # SB3's CnnPolicy: one hidden layer, shared
    assert rmsprop_step_to_learning_rate(untrained.policy, "features_extractor.linear.1") is None  # no update yet

    model = A2CPlus("CnnPolicy", breakout, n_steps=5, seed=0, policy_kwargs=dict(head_layout="shared")).learn(10)
    layers, _ = unit_activity(model.policy, breakout, 10)
    assert list(layers) == ["mlp_extractor.shared_net.1"]
    assert 0.0 < layers["mlp_extractor.shared_net.1"][2] < 1.0
    # The step of the shared linear layer, which the one update moved
    assert 0.0 < rmsprop_step_to_learning_rate(model.policy, "mlp_extractor.shared_net.1") <= 1.0
