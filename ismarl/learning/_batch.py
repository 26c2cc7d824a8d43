"""Apply a single-instance function over any leading batch axes (broadcast, flatten, vmap)."""

from __future__ import annotations

import jax
import jax.numpy as jnp


def over_batch(fn, *arrays):
    """``fn(*single_instances)`` for arrays whose trailing axis is the 5 logits; leading axes are
    broadcast against each other, flattened, vmapped over, and restored on every output leaf."""
    arrays = [jnp.asarray(a) for a in arrays]
    lead = jnp.broadcast_shapes(*(a.shape[:-1] for a in arrays))
    if lead == ():
        return fn(*arrays)
    flat = [jnp.broadcast_to(a, lead + a.shape[-1:]).reshape((-1,) + a.shape[-1:]) for a in arrays]
    out = jax.vmap(fn)(*flat)
    return jax.tree_util.tree_map(lambda o: o.reshape(lead + o.shape[1:]), out)
