"""CPU training step of A-CE2P at the quick scale's size (issue 11): what makes it faster, side by side in one run.

Every configuration trains the same A-CE2P on the same batch (16 synthetic LIP-layout images of 64 px, one SGD step
with momentum per call) and is timed in rounds, one call of each configuration per round, so that load from other
processes hits them alike; medians over `--rounds`. The configurations:

* `old`: the loss as it was before this benchmark's changes (commit becc4e8): Lovász-softmax with the sort inside
  autograd, at the label size.
* `exact`: `ACE2PLoss()` today: the Lovász gradient taken at the sorted ranks without autograd (same value, same
  gradient), at the label size: the paper's loss.
* `lovasz_logits`: `ACE2PLoss(lovasz_at='logits')`: the Lovász term on the stride-4 logits (not the paper's loss).
* `bf16`: `lovasz_logits` with the forward under CPU bf16 autocast (only where the CPU has bf16 instructions).
* `quick`: the quick scale's own configuration (backbone, head widths, loss) from `hparse.repro.core.SCALES['quick']`.

For each: seconds per step, ratio to `old`, and the loss value on the same weights against `old`'s (relative difference).
Results go to results/bench/train_step_<name>.json. Usage: python benchmarks/bench_cpu_step.py [--name NAME] [--rounds 7]"""
import argparse, json, os, statistics, sys, tempfile, time
from pathlib import Path
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_cpu import run_facts, cpu_flags, ROOT  # machine facts, shared with the other CPU benchmark
from hparse.models import ACE2P
from hparse.losses import ACE2PLoss, lovasz_grad
from hparse.labels import IGNORE

def lovasz_autograd(probs, target, ignore=IGNORE):
    "Lovász-softmax as commit becc4e8 computed it: the sort and the gather inside autograd."
    C = probs.shape[1]; keep = target.reshape(-1) != ignore
    p = probs.movedim(1, -1).reshape(-1, C)[keep].T
    fg = F.one_hot(target.reshape(-1)[keep].long(), C).T.to(p.dtype)
    err, order = (fg - p).abs().sort(-1, descending=True)
    loss = (err * lovasz_grad(fg.gather(-1, order))).sum(-1)
    sel = fg.sum(-1) > 0
    return loss[sel].mean() if sel.any() else probs.sum() * 0

class OldLoss(ACE2PLoss):
    "ACE2PLoss with commit becc4e8's Lovász path."
    def parsing_term(self, logits, target, soft=None):
        from hparse.losses import parsing_ce
        up = F.interpolate(logits, size=target.shape[-2:], mode='bilinear', align_corners=False)
        return parsing_ce(logits, target, self.ignore) + lovasz_autograd(up.softmax(1), target, self.ignore)

def batch(size=64, bs=16):
    "A batch of the synthetic benchmark's LIP layout, ImageNet-normalised."
    from hparse.synth import render_example
    ex = [render_example(123, i, size, 'lip', 'train') for i in range(bs)]
    x = torch.stack([torch.from_numpy(e['image']).permute(2, 0, 1).float() / 255 for e in ex])
    m, s = torch.tensor([0.485, 0.456, 0.406])[:, None, None], torch.tensor([0.229, 0.224, 0.225])[:, None, None]
    return (x - m) / s, torch.stack([torch.from_numpy(e['lip']).long() for e in ex])

def config(name, state):
    "(model, loss, autocast dtype or None) of configuration `name`; every model starts from the same weights `state`."
    from hparse.repro.core import SCALES
    q = SCALES['quick']
    if name == 'quick':
        m = ACE2P(20, q.backbone, nf_context=q.nf_context, nf=q.head_nf); torch.manual_seed(0)
        return m, ACE2PLoss(lovasz_at=q.lovasz_at), None
    m = ACE2P(20, 'resnet18'); m.load_state_dict(state)
    loss = dict(old=OldLoss(), exact=ACE2PLoss(), lovasz_logits=ACE2PLoss(lovasz_at='logits'), bf16=ACE2PLoss(lovasz_at='logits'))[name]
    return m, loss, torch.bfloat16 if name == 'bf16' else None

def stepper(model, loss_func, dtype, x, y):
    "One SGD step of `model` on (x, y) per call; returns the loss."
    opt = torch.optim.SGD(model.parameters(), lr=1e-4, momentum=0.9, weight_decay=5e-4)
    model.train()
    def step():
        with torch.autocast('cpu', dtype=dtype, enabled=dtype is not None):
            out = model(x)
        l = loss_func([o.float() for o in out], y); opt.zero_grad(); l.backward(); opt.step()
        return float(l)
    return step

def first_loss(model, loss_func, dtype, x, y):
    "The loss of `model` on (x, y) in train mode without a step (dropout off: eval-mode BN would differ)."
    model.train()
    torch.manual_seed(0)
    with torch.no_grad(), torch.autocast('cpu', dtype=dtype, enabled=dtype is not None):
        out = model(x)
    return float(loss_func([o.float() for o in out], y))

def main(name:str, rounds:int, warmup:int):
    t0 = time.time()
    facts = run_facts()
    has_bf16 = bool({'avx512_bf16', 'amx_bf16'} & cpu_flags())
    names = ['old', 'exact', 'lovasz_logits', *(['bf16'] if has_bf16 else []), 'quick']
    torch.manual_seed(0); state = ACE2P(20, 'resnet18').state_dict()
    x, y = batch()
    cfgs = {n: config(n, state) for n in names}
    losses = {n: first_loss(*cfgs[n], x, y) for n in names}
    steps = {n: stepper(*cfgs[n], x, y) for n in names}
    for _ in range(warmup):
        for n in names: steps[n]()
    times = {n: [] for n in names}
    for _ in range(rounds):
        for n in names:
            t = time.perf_counter(); steps[n](); times[n].append(time.perf_counter() - t)
    med = {n: statistics.median(v) for n, v in times.items()}
    rows = {n: dict(s_per_step=round(med[n], 4), img_per_s=round(16 / med[n], 1), speedup_vs_old=round(med['old'] / med[n], 3),
                    loss=round(losses[n], 5), loss_rel_diff_vs_old=round(abs(losses[n] / losses['old'] - 1), 6),
                    times=[round(t, 4) for t in times[n]]) for n in names}
    from hparse.repro.core import SCALES
    q = SCALES['quick']
    res = dict(name=name, **facts, batch=dict(images=16, size=64, classes=20), rounds=rounds, warmup=warmup,
               quick=dict(backbone=q.backbone, nf_context=q.nf_context, head_nf=q.head_nf, lovasz_at=q.lovasz_at),
               configs=rows, load_after=[round(v, 2) for v in os.getloadavg()], wall_s=round(time.time() - t0, 1))
    out = ROOT / 'results' / 'bench' / f'train_step_{name}.json'
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=1))
    for n, r in rows.items(): print(f"{n:14s} {r['s_per_step']:.3f} s/step  x{r['speedup_vs_old']:.2f}  loss {r['loss']:.4f} (rel diff {r['loss_rel_diff_vs_old']:.2e})")
    print('wrote', out)

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--name', default='epyc2'); ap.add_argument('--rounds', type=int, default=7); ap.add_argument('--warmup', type=int, default=2)
    main(**vars(ap.parse_args()))
