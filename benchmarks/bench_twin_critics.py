"""Twin critics in one graph: two separate critics, or one stacked pair (BatchMatMul)?

    taskset -c 1 python benchmarks/bench_twin_critics.py [--calls 30] [--rounds 3]

Times TD3's critic step alone (both target critics at the next state, their minimum as the TD
target, both online critics, the summed squared errors, one backward pass, one Adam step), ten
steps per graph call as the learner runs them, at HalfCheetah's sizes (17 observations,
6 actions, 256-256 critics, batch 256). `separate` is two CriticNets as src/learner.py builds
them; `stacked` keeps both critics' weights of a layer in one [2, in, out] Parameter and runs each
layer of the pair as one BatchMatMul. The two alternate, `rounds` times; each prints ms per step.
"""
import argparse
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
import src.runtime  # noqa: E402,F401  (before mindspore)

import numpy as np  # noqa: E402
import mindspore as ms  # noqa: E402
from mindspore import nn, ops, Parameter, ParameterTuple  # noqa: E402

from src.networks import CriticNet  # noqa: E402

OBS, ACT, HIDDEN, BATCH, STEPS_PER_CALL = 17, 6, (256, 256), 256, 10


class StackedCritics(nn.Cell):
    """Two critics as one: layer i is x [2, B, in] @ W [2, in, out] + b [2, 1, out]."""

    def __init__(self, rng: np.random.Generator):
        super().__init__()
        sizes = [OBS + ACT, *HIDDEN, 1]
        self.w = ParameterTuple([Parameter(ms.Tensor(rng.uniform(
            -1, 1, (2, i, o)).astype(np.float32) / np.sqrt(i)), name=f"w{k}")
            for k, (i, o) in enumerate(zip(sizes, sizes[1:]))])
        self.b = ParameterTuple([Parameter(ms.Tensor(np.zeros((2, 1, o), np.float32)),
                                              name=f"b{k}") for k, o in enumerate(sizes[1:])])
        self.matmul = ops.BatchMatMul()

    def construct(self, obs, act):
        x = ops.concat((obs, act), -1)
        x = ops.broadcast_to(x.expand_dims(0), (2,) + x.shape)
        for k in range(len(self.w) - 1):
            x = ops.relu(self.matmul(x, self.w[k]) + self.b[k])
        return (self.matmul(x, self.w[-1]) + self.b[-1]).squeeze(-1)  # [2, B]


class SeparateLoss(nn.Cell):
    def __init__(self):
        super().__init__()
        self.q1, self.q2 = CriticNet(OBS, ACT, HIDDEN), CriticNet(OBS, ACT, HIDDEN)
        self.t1, self.t2 = CriticNet(OBS, ACT, HIDDEN), CriticNet(OBS, ACT, HIDDEN)

    def construct(self, obs, act, rew, next_obs, next_act):
        y = ops.stop_gradient(rew + 0.99 * ops.minimum(self.t1(next_obs, next_act),
                                                       self.t2(next_obs, next_act)))
        return (ops.reduce_mean(ops.square(self.q1(obs, act) - y))
                + ops.reduce_mean(ops.square(self.q2(obs, act) - y)))


class StackedLoss(nn.Cell):
    def __init__(self):
        super().__init__()
        rng = np.random.default_rng(0)
        self.q, self.t = StackedCritics(rng), StackedCritics(rng)

    def construct(self, obs, act, rew, next_obs, next_act):
        y = ops.stop_gradient(rew + 0.99 * ops.reduce_min(self.t(next_obs, next_act), 0))
        return ops.reduce_sum(ops.reduce_mean(ops.square(self.q(obs, act) - y), 1))


class Steps(nn.Cell):
    """STEPS_PER_CALL critic steps (one Adam over both online critics) in a while loop."""

    def __init__(self, loss: nn.Cell, online: list):
        super().__init__()
        self.opt = nn.Adam(online, learning_rate=3e-4)
        self.grad_fn = ms.value_and_grad(loss, None, self.opt.parameters)

    def construct(self, obs, act, rew, next_obs, next_act):
        i = ms.Tensor(0, ms.int32)
        loss = ops.zeros((), ms.float32)
        while i < obs.shape[0]:
            loss, grads = self.grad_fn(obs[i], act[i], rew[i], next_obs[i], next_act[i])
            self.opt(grads)
            i = i + 1
        return loss


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    ms.set_context(mode=ms.GRAPH_MODE)
    ms.set_device("CPU")
    ms.set_seed(0)
    separate, stacked = SeparateLoss(), StackedLoss()
    contenders = {
        "separate": Steps(separate, separate.q1.trainable_params()
                          + separate.q2.trainable_params()),
        "stacked": Steps(stacked, stacked.q.trainable_params())}
    rng = np.random.default_rng(0)
    k, b = STEPS_PER_CALL, BATCH
    batch = [ms.Tensor(x.astype(np.float32)) for x in (
        rng.standard_normal((k, b, OBS)), rng.uniform(-1, 1, (k, b, ACT)),
        rng.standard_normal((k, b)), rng.standard_normal((k, b, OBS)),
        rng.uniform(-1, 1, (k, b, ACT)))]
    for step in contenders.values():
        step(*batch).asnumpy()  # compile
    for _ in range(args.rounds):
        for name, step in contenders.items():
            start = time.perf_counter()
            for _ in range(args.calls):
                out = step(*batch)
            out.asnumpy()
            per_step = (time.perf_counter() - start) / (args.calls * k) * 1e3
            print(f"{name:9s} {per_step:6.3f} ms per critic step", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
