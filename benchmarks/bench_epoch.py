"""Whole training epochs on the CPU (issue 23): images/s of a quick-scale A-CE2P epoch and a HIPN epoch, data to optimiser
step, validation counted apart; each candidate beside today's path in one run.

The data is the quick scale's: the synthetic benchmark written once into a temporary folder (`--n` training images of 64 px
per layout, `--n // 8` validation images; the quick scale has 800 and 100). Each configuration is a fastai learner built
as the reproduction builds it (A-CE2P-R18 with the quick scale's head widths, `pretrained='synth'`, Lovász at the logits,
AdamW, CPU bf16 where the CPU has it, batch 16; HIPN `hipn_small`-like: small HRNet, C = 16, 3 stages, PPP layout, HIPN's
augmentation), and every round fits each configuration for one epoch, in turn (interleaved rounds, medians), so that load
from other processes hits them alike. A callback splits each epoch into: data (the time between batches), forward, loss,
backward, optimiser step, the rest of the batch, and the validation.

Configurations (A-CE2P; HIPN has `today`, `torch_opt` and `fast`):
* `today`: the path before issue 23: per-item OpenCV augmentation in the main process, fastai's optimiser, validation
  every epoch;
* `torch_opt`: the same update with PyTorch's fused AdamW kernel (`hparse.recipe.torch_opt`);
* `batch_aug`: the batched affine augmentation (`BatchAffine`) on the CPU instead of the per-item warp;
* `workers1`: per-item augmentation in one DataLoader worker process;
* `channels_last`: the model in channels-last memory format;
* `fast`: what the quick scale now does by default (`Scale.learner_kw`, with `Scale.fast`).
End to end, validation is added as the configuration schedules it (`today` every epoch, `fast` every `Scale.valid_every`
epochs and after the last, amortised over the quick scale's epochs).

Also measured: the fixed-batch training step's FLOPs (`torch.utils.flop_counter.FlopCounterMode`) and achieved FLOP/s,
against the matmul rate of this machine (large `torch.mm` in bf16 and in float32); the step under forced bf16 autocast with
and without channels-last; `torch.compile` (inductor) of model and loss, in a child process with a time limit, its compile
time counted; SCHP's callbacks (online refinement's teacher forward per step, a cycle end) and a checkpoint save.
Results go to results/bench/epoch_<name>.json. Usage: python benchmarks/bench_epoch.py [--name NAME] [--rounds 3] [--quick]"""
import argparse, json, math, os, statistics, subprocess, sys, tempfile, time
from pathlib import Path
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_cpu import run_facts, ROOT  # machine facts, shared with the other CPU benchmarks
from fastai.callback.core import Callback
from fastai.callback.channelslast import ChannelsLast

PHASES = ('data', 'forward', 'loss', 'backward', 'step', 'rest')

class Phases(Callback):
    "Seconds of each phase of the training batches of one epoch, and of its validation."
    order = -100
    def before_epoch(self):
        self.t = dict.fromkeys((*PHASES, 'train', 'valid', 'train_cpu'), 0.); self.t_ep = self.last = time.perf_counter(); self.c_ep = time.process_time()
    def _lap(self, k):
        now = time.perf_counter()
        if self.training: self.t[k] += now - self.t0
        self.t0 = now
    def before_batch(self):
        self.t0 = time.perf_counter()
        if self.training: self.t['data'] += self.t0 - self.last
    def after_pred(self): self._lap('forward')
    def after_loss(self): self._lap('loss')
    def after_backward(self): self._lap('backward')
    def after_step(self): self._lap('step')
    def after_batch(self): self._lap('rest'); self.last = time.perf_counter()
    def before_validate(self): self.tv = time.perf_counter(); self.t['train'] = self.tv - self.t_ep; self.t['train_cpu'] = time.process_time() - self.c_ep
    def after_validate(self): self.t['valid'] = time.perf_counter() - self.tv

# ---------------------------------------------------------------- learners
def quick():
    from hparse.repro.core import SCALES
    return SCALES['quick']

