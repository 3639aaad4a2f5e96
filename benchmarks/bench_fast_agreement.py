"""Does the fast path train the same as today's (issue 23)? The quick scale's A-CE2P learner, built today's way
(`fast=False`, validation every epoch) and the fast way (`Scale.learner_kw`), from the same seed:

1. the losses of the first `--steps` training steps on one fixed batch (same weights, same batch): relative difference;
2. short runs (`--epochs` epochs on `--n` synthetic images, constant learning rate) with `--seeds` seeds each: the final
   validation mIoU of each, today's beside the fast path's.

Results go to results/bench/fast_agreement_<name>.json. Usage: python benchmarks/bench_fast_agreement.py [--name NAME]"""
import argparse, json, os, statistics, sys, tempfile, time
from pathlib import Path
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_cpu import run_facts, ROOT
from bench_epoch import ace2p, quick

def batch_losses(root, steps:int)->dict:
    "Loss of each of `steps` optimiser steps on one fixed batch, today's learner and the fast one, from the same weights."
    out = {}
    for k, cfg in (('today', {}), ('fast', dict(scale=True))):
        learn = ace2p(root, cfg, Path(tempfile.mkdtemp()))
        if k == 'today': x, y = [t.as_subclass(torch.Tensor) for t in learn.dls.train.one_batch()[:2]]
        learn.create_opt(); learn.opt.set_hypers(lr=quick().peak_lr('ace2p')); learn.model.train()
        ls = []
        for _ in range(steps):
            l = learn.loss_func(list(learn.model(x)), y); l.backward(); learn.opt.step(); learn.opt.zero_grad(); ls.append(float(l))
        out[k] = ls
    out['rel_diff'] = [abs(a / b - 1) for a, b in zip(out['fast'], out['today'])]
    return out

def short_runs(root, seeds:int, epochs:int)->dict:
    "Final validation mIoU (%) of `epochs`-epoch runs, per seed, today's and the fast path's."
    from fastai.torch_core import set_seed
    out = {'today': [], 'fast': []}
    for s in range(seeds):
        for k, cfg in (('today', {}), ('fast', dict(scale=True))):
            set_seed(s, reproducible=True)
            learn = ace2p(root, cfg, Path(tempfile.mkdtemp()))
            if cfg: learn.add_cb(__import__('hparse.learner', fromlist=['ValidEvery']).ValidEvery(quick().valid_every))
            torch.manual_seed(s)
            with learn.no_bar(), learn.no_logging(): learn.fit(epochs, quick().peak_lr('ace2p'))
            names = learn.recorder.metric_names[1:-1]
            out[k].append(100 * float(learn.recorder.values[-1][names.index('mIoU')]))
            print(f'seed {s} {k}: val mIoU {out[k][-1]:.2f}', flush=True)
    for k in ('today', 'fast'): out[f'{k}_mean'] = statistics.mean(out[k]); out[f'{k}_sd'] = statistics.stdev(out[k]) if seeds > 1 else 0.
    return out

def main(name:str, n:int, seeds:int, epochs:int, steps:int, threads:int|None):
    t0 = time.time()
    if threads: torch.set_num_threads(threads)
    from hparse.synth import make_benchmark
    res = dict(name=name, **run_facts(), n_train=n, n_valid=max(1, n // 4), seeds=seeds, epochs=epochs)
    with tempfile.TemporaryDirectory(prefix='bench-agree-') as d:
        make_benchmark(Path(d), n=n, size=quick().size, seed=0, noise=('mix',), n_val=max(1, n // 4), n_ppp=1, n_ppp_val=1, samples=False, progress=False)
        res['batch'] = batch_losses(Path(d) / 'lip', steps); print('losses', res['batch'], flush=True)
        res['runs'] = short_runs(Path(d) / 'lip', seeds, epochs)
    res.update(load_after=[round(v, 2) for v in os.getloadavg()], wall_s=round(time.time() - t0, 1))
    out = ROOT / 'results' / 'bench' / f'fast_agreement_{name}.json'
    out.write_text(json.dumps(res, indent=1)); print('wrote', out, res['runs'])

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--name', default='epyc2'); ap.add_argument('--n', type=int, default=160)
    ap.add_argument('--seeds', type=int, default=2); ap.add_argument('--epochs', type=int, default=3); ap.add_argument('--steps', type=int, default=3)
    ap.add_argument('--threads', type=int, default=None)
    main(**vars(ap.parse_args()))
