import time, jax, jax.numpy as jnp, numpy as np, optax
from ismarl.agents import world_model as wm
from ismarl.sim.simulate import play
from ismarl.strategies import sample_uniform
from ismarl.games import ipd
k1,k2,k3=jax.random.split(jax.random.PRNGKey(0),3)
n=2048
a,r=play(sample_uniform(k1,(n,)),sample_uniform(k2,(n,)),ipd(),100,n,k3); tok=wm.episode_tokens(a,r)
for h,b in [(32,256),(32,1024),(32,2048),(64,256),(64,1024),(128,256),(128,1024)]:
    cfg=wm.WorldModelConfig(hidden=h); p=cfg.init(jax.random.PRNGKey(0)); opt=wm.make_optimizer(3e-3); st=opt.init(p)
    step=wm.fit_step(cfg,opt); bt=jax.tree_util.tree_map(lambda x:x[:b],tok)
    p,st,_=step(p,st,bt); jax.block_until_ready(p)
    t=time.time(); k=5 if b<=256 else 3
    for _ in range(k): p,st,_=step(p,st,bt)
    jax.block_until_ready(p); dt=(time.time()-t)/k
    print(h,b,round(dt,3),"s/step", round(dt/b*1000,3),"ms/episode",flush=True)
t=time.time(); cfg=wm.WorldModelConfig(hidden=64); p=cfg.init(jax.random.PRNGKey(0)); g=wm.inference_gap(cfg,p,tok); print("eval 2048 h64", time.time()-t)