def ace2p(root, cfg:dict, path):
    "The quick scale's A-CE2P learner in configuration `cfg`."
    from hparse.train import ace2p_learner
    from hparse.losses import ACE2PLoss
    from hparse.recipe import make_opt
    q = quick()
    kw = q.learner_kw if cfg.get('scale') else dict(pretrained=q.pretrained, opt_func=make_opt(q.opt), cpu_bf16=q.cpu_bf16, fast=cfg.get('fast', False))
    kw.pop('valid_every', None)  # every epoch validates here; the schedule is applied to the figures
    kw = {**kw, **{k: cfg[k] for k in ('batch_aug', 'num_workers') if k in cfg}}
    torch.manual_seed(0)
    learn = ace2p_learner(root, 'lip', q.backbone, 'psp', size=q.size, bs=q.bs, labels='train_segmentations_mix', path=path,
                          loss_func=ACE2PLoss(lovasz_at=q.lovasz_at), model_kwargs=dict(nf_context=q.nf_context, nf=q.head_nf), **kw)
    if cfg.get('channels_last'): learn.add_cb(ChannelsLast())
    return learn

def hipn(root, cfg:dict, path):
    "The quick scale's HIPN learner (primary stage of `run_hybrid`) in configuration `cfg`."
    from hparse.hybrid import hybrid_learner, hybrid_dls
    from hparse.models.hipn import HIPN
    from hparse.labels import get_taxonomy
    from hparse.recipe import make_opt
    from hparse.repro.hipn import HIPN_SETTINGS
    q, tax = quick(), get_taxonomy('ppp')
    fast = q.fast_path if cfg.get('scale') else cfg.get('fast', False)
    torch.manual_seed(0)
    dls = hybrid_dls(root, 'ppp', None, size=q.size, bs=q.bs, batch_aug=q.batch_aug_on if cfg.get('scale') else False)
    model = HIPN(tax.n, tax, backbone=q.hipn_backbone, C=q.hipn_C, stages=HIPN_SETTINGS['quick']['stages'], pretrained=q.pretrained)
    return hybrid_learner(dls, model, tax, q.peak_lr('hipn'), path=path, opt_func=make_opt(q.opt), cpu_bf16=q.cpu_bf16, fast=fast)

ACE2P_CONFIGS = dict(today=dict(), torch_opt=dict(fast=True), batch_aug=dict(batch_aug=True), workers1=dict(num_workers=1),
                     channels_last=dict(channels_last=True), fast=dict(scale=True))
HIPN_CONFIGS = dict(today=dict(), torch_opt=dict(fast=True), fast=dict(scale=True))

def epochs(build, root, configs:dict, rounds:int, tmp:Path, lr:float)->dict:
    "Fit each configuration for one epoch per round, in turn; the phases of every epoch."
    learns = {k: build(root, c, tmp / k) for k, c in configs.items()}
    out = {k: [] for k in configs}
    for r in range(rounds):
        for k, learn in learns.items():
            ph = Phases()
            with learn.no_bar(), learn.no_logging(): learn.fit(1, lr, cbs=[ph])
            out[k].append(ph.t)
            print(f'  round {r} {k:14s} train {ph.t["train"]:.1f} s  valid {ph.t["valid"]:.1f} s', flush=True)
    n_train = {k: len(l.dls.train) * l.dls.train.bs for k, l in learns.items()}
    n_valid = {k: len(l.dls.valid.dataset) for k, l in learns.items()}
    return dict(runs=out, n_train=n_train, n_valid=n_valid, learns=learns)

def summarise(res:dict, valid_every:dict, n_epochs:int)->dict:
    "Medians per configuration: images/s of training and of validation, end to end with the validation schedule, ratios to `today`."
    rows = {}
    for k, runs in res['runs'].items():
        med = {p: statistics.median(r[p] for r in runs) for p in runs[0]}
        every = valid_every.get(k, 1)
        n_val_runs = len({e for e in range(n_epochs) if (e + 1) % every == 0} | {n_epochs - 1})  # every k-th epoch, and the last
        e2e = med['train'] + med['valid'] * n_val_runs / n_epochs
        rows[k] = dict(train_s=round(med['train'], 2), valid_s=round(med['valid'], 2), valid_every=every,
                       train_img_s=round(res['n_train'][k] / med['train'], 2), valid_img_s=round(res['n_valid'][k] / med['valid'], 2),
                       e2e_img_s=round(res['n_train'][k] / e2e, 2), train_cpu_s=round(med['train_cpu'], 2), phases_s={p: round(med[p], 2) for p in PHASES},
                       train_all_s=[round(r['train'], 2) for r in runs], valid_all_s=[round(r['valid'], 2) for r in runs])
    for k, r in rows.items():
        r['train_ratio'] = round(r['train_img_s'] / rows['today']['train_img_s'], 3)
        r['e2e_ratio'] = round(r['e2e_img_s'] / rows['today']['e2e_img_s'], 3)
    return rows

