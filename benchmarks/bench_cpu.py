"""CPU performance of hparse (issue 7): inference backends, fastai Learner overhead, data pipeline throughput.

1. Inference, A-CE2P-R101 at 473x473, batch 1: eager PyTorch (float32, then channels-last, then bf16 autocast),
   ONNX Runtime (`hparse.models.export_onnx` + `onnx_session`) and `torch.compile` (in a child process with a time
   limit, so that a compilation that takes too long is recorded as such instead of stalling the run).
   The backends are timed in rounds (one call of each per round, `--runs` rounds after `--warmup`), so that load from
   other processes hits them alike; torch.compile is timed the same way beside its own eager run in the child.
   Medians; images/s, ratio to eager, max |output - eager output|.
2. fastai overhead: A-CE2P-R18 at 128 px on fixed random batches, `Learner.fit` (papers_sgd, default callbacks,
   progress bar off) against a plain loop with torch.optim.SGD(momentum 0.9, weight decay 5e-4); the two are timed
   alternately, `--repeats` times each, and the medians compared.
3. Data pipeline: per-item training augmentation (`ParsingDataset(train=True)`: read, check, cv2 warp) and the batched
   `BatchAffine` on the CPU, in images/s, against the training step's consumption rate from 2.
Results (with CPU model, cores, threads, versions, git commit, date, load averages) go to results/bench/cpu_<name>.json.
Usage: python benchmarks/bench_cpu.py [--name NAME] [--runs 5] [--warmup 1] [--skip compile ...]"""
import argparse, copy, json, os, platform, statistics, subprocess, sys, tempfile, time, datetime
from pathlib import Path
import torch

ROOT = Path(__file__).resolve().parents[1]
K = 20  # LIP classes

# ---------------------------------------------------------------- facts about the run
def cpu_model()->str:
    "The CPU's model name, from /proc/cpuinfo (or `platform`)."
    try:
        for l in Path('/proc/cpuinfo').read_text().splitlines():
            if l.startswith('model name'): return l.split(':', 1)[1].strip()
    except OSError: pass
    return platform.processor() or platform.machine()

def git_commit()->str:
    "HEAD of the checkout (with '+dirty' when the working tree has changes)."
    try:
        c = subprocess.check_output(['git', 'rev-parse', 'HEAD'], cwd=ROOT, text=True).strip()
        dirty = subprocess.run(['git', 'diff', '--quiet', 'HEAD'], cwd=ROOT).returncode != 0
        return c + ('+dirty' if dirty else '')
    except (OSError, subprocess.CalledProcessError): return 'unknown'

def cpu_flags()->set:
    "The CPU's instruction-set flags (empty where /proc/cpuinfo is missing)."
    try: return {f for l in Path('/proc/cpuinfo').read_text().splitlines() if l.startswith('flags') for f in l.split(':', 1)[1].split()}
    except OSError: return set()

def run_facts()->dict:
    "Hardware, software and load of this run."
    try: import onnxruntime as ort; ort_v = ort.__version__
    except ImportError: ort_v = None
    import fastai
    isa = sorted(f for f in cpu_flags() if f in ('avx2', 'avx512f', 'avx512_bf16', 'amx_bf16', 'amx_tile'))
    return dict(cpu=cpu_model(), cores=os.cpu_count(), isa=isa, torch_threads=torch.get_num_threads(), torch=torch.__version__,
                onnxruntime=ort_v, fastai=fastai.__version__, python=platform.python_version(), commit=git_commit(),
                date=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'),
                load_before=[round(x, 2) for x in os.getloadavg()])

# ---------------------------------------------------------------- timing
def median_time(f, # a function of no arguments
                runs:int=5, # timed calls
                warmup:int=2, # untimed calls first
               )->tuple: # median seconds per call, last result
    "Median wall time of `f()` after `warmup` calls, and what the last call returned."
    for _ in range(warmup): f()
    ts = []
    for _ in range(runs):
        t0 = time.perf_counter(); out = f(); ts.append(time.perf_counter() - t0)
    return statistics.median(ts), out

def top_ops(f, n:int=12)->list:
    "The `n` operators with the most self CPU time during one call of `f` (torch.profiler)."
    from torch.profiler import profile, ProfilerActivity
    with profile(activities=[ProfilerActivity.CPU]) as prof: f()
    ev = sorted(prof.key_averages(), key=lambda e: -e.self_cpu_time_total)
    tot = sum(e.self_cpu_time_total for e in ev) or 1
    return [dict(op=e.key, calls=e.count, self_ms=round(e.self_cpu_time_total / 1e3, 1),
                 pct=round(100 * e.self_cpu_time_total / tot, 1)) for e in ev[:n]]

