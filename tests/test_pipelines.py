"End to end on the synthetic benchmark: HIPN primary -> pseudo labels -> hybrid retraining (HIPN Sec. 3.3)."
import json
import pytest
from hparse.synth import make_benchmark
from hparse.hybrid import run_hybrid

@pytest.fixture(scope='module')
def ppp(tmp_path_factory):
    root = tmp_path_factory.mktemp('bench')
    make_benchmark(root, n=16, size=64, seed=5, noise=(), n_ppp=8, n_ppp_val=3, workers=1, samples=False, progress=False)
    return root / 'ppp'

def test_hybrid_pipeline_improves_on_its_first_epoch(ppp, tmp_path):
    r = run_hybrid(ppp, fmt='ppp', frac=0.5, arm='hl', method='both', epochs=(6, 4), size=64, backbone='hrnet_small', C=8,
                   stages=1, bs=4, lr=0.05, out=tmp_path / 'run', seed=0, progress=False)
    first = r['primary']['history'][0]['mIoU']
    assert r['retrain']['mIoU'] > first, (first, r['retrain']['mIoU'])
    assert r['n_labeled'] == 4 and r['n_unlabeled'] == 4 and r['pseudo']['n_predicted'] == 4
    assert set(r['noise_identification']) >= {'certainty', 'consistency', 'both', 'nlnl'}
    assert json.loads((tmp_path / 'run' / 'result_hl_both.json').read_text())['retrain']['mIoU'] == r['retrain']['mIoU']
