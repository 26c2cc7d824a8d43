"""World-model fitting study: in-context co-player inference on D0 vs CPU wall time.

Usage (from the repository root): JAX_PLATFORMS=cpu PYTHONPATH=. python results/ppi_fit/study.py --batch 256 --lr 3e-3 --hidden 64 ...
Prints one JSON line per evaluation; wall time counts only training (data gen/eval excluded).
"""
import argparse, json, time, os
from flax import serialization
import jax, jax.numpy as jnp, numpy as np, optax

from ismarl.agents import world_model as wm
from ismarl.sim.simulate import play
from ismarl.strategies import sample_uniform, named
from ismarl.games import ipd
from ismarl.inference import coplayer_predictions, log_loss

ap = argparse.ArgumentParser()
ap.add_argument("--batch", type=int, default=256)
ap.add_argument("--lr", type=float, default=3e-3)
ap.add_argument("--hidden", type=int, default=64)
ap.add_argument("--embed", type=int, default=32)
ap.add_argument("--n_train", type=int, default=20000)
ap.add_argument("--steps", type=int, default=100000)
ap.add_argument("--seconds", type=float, default=120.0, help="training wall-time budget")
ap.add_argument("--eval_every", type=int, default=100)
ap.add_argument("--schedule", default="const", choices=["const", "cosine"])
ap.add_argument("--warmup", type=int, default=50)
ap.add_argument("--reward_w", type=float, default=1.0)
ap.add_argument("--action_w", type=float, default=1.0)
ap.add_argument("--seed", type=int, default=0)
ap.add_argument("--data_seed", type=int, default=1)
ap.add_argument("--init", default="", help="msgpack file of params to warm start from (--save of an earlier run)")
ap.add_argument("--save", default="")
ap.add_argument("--n_eval", type=int, default=2000)
ap.add_argument("--train_eval", type=int, default=2000, help="# train episodes for train gap")
ap.add_argument("--tag", default="")
args = ap.parse_args()

T = 100
G = ipd()


def d0(n, key):
    k1, k2, k3 = jax.random.split(key, 3)
    p, q = sample_uniform(k1, (n,)), sample_uniform(k2, (n,))
    a, r = play(p, q, G, T, n, k3)
    return wm.episode_tokens(a, r)


train = d0(args.n_train, jax.random.PRNGKey(1000 + args.data_seed))
held = d0(args.n_eval, jax.random.PRNGKey(999999))
tr_eval = jax.tree_util.tree_map(lambda x: x[: args.train_eval], train)
kp = jax.random.PRNGKey(777777)
k1, k2 = jax.random.split(kp)
a_tft, r_tft = play(sample_uniform(k1, (500,)), named("tft"), G, T, 500, k2)
tft = wm.episode_tokens(a_tft, r_tft)
# TFT's true P(C) in round t = 1 iff the learner cooperated in round t-1
true_tft = jnp.concatenate([jnp.ones((500, 1)), 1.0 - a_tft[:, :-1, 0]], axis=1)

cfg = wm.WorldModelConfig(hidden=args.hidden, embed=args.embed)
params = cfg.init(jax.random.PRNGKey(args.seed))
if args.init:
    with open(args.init, "rb") as f:
        params = serialization.from_bytes(params, f.read())

if args.schedule == "const":
    sched = args.lr
else:
    sched = optax.warmup_cosine_decay_schedule(0.0, args.lr, args.warmup, max(args.steps, args.warmup + 1), args.lr * 0.05)
opt = optax.chain(optax.clip_by_global_norm(1.0), optax.adamw(sched, b1=0.9, b2=0.98, weight_decay=1e-2))
opt_state = opt.init(params)


def lossfn(q, tok):
    pred = wm._outputs(cfg, q, tok)
    obs_ce = optax.softmax_cross_entropy_with_integer_labels(pred.obs_logits, tok.obs).mean()
    rse = jnp.square(tok.rewards - pred.reward_mean).mean()
    ace = optax.softmax_cross_entropy_with_integer_labels(pred.action_logits, tok.actions).mean()
    return obs_ce + args.reward_w * rse + args.action_w * ace, (obs_ce, rse, ace)


@jax.jit
def step(params, opt_state, tok, idx):
    b = jax.tree_util.tree_map(lambda x: x[idx], tok)
    grads, parts = jax.grad(lossfn, has_aux=True)(params, b)
    upd, opt_state = opt.update(grads, opt_state, params)
    return optax.apply_updates(params, upd), opt_state, parts


def evaluate(params):
    out = {"gap": wm.inference_gap(cfg, params, held), "train_gap": wm.inference_gap(cfg, params, tr_eval)}
    pc = wm.coplayer_cooperation(cfg, params, tft)[:, 19:]
    tt = true_tft[:, 19:]
    out["tft_p1"] = float(pc[tt == 1].mean())
    out["tft_p0"] = float(pc[tt == 0].mean())
    out["tft_gap"] = wm.inference_gap(cfg, params, tft)
    # absolute model loss on held-out co-player moves
    acts = wm.token_actions(held)
    out["model_nll"] = float(log_loss(wm.coplayer_cooperation(cfg, params, held), acts).mean())
    return out


rng = np.random.default_rng(args.seed)
n = args.n_train
perm, pos = rng.permutation(n), 0
train_time, s = 0.0, 0
print(json.dumps({"tag": args.tag, "args": vars(args), "bayes_nll": float(log_loss(coplayer_predictions(wm.token_actions(held)), wm.token_actions(held)).mean())}), flush=True)
first = True
while s < args.steps and train_time < args.seconds:
    t0 = time.time()
    for _ in range(args.eval_every):
        if pos + args.batch > n:
            perm, pos = rng.permutation(n), 0
        idx = jnp.asarray(perm[pos:pos + args.batch]); pos += args.batch
        params, opt_state, parts = step(params, opt_state, train, idx)
        s += 1
        if first:
            jax.block_until_ready(params); first = False
            compile_t = time.time() - t0; t0 = time.time()
        if s >= args.steps:
            break
    jax.block_until_ready(params)
    train_time += time.time() - t0
    ev = evaluate(params)
    ev.update(step=s, t=round(train_time, 1), sps=round(train_time / s, 4), epochs=round(s * args.batch / n, 2),
              obs_ce=float(parts[0]), rse=float(parts[1]), ace=float(parts[2]), compile=round(compile_t, 1))
    print(json.dumps({k: (round(v, 4) if isinstance(v, float) else v) for k, v in ev.items()}), flush=True)
if args.save:
    with open(args.save, "wb") as f:
        f.write(serialization.to_bytes(params))
