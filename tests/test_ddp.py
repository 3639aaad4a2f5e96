"DDP with two CPU processes (gloo): the SCHP callback gives the same aggregated model on every rank."
import os, subprocess, sys
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
