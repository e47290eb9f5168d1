"""The fused learner against the same step written out op by op (separate graphs + NumPy)."""
import numpy as np
import mindspore as ms
from mindspore import nn
import pytest

from src.config import load_config
from src.learner import ActorLoss, CriticLoss, Learner

TAU, LR, DISCOUNT = 0.1, 0.01, 0.9


def _cfg(**over):
    argv = ["--policy_hidden_sizes", "[8, 6]", "--qf_hidden_sizes", "[8, 6]",
            "--target_update_tau", str(TAU), "--policy_lr", str(LR), "--qf_lr", str(LR),
            "--discount", str(DISCOUNT)]
    for k, v in over.items():
        argv += [f"--{k}", str(v)]
    return load_config(argv)[0]


def _params(cell):
    return {p.name: p.asnumpy().copy() for p in cell.get_parameters()}


def _batch(spec, n=16, seed=0):
    rng = np.random.default_rng(seed)
    f = np.float32
    return (rng.standard_normal((n, spec.obs_dim)).astype(f),
            rng.uniform(spec.low, spec.high, (n, spec.act_dim)).astype(f),
            rng.standard_normal(n).astype(f), rng.standard_normal((n, spec.obs_dim)).astype(f),
            (rng.random(n) < 0.3).astype(f))


class _Grad(nn.Cell):
    """Gradients of a loss cell's first output w.r.t. `params`, as its own graph."""

    def __init__(self, loss, params):
        super().__init__(auto_prefix=False)
        self.loss = loss
        self.params = ms.ParameterTuple(params)
        self.fn = ms.value_and_grad(loss, None, self.params, has_aux=True)

    def construct(self, *inputs):
        return self.fn(*inputs)


class _NumpyAdam:
    """nn.Adam's update rule (defaults beta1 0.9, beta2 0.999, eps 1e-8) in NumPy."""

    def __init__(self, lr, b1=0.9, b2=0.999, eps=1e-8):
        self.lr, self.b1, self.b2, self.eps, self.t = lr, b1, b2, eps, 0
        self.m, self.v = {}, {}

    def step(self, params, grads):
        self.t += 1
        lr_t = self.lr * np.sqrt(1 - self.b2 ** self.t) / (1 - self.b1 ** self.t)
        for name, g in grads.items():
            self.m[name] = self.b1 * self.m.get(name, 0.0) + (1 - self.b1) * g
            self.v[name] = self.b2 * self.v.get(name, 0.0) + (1 - self.b2) * g * g
            params[name] = params[name] - lr_t * self.m[name] / (np.sqrt(self.v[name]) + self.eps)


def test_parameter_names_are_unique(pendulum_spec):
    learner = Learner(pendulum_spec, _cfg())
    names = [p.name for p in learner.update_cell.get_parameters()]
    assert len(names) == len(set(names))
    for prefix in ("actor.", "actor_target.", "critic.", "critic_target.", "actor_opt.",
                   "critic_opt.", "stats."):
        assert any(n.startswith(prefix) for n in names), prefix


def test_targets_start_as_exact_copies(pendulum_spec):
    nets = Learner(pendulum_spec, _cfg()).nets
    for online, target in ((nets.actor, nets.actor_target), (nets.critic, nets.critic_target)):
        for p, t in zip(online.get_parameters(), target.get_parameters()):
            np.testing.assert_array_equal(p.asnumpy(), t.asnumpy())
            assert p is not t


def _load(cell, values):
    for p in cell.get_parameters():
        p.set_data(ms.Tensor(values[p.name]))


