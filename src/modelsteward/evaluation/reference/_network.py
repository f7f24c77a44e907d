"""The reference policies' network: small MLPs over a set of vehicles, trained in NumPy.

A plain MLP over the flattened observation must learn, from a few thousand samples, which of
nine rows holds the vehicle ahead — rows are ordered by distance, not by lane — and generalises
poorly (held-out accuracy barely above always-IDLE). The network here applies one small MLP to
every observed vehicle, max-pools the results (so it does not matter in which row a vehicle
sits), and a second MLP maps the pooled features plus the ego's own state to action
probabilities — a Deep Sets architecture (Zaheer et al., 2017), still only matrix products,
ReLUs, a max and a softmax.

Training: softmax cross-entropy, Adam, L2 weight decay, float32, seeded. Inputs are
standardised with the training set's statistics, folded into the first layers' weights by
:meth:`SetNet.folded`, so the exported graph takes raw observations.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

__all__ = ["EGO_FEATURES", "SetNet", "TrainingConfig", "accuracy", "train_setnet"]

FEATURES = 5
EGO_FEATURES = (2, 3, 4)
"""The ego row's y (lane position), vx and vy; its presence and clipped x carry nothing."""


@dataclass(frozen=True)
class TrainingConfig:
    """Hyper-parameters of :func:`train_setnet`."""

    encoder: tuple[int, int] = (32, 32)
    head: int = 64
    epochs: int = 25
    batch_size: int = 128
    learning_rate: float = 3e-3
    weight_decay: float = 1e-3


@dataclass(frozen=True)
class SetNet:
    """Weights (float32): encoder ``w1, b1, w2, b2``; head ``w3, b3, w4, b4``.

    ``w*`` are ``(in, out)``; the head's input is the pooled encoding then the ego features.
    """

    w1: np.ndarray
    b1: np.ndarray
    w2: np.ndarray
    b2: np.ndarray
    w3: np.ndarray
    b3: np.ndarray
    w4: np.ndarray
    b4: np.ndarray

    @property
    def layer_sizes(self) -> dict[str, list[int]]:
        """Encoder and head layer sizes."""
        return {
            "encoder": [int(self.w1.shape[0]), int(self.w1.shape[1]), int(self.w2.shape[1])],
            "head": [int(self.w3.shape[0]), int(self.w3.shape[1]), int(self.w4.shape[1])],
        }

    def probabilities(self, observations: np.ndarray) -> np.ndarray:
        """Action probabilities for raw observations ``(n, vehicles * 5)`` (or ``(n, v, 5)``)."""
        rows = np.asarray(observations, dtype=np.float32).reshape(len(observations), -1, FEATURES)
        return _forward(self, rows[:, 1:, :], rows[:, 0, EGO_FEATURES])[0]

    def folded(
        self,
        row_mean: np.ndarray,
        row_scale: np.ndarray,
        ego_mean: np.ndarray,
        ego_scale: np.ndarray,
    ) -> SetNet:
        """The same function of raw inputs, with the standardisation folded into w1 and w3."""
        hidden = self.w2.shape[1]
        w3_ego = self.w3[hidden:] / ego_scale[:, None]
        return replace(
            self,
            w1=(self.w1 / row_scale[:, None]).astype(np.float32),
            b1=(self.b1 - (row_mean / row_scale) @ self.w1).astype(np.float32),
            w3=np.concatenate([self.w3[:hidden], w3_ego]).astype(np.float32),
            b3=(self.b3 - (ego_mean / ego_scale) @ self.w3[hidden:]).astype(np.float32),
        )


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)  # type: ignore[no-any-return]


def _forward(
    net: SetNet, others: np.ndarray, ego: np.ndarray
) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    count, vehicles, _ = others.shape
    flat = others.reshape(count * vehicles, FEATURES)
    z1 = flat @ net.w1 + net.b1
    a1 = np.maximum(z1, 0)
    z2 = a1 @ net.w2 + net.b2
    a2 = np.maximum(z2, 0).reshape(count, vehicles, -1)
    winner = a2.argmax(axis=1)
    head_in = np.concatenate([a2.max(axis=1), ego], axis=1)
    z3 = head_in @ net.w3 + net.b3
    a3 = np.maximum(z3, 0)
    probabilities = _softmax(a3 @ net.w4 + net.b4)
    return probabilities, (flat, z1, a1, z2, winner, head_in, z3, a3)


