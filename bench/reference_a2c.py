"""A minimal, single-file A2C for the benchmark's baseline: the same model and task as the engine's
Step 1 (an embedding of the five observations, a GRU, policy and value heads; T = 100 rounds of
the paper's IPD against fresh U(0, 1)^5 memory-1 agents), written the plain way: one jitted
function per iteration that plays the episodes with ``lax.scan``, re-runs the GRU over them for
the loss (advantages: discounted return minus value, standardized), and takes one Adam step.

It imports nothing from ``ismarl``: it is the yardstick the engine's speed is compared with in
the same run (``bench/bench_a2c.py``), not a second implementation of the book's algorithm.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optax

ROUNDS = 100
# own reward for (own action, other action), 0 = C: R, S, T, P of the paper's IPD
PAYOFF = jnp.array([[1.0, -1.0], [2.0, 0.0]])


def init(key, hidden: int, embed: int):
    k = jax.random.split(key, 5)
    s = lambda fan_in: 1.0 / jnp.sqrt(fan_in)  # noqa: E731
    return {"embed": jax.random.normal(k[0], (5, embed)) * s(5),
            "wx": jax.random.normal(k[1], (embed, 3 * hidden)) * s(embed), "bx": jnp.zeros(3 * hidden),
            "wh": jax.random.normal(k[2], (hidden, 3 * hidden)) * s(hidden),
            "wp": jax.random.normal(k[3], (hidden, 2)) * s(hidden), "wv": jax.random.normal(k[4], (hidden, 1)) * s(hidden)}


def cell(p, obs, h):
    gx = p["embed"][obs] @ p["wx"] + p["bx"]
    gh = h @ p["wh"]
    xr, xu, xn = jnp.split(gx, 3, -1)
    hr, hu, hn = jnp.split(gh, 3, -1)
    r, u = jax.nn.sigmoid(xr + hr), jax.nn.sigmoid(xu + hu)
    return (1 - u) * jnp.tanh(xn + r * hn) + u * h


def make_iteration(hidden: int, batch: int, lr: float = 1e-3):
    opt = optax.adam(lr)

    def play(p, key):
        kq, kp = jax.random.split(key)
        q = jax.random.uniform(kq, (batch, 5))  # co-players: P(C) at start, CC, CD, DC, DD (their view)
        keys = jax.random.split(kp, ROUNDS)

        def step(carry, k):
            h, obs = carry
            h = cell(p, obs, h)
            ka, kb = jax.random.split(k)
            a = jax.random.categorical(ka, h @ p["wp"])  # 0 = C
            their_state = jnp.where(obs == 0, 0, jnp.where(obs == 2, 3, jnp.where(obs == 3, 2, obs)))
            b = (jax.random.uniform(kb, (batch,)) > q[jnp.arange(batch), their_state]).astype(jnp.int32)
            new_obs = 1 + 2 * a + b  # CC, CD, DC, DD seen by the learner
            return (h, new_obs), (obs, a, PAYOFF[a, b])

        h0 = jnp.zeros((batch, hidden))
        _, (obs, acts, rews) = jax.lax.scan(step, (h0, jnp.zeros(batch, jnp.int32)), keys)
        return obs, acts, rews

    def loss(p, obs, acts, rews):
        def step(h, o):
            h = cell(p, o, h)
            return h, h

        _, hs = jax.lax.scan(step, jnp.zeros((batch, hidden)), obs)
        logp = jax.nn.log_softmax(hs @ p["wp"])
        v = (hs @ p["wv"])[..., 0]
        ret = jax.lax.scan(lambda g, r: (r + 0.99 * g,) * 2, jnp.zeros(batch), rews * 0.2, reverse=True)[1]
        adv = jax.lax.stop_gradient(ret - v)
        adv = (adv - adv.mean()) / (adv.std() + 1e-8)
        lp = jnp.take_along_axis(logp, acts[..., None], -1)[..., 0]
        ent = -(jnp.exp(logp) * logp).sum(-1).mean()
        return -(lp * adv).mean() + 0.5 * ((ret - v) ** 2).mean() - 0.01 * ent

    @jax.jit
    def iteration(p, opt_state, key):
        obs, acts, rews = play(p, key)
        grads = jax.grad(loss)(p, obs, acts, rews)
        updates, opt_state = opt.update(grads, opt_state)
        return optax.apply_updates(p, updates), opt_state

    return opt, iteration