def test_fused_steps_equal_op_by_op_steps(pendulum_spec):
    """Two fused steps == critic step, then actor step through the updated critic, then soft
    updates, each written out separately (gradients in their own graphs, Adam in NumPy)."""
    cfg = _cfg()
    learner = Learner(pendulum_spec, cfg)
    ref = Learner(pendulum_spec, cfg)  # its cells compute the reference gradients
    names = ("actor", "actor_target", "critic", "critic_target")
    state = {k: _params(getattr(learner.nets, k)) for k in names}
    adam = {"actor": _NumpyAdam(LR), "critic": _NumpyAdam(LR)}
    critic_grad = _Grad(CriticLoss(ref.nets, cfg.discount, cfg.reward_scale, cfg.clip_return,
                                   cfg.clip_pos_returns, 0.0), ref.nets.critic.trainable_params())
    actor_grad = _Grad(ActorLoss(ref.nets, 0.0), ref.nets.actor.trainable_params())
    qs, ys = [], []
    for step in range(2):
        batch = _batch(pendulum_spec, seed=step)
        tensors = [ms.Tensor(x) for x in batch]
        for k in names:
            _load(getattr(ref.nets, k), state[k])
        (_, q, y), grads = critic_grad(*tensors)
        next_q = ref.nets.critic_target(tensors[3], ref.nets.actor_target(tensors[3])).asnumpy()
        np.testing.assert_allclose(y.asnumpy(), batch[2] + DISCOUNT * (1 - batch[4]) * next_q,
                                   rtol=1e-5, atol=1e-6)
        qs.append(q.asnumpy())
        ys.append(y.asnumpy())
        adam["critic"].step(state["critic"], {p.name: g.asnumpy() for p, g in
                                              zip(ref.nets.critic.trainable_params(), grads)})
        _load(ref.nets.critic, state["critic"])
        _, grads = actor_grad(tensors[0])
        adam["actor"].step(state["actor"], {p.name: g.asnumpy() for p, g in
                                            zip(ref.nets.actor.trainable_params(), grads)})
        for online, target in (("actor", "actor_target"), ("critic", "critic_target")):
            for (tn, tv), ov in zip(state[target].items(), state[online].values()):
                state[target][tn] = TAU * ov + (1 - TAU) * tv
        learner.update([x[None] for x in batch])

    for k in names:
        fused = _params(getattr(learner.nets, k))
        for name, value in state[k].items():
            np.testing.assert_allclose(fused[name], value, rtol=1e-4, atol=1e-6,
                                       err_msg=f"{k}: {name}")
    stats = learner.read_stats()
    assert stats["GradSteps"] == 2
    np.testing.assert_allclose(stats["AverageQ"], np.mean(qs), rtol=1e-4)
    np.testing.assert_allclose(stats["MaxQ"], np.max(qs), rtol=1e-4)
    np.testing.assert_allclose(stats["AverageY"], np.mean(ys), rtol=1e-4)
    assert learner.read_stats()["GradSteps"] == 0  # reading resets the accumulators


@pytest.mark.parametrize("decay", [0.0, 0.5])
def test_weight_decay_enters_the_losses(pendulum_spec, decay):
    cfg = _cfg()
    nets = Learner(pendulum_spec, cfg).nets
    batch = [ms.Tensor(x) for x in _batch(pendulum_spec)]
    plain = CriticLoss(nets, DISCOUNT, 1.0, float("inf"), False, 0.0)(*batch)[0].asnumpy()
    decayed = CriticLoss(nets, DISCOUNT, 1.0, float("inf"), False, decay)(*batch)[0].asnumpy()
    l2 = sum((p.asnumpy() ** 2).sum() for p in nets.critic.get_parameters()
             if p.name.endswith(".weight"))
    np.testing.assert_allclose(decayed - plain, 0.5 * decay * l2, rtol=1e-4, atol=1e-6)
    a_plain = ActorLoss(nets, 0.0)(batch[0])[0].asnumpy()
    a_decayed = ActorLoss(nets, decay)(batch[0])[0].asnumpy()
    l2a = sum((p.asnumpy() ** 2).sum() for p in nets.actor.get_parameters()
              if p.name.endswith(".weight"))
    np.testing.assert_allclose(a_decayed - a_plain, 0.5 * decay * l2a, rtol=1e-4, atol=1e-6)


def test_steps_in_one_call_equal_steps_in_separate_calls(pendulum_spec):
    cfg = _cfg()
    one, many = Learner(pendulum_spec, cfg), Learner(pendulum_spec, cfg)
    for a, b in zip(one.update_cell.get_parameters(), many.update_cell.get_parameters()):
        b.set_data(ms.Tensor(a.asnumpy()))
    batches = [_batch(pendulum_spec, seed=s) for s in range(3)]
    for batch in batches:
        one.update([x[None] for x in batch])
    many.update([np.stack(xs) for xs in zip(*batches)])
    for a, b in zip(one.update_cell.get_parameters(), many.update_cell.get_parameters()):
        np.testing.assert_allclose(a.asnumpy(), b.asnumpy(), rtol=1e-6, atol=1e-7,
                                   err_msg=a.name)
    assert many.read_stats()["GradSteps"] == 3
    # Statistics keep accumulating after a read (regression: a reset by set_data was lost).
    many.update([np.stack(xs) for xs in zip(*batches[:2])])
    stats = many.read_stats()
    assert stats["GradSteps"] == 2 and np.isfinite(stats["AverageQFunctionLoss"])
