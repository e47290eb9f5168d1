"""Actor and critic MLPs as MindSpore Cells.

Layer names follow the original model-zoo DDPG: the actor's Dense layers are `a_fc1 ... a_fcN`,
the critic's `c_fc1 ... c_fcN`. With hidden sizes [400, 300] an actor checkpoint therefore has
exactly the parameter names and shapes of the published MindSpore Hub actor-target.
"""
from typing import Sequence, Tuple

import numpy as np
import mindspore as ms
from mindspore import nn, ops
from mindspore.common.initializer import Uniform

# Final-layer weights and biases start in U(-3e-3, 3e-3) (DDPG paper, section 7) so the initial
# outputs are near zero; hidden layers keep MindSpore's default U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
FINAL_LAYER_INIT = 3e-3


def _final_dense(in_dim: int, out_dim: int, init: float) -> nn.Dense:
    if init == 0:  # the hidden layers' fan-in default (PyTorch's too, so the TD3 authors' code)
        return nn.Dense(in_dim, out_dim)
    return nn.Dense(in_dim, out_dim, weight_init=Uniform(init), bias_init=Uniform(init))


class ActorNet(nn.Cell):
    """Deterministic policy mu(s): ReLU MLP, tanh, then an affine map onto [low, high].

    `low`/`high` are per-dimension bounds (asymmetric Box bounds work); they are constants of
    the graph, not parameters, so checkpoints hold only the Dense layers. The last layer starts
    in U(-final_init, final_init), or with the fan-in default if final_init is 0.
    """

    def __init__(self, obs_dim: int, act_dim: int, hidden_sizes: Sequence[int],
                 low: np.ndarray, high: np.ndarray, final_init: float = FINAL_LAYER_INIT):
        super().__init__()
        sizes = [obs_dim] + list(hidden_sizes)
        self.n_layers = len(hidden_sizes) + 1
        layers = []
        for i in range(len(hidden_sizes)):
            layers.append(nn.Dense(sizes[i], sizes[i + 1]))
        layers.append(_final_dense(sizes[-1], act_dim, final_init))
        for i, layer in enumerate(layers):
            setattr(self, f"a_fc{i + 1}", layer)
        self.layers = layers  # plain list: the same Cells, iterated in construct
        low = np.asarray(low, np.float32).reshape(act_dim)
        high = np.asarray(high, np.float32).reshape(act_dim)
        self.center = ms.Tensor((high + low) / 2.0)
        self.half_range = ms.Tensor((high - low) / 2.0)
        self.relu = nn.ReLU()

    def construct(self, obs):
        x = obs
        for layer in self.layers[:-1]:
            x = self.relu(layer(x))
        return self.center + self.half_range * ops.tanh(self.layers[-1](x))


class CriticNet(nn.Cell):
    """Action value Q(s, a): ReLU MLP with the action joined at layer `action_layer`.

    action_layer 0 concatenates [s, a] at the input; 1 concatenates the first hidden layer's
    output with a, as in the DDPG paper ("actions were not included until the 2nd hidden layer").
    The last layer starts as the actor's does (`final_init`).
    """

    def __init__(self, obs_dim: int, act_dim: int, hidden_sizes: Sequence[int],
                 action_layer: int = 0, final_init: float = FINAL_LAYER_INIT):
        super().__init__()
        if not 0 <= action_layer <= len(hidden_sizes):
            raise ValueError(f"action_layer {action_layer} outside 0..{len(hidden_sizes)}")
        self.action_layer = action_layer
        widths = [obs_dim] + list(hidden_sizes)
        layers = []
        for i in range(len(hidden_sizes)):
            in_dim = widths[i] + (act_dim if i == action_layer else 0)
            layers.append(nn.Dense(in_dim, widths[i + 1]))
        in_dim = widths[-1] + (act_dim if action_layer == len(hidden_sizes) else 0)
        layers.append(_final_dense(in_dim, 1, final_init))
        for i, layer in enumerate(layers):
            setattr(self, f"c_fc{i + 1}", layer)
        self.layers = layers
        self.relu = nn.ReLU()

    def construct(self, obs, action):
        x = obs
        n_hidden = len(self.layers) - 1
        for i in range(n_hidden):
            if i == self.action_layer:
                x = ops.concat((x, action), -1)
            x = self.relu(self.layers[i](x))
        if self.action_layer == n_hidden:
            x = ops.concat((x, action), -1)
        return self.layers[-1](x).squeeze(-1)


class HostActor:
    """A NumPy copy of an ActorNet's forward pass, for choosing actions on the host.

    One observation through a MindSpore graph costs a graph launch and a device round trip
    (about 0.4 ms here); the same 400-300 forward in NumPy costs a few tens of microseconds.
    The trainer acts between gradient phases, so copying the weights once after each phase
    (`sync`) gives exactly the actions of the MindSpore actor.
    """

    def __init__(self, actor: ActorNet):
        self.actor = actor
        self.center = actor.center.asnumpy()
        self.half_range = actor.half_range.asnumpy()
        self.sync()

    def sync(self) -> None:
        """Copies the current weights from the MindSpore actor."""
        self.layers = [(np.ascontiguousarray(layer.weight.asnumpy().T), layer.bias.asnumpy())
                       for layer in self.actor.layers]

    def forward(self, obs: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """(last hidden layer's output, the output layer's pre-activation) for `obs`."""
        x = np.asarray(obs, np.float32)
        for w, b in self.layers[:-1]:
            x = np.maximum(x @ w + b, 0.0)
        w, b = self.layers[-1]
        return x, x @ w + b

    def squash(self, pre: np.ndarray) -> np.ndarray:
        """The action for an output-layer pre-activation: tanh, then onto [low, high]."""
        return self.center + self.half_range * np.tanh(pre)

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        return self.squash(self.forward(obs)[1])