# ---------------------------------------------------------------- fixed batch: FLOPs, matmul rate, bf16, channels-last
CLOCK = time.perf_counter  # `--cpu-time`: time.process_time (this process's CPU seconds, for a machine shared with busy neighbours)

def mm_rate(dtype, n:int=1024, reps:int=5)->float:
    "FLOP/s of an n x n x n `torch.mm` in `dtype` (median of `reps`)."
    a, b = torch.randn(n, n).to(dtype), torch.randn(n, n).to(dtype)
    torch.mm(a, b); ts = []
    for _ in range(reps):
        t = CLOCK(); torch.mm(a, b); ts.append(CLOCK() - t)
    return 2 * n ** 3 / statistics.median(ts)

def fixed_batch(learn, rounds:int)->dict:
    "The fixed-batch step of `learn`'s model and loss: FLOPs, seconds (float32 / bf16 autocast, NCHW / channels-last), FLOP/s."
    from torch.utils.flop_counter import FlopCounterMode
    import copy
    x, y = learn.dls.train.one_batch()[:2]
    x, y = x.as_subclass(torch.Tensor), y.as_subclass(torch.Tensor)
    loss_func = learn.loss_func
    def stepper(cl:bool, bf16:bool):
        m = copy.deepcopy(learn.model).train()
        if cl: m = m.to(memory_format=torch.channels_last)
        opt = torch.optim.AdamW([p for p in m.parameters() if p.requires_grad], 1e-4, fused=True)
        xx = x.contiguous(memory_format=torch.channels_last) if cl else x
        def step():
            with torch.autocast('cpu', dtype=torch.bfloat16, enabled=bf16): out = m(xx)
            l = loss_func([o.float() for o in out[:3]], y) if isinstance(out, (tuple, list)) else loss_func(out.float(), y)
            opt.zero_grad(); l.backward(); opt.step()
        return m, step
    m, _ = stepper(False, False)
    with FlopCounterMode(display=False) as fc:
        l = loss_func(list(m(x))[:3], y); l.backward()
    flops = fc.get_total_flops()
    steps = {f'{"bf16" if b else "fp32"}{" channels_last" if c else ""}': stepper(c, b)[1] for b in (False, True) for c in (False, True)}
    for s in steps.values(): s()
    ts = {k: [] for k in steps}
    for _ in range(rounds):
        for k, s in steps.items():
            t = CLOCK(); s(); ts[k].append(CLOCK() - t)
    med = {k: statistics.median(v) for k, v in ts.items()}
    mm = dict(bf16=mm_rate(torch.bfloat16), fp32=mm_rate(torch.float32))
    fp32 = med['fp32']
    return dict(flops=flops, batch=list(x.shape), s_per_step={k: round(v, 4) for k, v in med.items()},
                vs_fp32={k: round(fp32 / v, 3) for k, v in med.items()}, achieved_flop_s=flops / fp32,
                mm_flop_s=mm, fraction_of_bf16_mm=round(flops / fp32 / mm['bf16'], 4),
                fraction_of_best_mm=round(flops / fp32 / max(mm.values()), 4))

# ---------------------------------------------------------------- torch.compile, in a child process
def compile_child(root:str, rounds:int):
    "Print JSON: eager and compiled (inductor) fixed-batch step seconds of the fast A-CE2P learner, and the compile time."
    learn = ace2p(root, dict(scale=True), Path(tempfile.mkdtemp()))
    x, y = learn.dls.train.one_batch()[:2]
    x, y = x.as_subclass(torch.Tensor), y.as_subclass(torch.Tensor)
    import copy
    def stepper(compiled:bool):
        m, lf = copy.deepcopy(learn.model).train(), learn.loss_func
        if compiled: m, lf = torch.compile(m), torch.compile(lf)
        opt = torch.optim.AdamW([p for p in m.parameters() if p.requires_grad], 1e-4, fused=True)
        def step():
            l = lf(list(m(x))[:3], y); opt.zero_grad(); l.backward(); opt.step(); return float(l)
        return step
    eager, comp = stepper(False), stepper(True)
    t = time.perf_counter(); comp(); comp(); warm = time.perf_counter() - t  # compile (forward and backward) + 2 steps
    eager()
    te, tc = [], []
    for _ in range(rounds):
        t = time.perf_counter(); eager(); te.append(time.perf_counter() - t)
        t = time.perf_counter(); comp(); tc.append(time.perf_counter() - t)
    print('RESULT' + json.dumps(dict(warmup_s=warm, eager_s=statistics.median(te), compiled_s=statistics.median(tc))))

