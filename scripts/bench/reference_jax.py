"""The JAX reference: the same VAE and recipe as reference_torch.py, with the whole training step
(forward, gradient, Adam) compiled by jax.jit.

    python reference_jax.py epoch [--seed S] [--epochs E]

Prints one JSON line with the seconds of each epoch. Compilation happens before the clock starts
(ahead of time, for the full batch of 128 and the last batch of 96). Threads: XLA's CPU backend
uses every core; this script is only run with two.
"""
import argparse
import json
import os
import resource
import time

import jax
import jax.numpy as jnp
import numpy as np

import mnist

SIZES = [("fc1", 784, 400), ("fc21", 400, 20), ("fc22", 400, 20), ("fc3", 20, 400), ("fc4", 400, 784)]


def init(key):
    """nn.Linear's default: weight and bias U(±1/√fan_in)."""
    params = {}
    for name, fan_in, fan_out in SIZES:
        key, wk, bk = jax.random.split(key, 3)
        bound = 1 / np.sqrt(fan_in)
        params[name] = (jax.random.uniform(wk, (fan_out, fan_in), jnp.float32, -bound, bound),
                        jax.random.uniform(bk, (fan_out,), jnp.float32, -bound, bound))
    return params


def linear(p, x):
    return x @ p[0].T + p[1]


def loss_fn(params, x, key):
    h1 = jax.nn.relu(linear(params["fc1"], x))
    mu, logvar = linear(params["fc21"], h1), linear(params["fc22"], h1)
    z = mu + jnp.exp(0.5 * logvar) * jax.random.normal(key, mu.shape)
    logits = linear(params["fc4"], jax.nn.relu(linear(params["fc3"], z)))
    # Binary cross-entropy from logits: softplus(l) − x·l, summed (the example's reduction='sum').
    bce = jnp.sum(jax.nn.softplus(logits) - x * logits)
    kld = -0.5 * jnp.sum(1 + logvar - mu ** 2 - jnp.exp(logvar))
    return bce + kld


def adam_step(params, grads, m, v, t, lr=1e-3, b1=0.9, b2=0.999, eps=1e-8):
    m = jax.tree_util.tree_map(lambda m, g: b1 * m + (1 - b1) * g, m, grads)
    v = jax.tree_util.tree_map(lambda v, g: b2 * v + (1 - b2) * g * g, v, grads)
    step = lr / (1 - b1 ** t)
    root = jnp.sqrt(1 - b2 ** t)
    params = jax.tree_util.tree_map(lambda p, m, v: p - step * m / (jnp.sqrt(v) / root + eps), params, m, v)
    return params, m, v


def train_step(params, m, v, t, data, indices, key):
    x = data[indices]
    loss, grads = jax.value_and_grad(loss_fn)(params, x, key)
    params, m, v = adam_step(params, grads, m, v, t)
    return params, m, v, loss


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["epoch"])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=1)
    args = parser.parse_args()

    train, _ = mnist.load()
    data = jax.device_put(train)
    key = jax.random.PRNGKey(args.seed)
    key, init_key = jax.random.split(key)
    params = init(init_key)
    m = jax.tree_util.tree_map(jnp.zeros_like, params)
    v = jax.tree_util.tree_map(jnp.zeros_like, params)
    batch, count = 128, train.shape[0]
    t = jnp.float32(1)
    compiled = {}
    for size in {batch, count % batch or batch}:
        indices = jnp.zeros((size,), jnp.int32)
        compiled[size] = jax.jit(train_step, donate_argnums=(0, 1, 2)).lower(params, m, v, t, data, indices, key).compile()

    rng = np.random.default_rng(args.seed)
    seconds, losses = [], []
    step = 0
    for _ in range(args.epochs):
        order = rng.permutation(count).astype(np.int32)
        start = time.perf_counter()
        total = 0.0
        for begin in range(0, count, batch):
            indices = order[begin:begin + batch]
            key, step_key = jax.random.split(key)
            step += 1
            params, m, v, loss = compiled[len(indices)](params, m, v, jnp.float32(step), data, indices, step_key)
            total += loss  # stays on the device; read once at the end
        total = float(total)
        seconds.append(time.perf_counter() - start)
        losses.append(total / count)
    print(json.dumps({"mode": args.mode, "cores": os.cpu_count(), "jax": jax.__version__,
                      "seconds": seconds, "train_loss": losses,
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


if __name__ == "__main__":
    main()
