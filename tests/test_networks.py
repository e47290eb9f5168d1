import numpy as np
import mindspore as ms

from src.networks import FINAL_LAYER_INIT, ActorNet, CriticNet


def test_actor_maps_onto_asymmetric_bounds():
    low, high = np.array([-1.0, 0.0], np.float32), np.array([3.0, 0.5], np.float32)
    actor = ActorNet(4, 2, [8], low, high)
    obs = ms.Tensor(np.random.default_rng(0).standard_normal((64, 4)).astype(np.float32) * 100)
    # Saturate tanh both ways through the final layer's bias.
    actor.a_fc2.weight.set_data(ms.Tensor(np.zeros((2, 8), np.float32)))
    actor.a_fc2.bias.set_data(ms.Tensor(np.array([50.0, -50.0], np.float32)))
    np.testing.assert_allclose(actor(obs).asnumpy(), np.tile([[3.0, 0.0]], (64, 1)), atol=1e-6)
    actor.a_fc2.bias.set_data(ms.Tensor(np.array([0.0, 0.0], np.float32)))
    np.testing.assert_allclose(actor(obs).asnumpy(), np.tile([[1.0, 0.25]], (64, 1)), atol=1e-6)


def test_actor_output_within_bounds_for_random_weights():
    low, high = np.array([-0.5], np.float32), np.array([2.0], np.float32)
    actor = ActorNet(3, 1, [16, 16], low, high)
    for p in actor.get_parameters():
        p.set_data(ms.Tensor(np.random.default_rng(1).standard_normal(p.shape).astype(np.float32)))
    out = actor(ms.Tensor(np.random.default_rng(2).standard_normal((500, 3)).astype(np.float32))).asnumpy()
    assert out.min() >= -0.5 and out.max() <= 2.0


def test_final_layers_start_small():
    actor = ActorNet(3, 2, [400, 300], -np.ones(2), np.ones(2))
    critic = CriticNet(3, 2, [400, 300])
    for p in (actor.a_fc3.weight, actor.a_fc3.bias, critic.c_fc3.weight, critic.c_fc3.bias):
        v = p.asnumpy()
        assert np.abs(v).max() <= FINAL_LAYER_INIT
    for w in (actor.a_fc3.weight, critic.c_fc3.weight):  # spread over the interval, not zero
        assert w.asnumpy().std() > FINAL_LAYER_INIT / 4
    # Hidden layers keep the fan-in scaled default U(-1/sqrt(f), 1/sqrt(f)).
    assert np.abs(actor.a_fc2.weight.asnumpy()).max() <= 1 / np.sqrt(400) + 1e-6
    assert np.abs(actor.a_fc2.weight.asnumpy()).max() > 0.5 / np.sqrt(400)


def test_critic_action_layer_shapes():
    s = ms.Tensor(np.ones((5, 3), np.float32))
    a = ms.Tensor(np.ones((5, 2), np.float32))
    first = CriticNet(3, 2, [16, 8], action_layer=0)
    second = CriticNet(3, 2, [16, 8], action_layer=1)
    assert first.c_fc1.weight.shape == (16, 5) and first.c_fc2.weight.shape == (8, 16)
    assert second.c_fc1.weight.shape == (16, 3) and second.c_fc2.weight.shape == (8, 18)
    assert first(s, a).shape == (5,) and second(s, a).shape == (5,)


def test_actor_parameter_names_match_hub_layout():
    actor = ActorNet(3, 1, [400, 300], -2 * np.ones(1), 2 * np.ones(1))
    shapes = {p.name: p.shape for p in actor.get_parameters()}
    assert shapes == {"a_fc1.weight": (400, 3), "a_fc1.bias": (400,),
                      "a_fc2.weight": (300, 400), "a_fc2.bias": (300,),
                      "a_fc3.weight": (1, 300), "a_fc3.bias": (1,)}


def test_host_actor_matches_the_cell_and_follows_sync():
    from src.networks import HostActor
    low, high = np.array([-1.0, 0.0], np.float32), np.array([3.0, 0.5], np.float32)
    actor = ActorNet(4, 2, [32, 16], low, high)
    host = HostActor(actor)
    obs = np.random.default_rng(0).standard_normal((7, 4)).astype(np.float32)
    np.testing.assert_allclose(host(obs), actor(ms.Tensor(obs)).asnumpy(), rtol=1e-5, atol=1e-6)
    for p in actor.get_parameters():
        p.set_data(ms.Tensor(0.2 * np.random.default_rng(1).standard_normal(p.shape)
                             .astype(np.float32)))
    assert not np.allclose(host(obs), actor(ms.Tensor(obs)).asnumpy())  # stale until sync
    host.sync()
    np.testing.assert_allclose(host(obs), actor(ms.Tensor(obs)).asnumpy(), rtol=1e-5, atol=1e-5)


def test_final_layer_init_setting():
    # 0.05 widens the uniform interval; 0 gives the last layers the fan-in default
    # U(-1/sqrt(300), 1/sqrt(300)) of the hidden layers (about 0.058, far beyond 3e-3).
    actor = ActorNet(3, 2, [400, 300], -np.ones(2), np.ones(2), final_init=0.05)
    w = actor.a_fc3.weight.asnumpy()
    assert np.abs(w).max() <= 0.05 and w.std() > 0.05 / 4
    bound = 1 / np.sqrt(300)
    for net, layer in ((ActorNet(3, 2, [400, 300], -np.ones(2), np.ones(2), final_init=0.0),
                        "a_fc3"), (CriticNet(3, 2, [400, 300], final_init=0.0), "c_fc3")):
        w = getattr(net, layer).weight.asnumpy()
        assert np.abs(w).max() <= bound + 1e-6 and np.abs(w).max() > bound / 2