def compile_run(root:Path, rounds:int, limit:int)->dict:
    "`compile_child` with a time limit; a failure or a timeout is recorded as such."
    t = time.time()
    try:
        r = subprocess.run([sys.executable, __file__, '--compile-child', str(root), '--rounds', str(rounds)], capture_output=True, text=True, timeout=limit)
    except subprocess.TimeoutExpired: return dict(failed=f'did not compile and time within {limit} s', wall_s=round(time.time() - t, 1))
    line = next((l for l in r.stdout.splitlines() if l.startswith('RESULT')), None)
    if line is None: return dict(failed=(r.stderr or r.stdout)[-1500:], wall_s=round(time.time() - t, 1))
    d = json.loads(line[6:])
    gain = d['eager_s'] - d['compiled_s']
    d.update(speedup=round(d['eager_s'] / d['compiled_s'], 3), break_even_steps=round(d['warmup_s'] / gain) if gain > 0 else None,
             wall_s=round(time.time() - t, 1))
    return d

# ---------------------------------------------------------------- SCHP callbacks and checkpoints
def schp_costs(learn, root:Path, tmp:Path)->dict:
    "Seconds of SCHP's online refinement per step (a teacher forward), of one cycle end, and of one checkpoint save."
    from hparse.schp import SCHPCallback
    from hparse.learner import CheckpointCallback, atomic_save
    from hparse.data import find_items
    cb = SCHPCallback(start=1, cycle_len=1, n_classes=20, clean=find_items(root, 'lip', 'train'))
    learn.add_cb(cb); cb.before_fit()
    x = learn.dls.train.one_batch()[0]
    cb.teacher.eval(); ts = []
    for _ in range(4):
        t = time.perf_counter()
        with torch.no_grad(): cb.teacher(x)
        ts.append(time.perf_counter() - t)
    t = time.perf_counter(); cb.cycle_end(); cycle = time.perf_counter() - t
    learn.remove_cb(cb)
    ck = CheckpointCallback(tmp / 'ck.pth'); learn.add_cb(ck)
    t = time.perf_counter(); atomic_save(ck.state(), tmp / 'ck.pth'); save = time.perf_counter() - t
    learn.remove_cb(ck)
    return dict(online_refinement_s_per_step=round(statistics.median(ts[1:]), 3), cycle_end_s=round(cycle, 2),
                checkpoint_s=round(save, 3), checkpoint_bytes=(tmp / 'ck.pth').stat().st_size)

