"DDP with two CPU processes (gloo): the SCHP callback gives the same aggregated model on every rank."
import json, os, subprocess, sys
from pathlib import Path
import torch

HERE = Path(__file__).parent

def test_schp_under_ddp_two_processes(tmp_path):
    env = {**os.environ, 'OMP_NUM_THREADS': '1', 'MPLBACKEND': 'Agg'}
    r = subprocess.run([sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node', '2', '--master_port', '29517',
                        str(HERE / 'ddp_schp_script.py'), str(tmp_path)], capture_output=True, text=True, env=env, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    r0, r1 = (torch.load(tmp_path / f'rank{i}.pt', weights_only=False) for i in (0, 1))
    assert r0['world'] == r1['world'] == 2
    for k in r0['final']: assert torch.equal(r0['final'][k], r1['final'][k]), k   # the same aggregated model on both ranks
    assert len(r0['ends']) == 4                                                     # initial stage + 3 cycles
    for k, v in r0['final'].items():                                                # Eq. 6: the mean of the cycle-end weights
        if 'running' in k or 'num_batches' in k: continue
        assert torch.allclose(v, torch.stack([e[k] for e in r0['ends']]).mean(0), atol=1e-6), k
    assert r0['records'] == r1['records'] and len(r0['records']) == 4

def test_hybrid_retraining_under_ddp_two_processes(tmp_path):
    "HIPN's hybrid retraining (positive learning on clean pixels, negative learning on noisy ones) under DDP: one model on both ranks."
    from hparse.synth import make_benchmark
    from hparse.data import find_items, split_labeled
    from hparse.hybrid import pseudo_label
    from hparse.models.hipn import HIPN
    make_benchmark(tmp_path / 'synth', n=8, size=64, n_val=2, n_ppp=8, n_ppp_val=2, workers=1, samples=False, progress=False)
    root = tmp_path / 'synth' / 'ppp'
    tr = find_items(root, 'ppp', 'train')
    torch.manual_seed(0)
    model = HIPN(tr.tax.n, tr.tax, backbone='hrnet_small', stages=1, C=8)
    pl = pseudo_label(model.eval(), tr.subset(split_labeled(tr.ids, 1/2, 0)[1]), tmp_path / 'pl', 64, 4, device='cpu', progress=False)
    out = tmp_path / 'run'; out.mkdir()
    torch.save(model.state_dict(), out / 'init.pth')
    env = {**os.environ, 'OMP_NUM_THREADS': '1', 'MPLBACKEND': 'Agg'}
    r = subprocess.run([sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node', '2', '--master_port', '29518',
                        str(HERE / 'ddp_hybrid_script.py'), str(root), str(pl.root), str(out)], capture_output=True, text=True, env=env, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    r0, r1 = (torch.load(out / f'rank{i}.pt', weights_only=False) for i in (0, 1))
    assert r0['world'] == r1['world'] == 2
    assert r0['n_items'] == 8                                       # 4 labeled + 4 pseudo-labeled images
    assert r0['n_batches'] == r1['n_batches'] == 2 * 2              # 2 epochs x (8 items / 2 ranks / bs 2): each rank its shard
    assert r0['n_noisy'] + r1['n_noisy'] > 0                        # noisy masks reached the loss
    init = torch.load(out / 'init.pth', weights_only=True)
    for k in r0['final']: assert torch.equal(r0['final'][k], r1['final'][k]), k   # one model on both ranks
    assert any(not torch.equal(r0['final'][k], init[k]) for k in init)            # and it trained

def test_hparse_train_under_torchrun(tmp_path):
    "`torchrun --nproc_per_node 2 hparse train ...`: A-CE2P (edge targets in the batches) with SCHP under DDP, one model written."
    from hparse.synth import make_benchmark
    from hparse.inference import load_parser
    make_benchmark(tmp_path / 'synth', n=8, size=64, n_val=2, n_ppp=2, n_ppp_val=1, workers=1, samples=False, progress=False)
    env = {**os.environ, 'OMP_NUM_THREADS': '1', 'MPLBACKEND': 'Agg'}
    out = tmp_path / 'run'
    r = subprocess.run([sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node', '2', '--master_port', '29519', '--no-python',
                        str(Path(sys.executable).parent / 'hparse'), 'train', str(tmp_path / 'synth' / 'lip'), '--backbone', 'resnet18',
                        '--size', '64', '--bs', '2', '--epochs', '3', '--schp-start', '1', '--cycle-len', '1',
                        '--labels', 'train_segmentations_mix', '--clean', 'train_segmentations', '--out', str(out), '--device', 'cpu'],
                       capture_output=True, text=True, env=env, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    res = json.loads((out / 'result.json').read_text())
    assert res['world_size'] == 2 and res['n_train'] == 8
    assert [c['cycle'] for c in res['schp']] == [0, 1, 2] and all('label_miou' in c for c in res['schp'])
    assert len((out / 'log.csv').read_text().strip().splitlines()) == 1 + 3
    assert load_parser(out / 'model.pth').tax.n == 20