# ---------------------------------------------------------------- 1. inference
def ace2p(backbone:str='resnet101', seed:int=0):
    "A randomly initialised A-CE2P (no pretrained weights offline), in eval mode."
    from hparse.models import ACE2P
    torch.manual_seed(seed)
    return ACE2P(K, backbone=backbone, pretrained=False).eval()

def eager_fn(model, x, channels_last=False, bf16=False):
    "A no-argument call of `model` on `x` returning the float32 fusion logits."
    if channels_last: model, x = copy.deepcopy(model).to(memory_format=torch.channels_last), x.contiguous(memory_format=torch.channels_last)
    def f():
        with torch.inference_mode(), torch.autocast('cpu', dtype=torch.bfloat16, enabled=bf16): return model(x)[0].float()
    return f

def onnx_fn(model, x, folder:Path):
    "Export `model` to ONNX and return (call, export seconds)."
    from hparse.models.export import export_onnx, onnx_session
    t0 = time.perf_counter()
    path = export_onnx(model, folder / 'ace2p_r101.onnx', size=tuple(x.shape[-2:]))
    t_export = time.perf_counter() - t0
    sess, xn = onnx_session(path), x.numpy()
    return (lambda: torch.from_numpy(sess.run(None, {'image': xn})[0])), t_export

def interleaved(fns:dict, # name -> function of no arguments
                runs:int=5, warmup:int=1,
               )->dict: # name -> (median seconds, last output)
    "Time several functions in rounds (one call of each per round), so that a change of machine load hits them all."
    for _ in range(warmup):
        for f in fns.values(): f()
    ts, outs = {k: [] for k in fns}, {}
    for _ in range(runs):
        for k, f in fns.items():
            t0 = time.perf_counter(); outs[k] = f(); ts[k].append(time.perf_counter() - t0)
    return {k: (statistics.median(ts[k]), outs[k], ts[k]) for k in fns}

def entries(fns:dict, runs, warmup, ref_name:str='eager fp32', extra:dict|None=None)->list:
    "Time `fns` interleaved; per backend: s/img, img/s, ratio to `ref_name`, max |output - reference output|."
    t = interleaved(fns, runs, warmup)
    e, ref = t[ref_name][0], t[ref_name][1]
    return [dict(backend=k, s_per_img=round(s, 4), img_per_s=round(1 / s, 3), vs_eager=round(e / s, 3),
                 max_abs_diff=float((out - ref).abs().max()), ref_max_abs=float(ref.abs().max()),
                 all_s=[round(x, 3) for x in ts], **(extra or {}).get(k, {})) for k, (s, out, ts) in t.items()]

def compile_child(size:int, runs:int, warmup:int)->dict:
    "Run in a child process: compile A-CE2P-R101 with inductor, time it interleaved with eager, compare outputs."
    model, x = ace2p(), torch.randn(1, 3, size, size, generator=torch.Generator().manual_seed(1))
    cm = torch.compile(model)
    def f():
        with torch.inference_mode(): return cm(x)[0].float()
    t0 = time.perf_counter(); f(); t_compile = time.perf_counter() - t0
    name = 'torch.compile (inductor)'
    res = entries({'eager fp32': eager_fn(model, x), name: f}, runs, warmup, extra={name: dict(compile_s=round(t_compile, 1))})
    c = res[1]; c['own_eager_s_per_img'] = res[0]['s_per_img']  # the ratio is to the eager run beside it, in the child
    return c

def bench_compile(size, runs, warmup, limit_s)->dict:
    "torch.compile in a child process, stopped after `limit_s` seconds (recorded as a failure with its time)."
    cmd = [sys.executable, __file__, '--compile-child', '--size', str(size), '--runs', str(runs), '--warmup', str(warmup)]
    t0 = time.perf_counter()
    try: p = subprocess.run(cmd, capture_output=True, text=True, timeout=limit_s)
    except subprocess.TimeoutExpired:
        return dict(backend='torch.compile (inductor)', failed=f'did not finish compiling + timing within {limit_s} s')
    if p.returncode != 0:
        return dict(backend='torch.compile (inductor)', failed=p.stderr.strip().splitlines()[-1][:300] if p.stderr.strip() else f'exit {p.returncode}',
                    wall_s=round(time.perf_counter() - t0, 1))
    return json.loads(p.stdout.strip().splitlines()[-1])