# ---------------------------------------------------------------- main
def main(name:str, rounds:int, n:int, quick_run:bool, threads:int|None, compile_limit:int, skip:list, configs:list|None=None,
         cpu_time:bool=False, fixed_only:bool=False):
    t0 = time.time()
    if threads: torch.set_num_threads(threads)
    facts = run_facts()
    from hparse.recipe import cpu_has_bf16
    from hparse.synth import make_benchmark
    q = quick()
    if quick_run: n, rounds, compile_limit = 64, 1, min(compile_limit, 60)
    if cpu_time: global CLOCK; CLOCK = time.process_time
    res = dict(name=name, **facts, native_bf16=cpu_has_bf16(), clock='process CPU time' if cpu_time else 'wall', n_train=n, n_valid=max(1, n // 8), rounds=rounds, quick=quick_run,
               scale=dict(backbone=q.backbone, nf_context=q.nf_context, head_nf=q.head_nf, lovasz_at=q.lovasz_at, opt=q.opt,
                          cpu_bf16=q.cpu_bf16, pretrained=q.pretrained, hipn_backbone=q.hipn_backbone, hipn_C=q.hipn_C, size=q.size,
                          bs=q.bs, epochs=q.epochs, hipn_epochs=q.hipn_epochs, fast=q.fast_path, valid_every=q.valid_every,
                          batch_aug=q.batch_aug_on, num_workers=q.workers))
    with tempfile.TemporaryDirectory(prefix='bench-epoch-') as d:
        tmp = Path(d)
        make_benchmark(tmp / 'data', n=n, size=q.size, seed=0, noise=('mix',), n_val=max(1, n // 8), n_ppp=n, n_ppp_val=max(1, n // 8),
                       samples=False, progress=False)
        lip, ppp = tmp / 'data' / 'lip', tmp / 'data' / 'ppp'
        sel = lambda cs: {k: v for k, v in cs.items() if not configs or k in configs or k == 'today'}
        if fixed_only: a = dict(learns=dict(today=ace2p(lip, {}, tmp / 'today'))); skip = [*skip, 'hipn']
        else:
            print('A-CE2P epochs', flush=True)
            a = epochs(ace2p, lip, sel(ACE2P_CONFIGS), rounds, tmp, q.peak_lr('ace2p'))
            res['ace2p'] = summarise(a, dict(fast=q.valid_every), q.epochs)
        if 'fixed' not in skip:
            print('fixed batch', flush=True)
            res['fixed_batch'] = fixed_batch(a['learns']['today'], max(3, rounds))
        if 'schp' not in skip:
            print('SCHP callbacks, checkpoint', flush=True)
            res['schp_costs'] = schp_costs(a['learns']['today'], lip, tmp)
        del a
        if 'hipn' not in skip:
            print('HIPN epochs', flush=True)
            h = epochs(hipn, ppp, sel(HIPN_CONFIGS), rounds, tmp, q.peak_lr('hipn'))
            res['hipn'] = summarise(h, dict(fast=q.valid_every), q.hipn_epochs); del h
        if 'compile' not in skip:
            print('torch.compile', flush=True)
            res['compile'] = compile_run(lip, max(3, rounds), compile_limit)
    res.update(load_after=[round(v, 2) for v in os.getloadavg()], wall_s=round(time.time() - t0, 1))
    out = ROOT / 'results' / 'bench' / f'epoch_{name}.json'
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=1))
    for model in ('ace2p', 'hipn'):
        for k, r in res.get(model, {}).items():
            print(f"{model:6s} {k:14s} train {r['train_img_s']:7.1f} img/s x{r['train_ratio']:.2f}  valid {r['valid_s']:.1f} s  "
                  f"end to end {r['e2e_img_s']:7.1f} img/s x{r['e2e_ratio']:.2f}  {r['phases_s']}")
    if 'fixed_batch' in res:
        fb = res['fixed_batch']
        print(f"fixed batch: {fb['flops'] / 1e9:.1f} GFLOP/step, {fb['s_per_step']}, {fb['achieved_flop_s'] / 1e9:.1f} GFLOP/s = "
              f"{fb['fraction_of_bf16_mm']:.3f} of bf16 mm ({fb['mm_flop_s']['bf16'] / 1e9:.1f} GFLOP/s), {fb['fraction_of_best_mm']:.3f} of the best mm")
    print('SCHP/ckpt:', res.get('schp_costs'), '\ncompile:', res.get('compile'))
    print('wrote', out, f'({res["wall_s"]:.0f} s)')

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--name', default='epyc2'); ap.add_argument('--rounds', type=int, default=3)
    ap.add_argument('--n', type=int, default=800, help='training images per layout (the quick scale: 800)')
    ap.add_argument('--quick', action='store_true', help='a tiny rehearsal: 64 images, one round')
    ap.add_argument('--threads', type=int, default=None, help='torch threads (default: torch\'s)')
    ap.add_argument('--compile-limit', type=int, default=240, help='seconds for torch.compile and its timing')
    ap.add_argument('--skip', nargs='*', default=[], choices=['fixed', 'schp', 'hipn', 'compile'])
    ap.add_argument('--configs', nargs='*', default=None, help='only these configurations (and today\'s)')
    ap.add_argument('--cpu-time', action='store_true', help='fixed batch and matmul timed in CPU seconds of this process (a machine shared with busy neighbours; with --threads 1)')
    ap.add_argument('--fixed-only', action='store_true', help='only the fixed-batch step (FLOP/s, bf16, channels-last), SCHP costs and compile: no epochs')
    ap.add_argument('--compile-child', default=None, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.compile_child: compile_child(a.compile_child, a.rounds)
    else: main(a.name, a.rounds, a.n, a.quick, a.threads, a.compile_limit, a.skip, a.configs, a.cpu_time, a.fixed_only)