def _gradients(net: SetNet, others: np.ndarray, ego: np.ndarray, labels: np.ndarray) -> SetNet:
    probabilities, (flat, z1, a1, z2, winner, head_in, z3, a3) = _forward(net, others, ego)
    count, vehicles, _ = others.shape
    d4 = probabilities
    d4[np.arange(count), labels] -= 1.0
    d4 /= count
    d3 = (d4 @ net.w4.T) * (z3 > 0)
    d_pool = (d3 @ net.w3.T)[:, : net.w2.shape[1]]
    d_a2 = np.zeros((count, vehicles, d_pool.shape[1]), dtype=d_pool.dtype)
    np.put_along_axis(d_a2, winner[:, None, :], d_pool[:, None, :], axis=1)
    d2 = d_a2.reshape(count * vehicles, -1) * (z2 > 0)
    d1 = (d2 @ net.w2.T) * (z1 > 0)
    return SetNet(
        flat.T @ d1, d1.sum(axis=0), a1.T @ d2, d2.sum(axis=0),
        head_in.T @ d3, d3.sum(axis=0), a3.T @ d4, d4.sum(axis=0),
    )  # fmt: skip


def _standardise(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean = values.mean(axis=0)
    spread = values.std(axis=0)
    return mean, np.where(spread > 1e-6, spread, 1.0).astype(np.float32)


def _init(rng: np.random.Generator, config: TrainingConfig, ego: int, actions: int) -> SetNet:
    hidden1, hidden2 = config.encoder
    sizes = [(FEATURES, hidden1), (hidden1, hidden2), (hidden2 + ego, config.head)]
    sizes.append((config.head, actions))
    parts: list[np.ndarray] = []
    for fan_in, fan_out in sizes:
        parts.append(rng.normal(0.0, np.sqrt(2.0 / fan_in), (fan_in, fan_out)).astype(np.float32))
        parts.append(np.zeros(fan_out, dtype=np.float32))
    return SetNet(*parts)


def train_setnet(
    observations: np.ndarray, labels: np.ndarray, actions: int, *, seed: int, config: TrainingConfig
) -> SetNet:
    """Train on raw observations ``(n, vehicles * 5)``; returns the folded float32 network."""
    rng = np.random.default_rng(seed)
    rows = np.asarray(observations, dtype=np.float32).reshape(len(observations), -1, FEATURES)
    others, ego = rows[:, 1:, :], rows[:, 0, EGO_FEATURES]
    row_mean, row_scale = _standardise(others.reshape(-1, FEATURES))
    ego_mean, ego_scale = _standardise(ego)
    others = (others - row_mean) / row_scale
    ego = (ego - ego_mean) / ego_scale
    net = _init(rng, config, ego.shape[1], actions)
    moments = (_zeros_like(net), _zeros_like(net))
    y = np.asarray(labels, dtype=np.int64)
    step = 0
    for _epoch in range(config.epochs):
        order = rng.permutation(len(y))
        for start in range(0, len(y), config.batch_size):
            batch = order[start : start + config.batch_size]
            grads = _gradients(net, others[batch], ego[batch], y[batch])
            step += 1
            net = _adam(net, grads, moments, step, config)
    return net.folded(row_mean, row_scale, ego_mean, ego_scale)


def _zeros_like(net: SetNet) -> dict[str, np.ndarray]:
    return {name: np.zeros_like(value) for name, value in vars(net).items()}


def _adam(
    net: SetNet,
    grads: SetNet,
    moments: tuple[dict[str, np.ndarray], dict[str, np.ndarray]],
    step: int,
    config: TrainingConfig,
) -> SetNet:
    first, second = moments
    beta1, beta2 = 0.9, 0.999
    updated: dict[str, np.ndarray] = {}
    for name, value in vars(net).items():
        grad = getattr(grads, name)
        if value.ndim == 2:
            grad = grad + config.weight_decay * value
        first[name] = beta1 * first[name] + (1 - beta1) * grad
        second[name] = beta2 * second[name] + (1 - beta2) * grad * grad
        corrected = first[name] / (1 - beta1**step)
        spread = np.sqrt(second[name] / (1 - beta2**step)) + 1e-8
        updated[name] = (value - config.learning_rate * corrected / spread).astype(np.float32)
    return SetNet(**updated)


def accuracy(net: SetNet, observations: np.ndarray, labels: np.ndarray) -> float:
    """Share of ``labels`` the network's argmax reproduces."""
    if len(labels) == 0:
        return 0.0
    return float(np.mean(net.probabilities(observations).argmax(axis=1) == labels))