def bench_inference(size:int=473, runs:int=5, warmup:int=1, skip=(), compile_limit:int=240)->dict:
    "Eager (float32, channels-last, bf16) and ONNX Runtime, interleaved, then torch.compile beside its own eager run."
    model, x = ace2p(), torch.randn(1, 3, size, size, generator=torch.Generator().manual_seed(1))
    fns = {'eager fp32': eager_fn(model, x), 'eager channels_last': eager_fn(model, x, channels_last=True)}
    if 'bf16' not in skip: fns['eager bf16 autocast'] = eager_fn(model, x, bf16=True)
    extra = {}
    with tempfile.TemporaryDirectory() as d:
        if 'onnx' not in skip:
            fns['onnxruntime'], t_export = onnx_fn(model, x, Path(d))
            extra['onnxruntime'] = dict(export_s=round(t_export, 1))
        res = entries(fns, runs, warmup, extra=extra)
    if 'compile' not in skip: res.append(bench_compile(size, runs, warmup, compile_limit))
    return dict(model='A-CE2P resnet101 PSP, K=20, random weights', size=size, batch=1, runs=runs, warmup=warmup,
                results=res, profile_eager=top_ops(fns['eager fp32']))

# ---------------------------------------------------------------- 2. fastai Learner overhead
def random_batches(n:int, bs:int, size:int, seed:int=0)->list:
    "`n` fixed (image, label) batches: normalised-looking images, labels with blobs of K classes and some 255."
    g = torch.Generator().manual_seed(seed)
    xs = torch.randn(n * bs, 3, size, size, generator=g)
    ys = torch.randint(0, K, (n * bs, 1, size // 16, size // 16), generator=g).float()
    ys = torch.nn.functional.interpolate(ys, size=(size, size), mode='nearest')[:, 0].long()
    ys[:, :2] = 255
    return [(xs[i*bs:(i+1)*bs], ys[i*bs:(i+1)*bs]) for i in range(n)]

def fastai_dls(batches):
    "fastai DataLoaders that serve `batches` as they are (one epoch = all of them; an empty validation set)."
    from fastai.data.load import DataLoader
    from fastai.data.core import DataLoaders
    from fastai.torch_core import TensorImage, TensorMask
    items = [(TensorImage(x), TensorMask(y)) for x, y in batches]
    mk = lambda its: DataLoader(its, bs=None, shuffle=False, device='cpu', create_batch=lambda b: b)
    return DataLoaders(mk(items), mk([]), device='cpu')

def plain_epoch(model, opt, loss_func, batches):
    "One epoch of the plain PyTorch loop."
    model.train()
    for x, y in batches:
        loss = loss_func(model(x), y)
        opt.zero_grad(); loss.backward(); opt.step()

def bench_learner(steps:int=12, bs:int=8, size:int=128, repeats:int=3, lr:float=7e-3)->dict:
    "Seconds per training step through `Learner.fit` and through a plain loop, same model, data, optimiser settings."
    from fastai.learner import Learner
    from hparse.recipe import papers_sgd
    from hparse.losses import ACE2PLoss
    batches, loss_func = random_batches(steps, bs, size), ACE2PLoss()
    m_fa, m_pl = ace2p('resnet18'), ace2p('resnet18')
    learn = Learner(fastai_dls(batches), m_fa, loss_func=loss_func, opt_func=papers_sgd(), wd_bn_bias=True, lr=lr)
    opt = torch.optim.SGD(m_pl.parameters(), lr=lr, momentum=0.9, weight_decay=5e-4)
    fa = lambda: learn.fit(1, lr)
    pl = lambda: plain_epoch(m_pl, opt, loss_func, batches)
    with learn.no_bar(), learn.no_logging():
        fa(); pl()  # warm-up
        t_fa, t_pl = [], []
        for _ in range(repeats):  # alternate, so that load changes hit both
            for f, ts in ((fa, t_fa), (pl, t_pl)):
                t0 = time.perf_counter(); f(); ts.append((time.perf_counter() - t0) / steps)
        prof = top_ops(fa)
    fa_s, pl_s = statistics.median(t_fa), statistics.median(t_pl)
    return dict(model='A-CE2P resnet18 PSP, K=20', size=size, bs=bs, steps=steps, repeats=repeats,
                fastai_s_per_step=round(fa_s, 4), plain_s_per_step=round(pl_s, 4),
                fastai_all=[round(t, 4) for t in t_fa], plain_all=[round(t, 4) for t in t_pl],
                overhead_pct=round(100 * (fa_s / pl_s - 1), 2), consumption_img_per_s=round(bs / pl_s, 2),
                profile_fastai=prof)

# ---------------------------------------------------------------- 3. data pipeline
def synth_items(folder:Path, n:int, image_size:int):
    "A small synthetic LIP-layout training split (hparse.synth) to read from."
    from hparse.synth import make_benchmark
    from hparse.data import find_items
    make_benchmark(folder, n=n, size=image_size, noise=(), n_val=1, n_ppp=1, n_ppp_val=1, workers=1, samples=False, progress=False)
    return find_items(folder / 'lip', 'lip', 'train')

def bench_data(size:int=128, n:int=48, image_size:int=256, bs:int=8, runs:int=5)->dict:
    "Images/s of the per-item training augmentation and of BatchAffine on CPU batches."
    from hparse.data import ParsingDataset, BatchAffine
    from fastai.torch_core import TensorImage, TensorMask
    with tempfile.TemporaryDirectory() as d:
        items = synth_items(Path(d), n, image_size)
        res = {}
        for sz in sorted({size, 473}):
            ds = ParsingDataset(items, (sz, sz), train=True, generator=torch.Generator().manual_seed(0))
            s = median_time(lambda: [ds[i] for i in range(len(ds))], runs=3, warmup=1)[0]
            res[f'per_item_{sz}_img_per_s'] = round(len(ds) / s, 1)
        ds = ParsingDataset(items, (size, size), train=False)
        x = TensorImage(torch.stack([ds[i][0] for i in range(bs)]).float() / 255)
        y = TensorMask(torch.stack([ds[i][1] for i in range(bs)]).long())
        ba = BatchAffine('LIP')
        s = median_time(lambda: ba((x, y), split_idx=0), runs=runs, warmup=1)[0]
        res[f'batch_affine_{size}_img_per_s'] = round(bs / s, 1)
    return dict(source_images=f'{n} synthetic {image_size}x{image_size} JPEG/PNG pairs', size=size, bs=bs, **res)

# ---------------------------------------------------------------- main
def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--name', default=platform.node() or 'cpu', help='results/bench/cpu_<name>.json (default: host name)')
    p.add_argument('--size', type=int, default=473, help='inference input side (default 473)')
    p.add_argument('--runs', type=int, default=5, help='timed runs per backend (default 5)')
    p.add_argument('--warmup', type=int, default=1, help='untimed rounds first (default 1)')
    p.add_argument('--steps', type=int, default=12, help='training steps per timed epoch (default 12)')
    p.add_argument('--repeats', type=int, default=3, help='timed epochs per loop (default 3)')
    p.add_argument('--compile-limit', type=int, default=240, help='seconds allowed for torch.compile + timing (default 240)')
    p.add_argument('--skip', nargs='*', default=[], choices=['inference', 'learner', 'data', 'onnx', 'compile', 'bf16'])
    p.add_argument('--out', default=str(ROOT / 'results' / 'bench'), help='output folder')
    p.add_argument('--compile-child', action='store_true', help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.compile_child: print(json.dumps(compile_child(a.size, a.runs, a.warmup))); return
    res, t0 = dict(name=a.name, **run_facts()), time.time()
    def stage(key, f):
        t = time.time(); print(f'{key}...', flush=True); res[key] = f(); res[key].update(wall_s=round(time.time() - t, 1), load_after=[round(x, 2) for x in os.getloadavg()])
        print(json.dumps(res[key], indent=1)[:3000], flush=True)
    if 'inference' not in a.skip: stage('inference', lambda: bench_inference(a.size, a.runs, a.warmup, a.skip, a.compile_limit))
    if 'learner' not in a.skip: stage('learner', lambda: bench_learner(a.steps, repeats=a.repeats))
    if 'data' not in a.skip:
        stage('data', bench_data)
        if 'learner' in res: res['data']['consumption_img_per_s'] = res['learner']['consumption_img_per_s']
    res.update(load_after=[round(x, 2) for x in os.getloadavg()], wall_s=round(time.time() - t0, 1))
    out = Path(a.out) / f'cpu_{a.name}.json'; out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix('.tmp'); tmp.write_text(json.dumps(res, indent=1) + '\n'); tmp.replace(out)
    print(f'wrote {out}')

if __name__ == '__main__': main()
