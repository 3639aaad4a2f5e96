"The `hparse` command line as a user runs it: a real subprocess, real files."
import json, shutil, subprocess, sys
from pathlib import Path
import numpy as np
import pytest

def hparse(*args, cwd=None):
    "Run the installed console script (falling back to `python -m hparse.cli`)."
    exe = shutil.which('hparse')
    cmd = [exe, *map(str, args)] if exe else [sys.executable, '-c', 'import sys; from hparse.cli import main; sys.exit(main())', *map(str, args)]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, timeout=600)

def test_help_lists_subcommands():
    r = hparse('--help')
    assert r.returncode == 0
    for name in ('synth', 'check-data'): assert name in r.stdout

@pytest.mark.parametrize('cmd', ['synth', 'check-data'])
def test_subcommand_help(cmd):
    r = hparse(cmd, '--help')
    assert r.returncode == 0 and 'usage: hparse ' + cmd in r.stdout

def test_bad_flag_is_one_line_not_a_traceback():
    r = hparse('check-data', '.', '--format', 'coco')
    assert r.returncode == 2 and 'Traceback' not in r.stderr and "invalid choice: 'coco'" in r.stderr

def test_missing_folder_is_one_line():
    r = hparse('check-data', '/no/such/dataset')
    assert r.returncode == 2 and r.stderr.strip().splitlines() == ['hparse check-data: error: /no/such/dataset: no such folder']

@pytest.fixture(scope='module')
def synth_root(tmp_path_factory):
    out = tmp_path_factory.mktemp('synth')
    r = hparse('synth', out, '--n', 8, '--size', 64, '--seed', 3, '--workers', 1)
    assert r.returncode == 0, r.stderr
    return out

def test_synth_writes_layout_summary_and_figure(synth_root):
    s = json.loads((synth_root / 'summary.json').read_text())
    ids = (synth_root / 'lip' / 'train_id.txt').read_text().split()
    assert len(ids) == 8
    for i in ids:
        assert (synth_root / 'lip' / 'train_images' / f'{i}.jpg').exists()
        assert (synth_root / 'lip' / 'train_segmentations' / f'{i}.png').exists()
    assert (synth_root / 'samples.png').stat().st_size > 1000
    assert (synth_root / 'ppp' / 'train_id.txt').exists()
    assert isinstance(s, dict) and s

def test_check_data_passes_on_the_synthetic_benchmark(synth_root):
    for fmt, sub in (('lip', 'lip'), ('ppp', 'ppp')):
        for split in ('train', 'val'):
            r = hparse('check-data', synth_root / sub, '--format', fmt, '--split', split)
            assert r.returncode == 0, r.stdout + r.stderr
            assert ': OK' in r.stdout

def test_check_data_real_lip_sample(shared):
    for split in ('train', 'val'):
        r = hparse('check-data', shared / 'samples' / 'LIP', '--format', 'lip', '--split', split)
        assert r.returncode == 0, r.stdout + r.stderr

def test_check_data_lists_every_problem_by_file(synth_root, tmp_path):
    root = tmp_path / 'lip'
    shutil.copytree(synth_root / 'lip', root)
    ids = (root / 'train_id.txt').read_text().split()
    (root / 'train_images' / f'{ids[0]}.jpg').unlink()                           # listed but missing
    lbl = root / 'train_segmentations' / f'{ids[1]}.png'
    import cv2
    a = cv2.imread(str(lbl), cv2.IMREAD_UNCHANGED); a[0, 0] = 37; cv2.imwrite(str(lbl), a)   # value out of range
    jpg = root / 'train_images' / f'{ids[2]}.jpg'
    jpg.write_bytes(jpg.read_bytes()[:len(jpg.read_bytes()) // 3])             # truncated JPEG
    r = hparse('check-data', root, '--format', 'lip')
    assert r.returncode == 1
    out = r.stdout
    assert f'{ids[0]}.jpg' in out and f'{ids[1]}.png' in out and '37' in out and f'{ids[2]}.jpg' in out, out
    assert '3 problem' in out, out

TRAIN = ['--labels', 'train_segmentations_mix', '--backbone', 'resnet18', '--size', 64, '--bs', 4, '--epochs', 3,
         '--schp-start', 1, '--cycle-len', 1, '--lr', 0.01, '--seed', 1]

@pytest.fixture(scope='module')
def trained(synth_root, tmp_path_factory):
    out = tmp_path_factory.mktemp('run') / 'ref'
    r = hparse('train', synth_root / 'lip', '--out', out, '--clean', 'train_segmentations', *TRAIN)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    return out

def test_train_writes_model_logs_result(trained):
    res = json.loads((trained / 'result.json').read_text())
    assert [c['cycle'] for c in res['schp']] == [0, 1, 2]
    assert all('label_miou' in c for c in res['schp'])          # the SCHP label-quality record against the clean truth
    assert 0 <= res['final']['mIoU'] <= 1 and res['hardware']
    log = json.loads((trained / 'log.json').read_text())
    assert len(log) == 3
    assert res['final']['mIoU'] > log[0]['mIoU']               # A-CE2P + SCHP improves on its first epoch
    assert (trained / 'log.csv').read_text().splitlines()[0].startswith('epoch,')

def test_kill_and_resume_equals_uninterrupted(synth_root, trained, tmp_path):
    "SIGKILL a training process after its first checkpoint; `--resume` must end with the uninterrupted run's weights."
    import signal, time, torch
    out = tmp_path / 'killed'
    exe = shutil.which('hparse')
    p = subprocess.Popen([exe, 'train', str(synth_root / 'lip'), '--out', str(out), '--clean', 'train_segmentations', *map(str, TRAIN)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t0 = time.time()
    while not (out / 'checkpoint.pth').exists() and p.poll() is None and time.time() - t0 < 300: time.sleep(0.2)
    p.send_signal(signal.SIGKILL); p.wait()
    assert (out / 'checkpoint.pth').exists() and not (out / 'model.pth').exists()   # killed mid-run
    r = hparse('train', synth_root / 'lip', '--out', out, '--clean', 'train_segmentations', '--resume', *TRAIN)
    assert r.returncode == 0, r.stderr[-2000:]
    a = torch.load(trained / 'model.pth', weights_only=True)['model']
    b = torch.load(out / 'model.pth', weights_only=True)['model']
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert json.loads((out / 'log.json').read_text()) == json.loads((trained / 'log.json').read_text())

def test_eval_and_parse_with_the_trained_model(synth_root, trained, tmp_path):
    r = hparse('eval', synth_root / 'lip', '--weights', trained / 'model.pth', '--json', tmp_path / 's.json')
    assert r.returncode == 0, r.stderr[-2000:]
    s = json.loads((tmp_path / 's.json').read_text())['scores']
    assert 0 <= s['miou'] <= 1 and 'miou=' in r.stdout
    r = hparse('parse', synth_root / 'lip' / 'val_images', '--weights', trained / 'model.pth', '--out', tmp_path / 'p', '--overlay')
    assert r.returncode == 0, r.stderr[-2000:]
    from PIL import Image
    pngs = sorted((tmp_path / 'p').glob('*.png'))
    ids = (synth_root / 'lip' / 'val_id.txt').read_text().split()
    assert len([q for q in pngs if not q.stem.endswith('_overlay')]) == len(ids)
    im = Image.open(tmp_path / 'p' / f'{ids[0]}.png'); assert im.mode == 'P' and im.size == (64, 64)

def test_wrong_class_count_is_one_line(synth_root, trained):
    r = hparse('eval', synth_root / 'ppp', '--format', 'ppp', '--weights', trained / 'model.pth')
    assert r.returncode == 2 and 'Traceback' not in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert 'class' in r.stderr

def test_missing_weights_is_one_line(synth_root):
    r = hparse('parse', synth_root / 'lip' / 'val_images', '--weights', '/no/model.pth', '--out', '/tmp/x')
    assert r.returncode == 2 and r.stderr.strip() == 'hparse parse: error: /no/model.pth: no such weights file'

def test_hipn_train_then_pseudo_label(synth_root, tmp_path):
    "HIPN through the command line: train, pseudo-label the unlabeled half, score the noise identification; a rerun reuses."
    run = tmp_path / 'hipn'
    r = hparse('train', synth_root / 'ppp', '--model', 'hipn', '--variant', 'hipn_small', '--stages', 1, '--channels', 8,
               '--size', 64, '--bs', 4, '--epochs', 1, '--lr', 0.01, '--out', run)
    assert r.returncode == 0, r.stderr[-2000:]
    pl = tmp_path / 'pl'
    args = ['pseudo-label', synth_root / 'ppp', '--weights', run / 'model.pth', '--out', pl, '--frac', 0.5, '--size', 64, '--bs', 4]
    r = hparse(*args)
    assert r.returncode == 0, r.stderr[-2000:]
    s = json.loads((pl / 'summary.json').read_text())
    n = len((synth_root / 'ppp' / 'train_id.txt').read_text().split())
    assert s['n_images'] == n - round(n / 2) and s['n_predicted'] == s['n_images']
    assert {'certainty', 'consistency', 'both', 'nlnl'} <= set(s['noise_identification'])
    assert len(list((pl / 'labels').glob('*.png'))) == s['n_images']
    r = hparse(*args)
    assert r.returncode == 0 and json.loads((pl / 'summary.json').read_text())['n_predicted'] == 0   # reused, not redone

TINY = ['n=4', 'n_val=2', 'n_ppp=4', 'n_ppp_val=2', 'size=32', 'bs=4', 'epochs=2', 'cycles=1', 'hipn_epochs=1', "name='tiny'"]

def test_reproduce_writes_results_tables_figures_and_resumes(tmp_path):
    "`hparse reproduce` at a tiny scale: result JSON with provenance, Markdown/CSV tables beside the paper's, PNG figures; a rerun reads them back."
    args = ['reproduce', '--out', tmp_path / 'results', '--work', tmp_path / 'runs', '--only', 'schp_ppp', 'hipn_certainty', '--quiet', '--set', *TINY]
    r = hparse(*args)
    assert r.returncode == 0, r.stderr[-3000:]
    out = tmp_path / 'results' / 'tiny'
    res = json.loads((out / 'schp_ppp.json').read_text())
    p = res['provenance']
    assert p['scale']['n_ppp'] == 4 and p['wall_s'] > 0 and 'CPU' in p['hardware'] and p['data']['ppp']['kind'] == 'synthetic benchmark'
    t2 = (out / 'tables' / 'schp_table2.md').read_text()
    assert 'paper' in t2 and 'synthetic' in t2 and '70.63' in t2          # the paper's A-CE2P w/ SCHP mIoU beside ours
    assert (out / 'tables' / 'schp_table2.csv').exists()
    assert any((out / 'figures').glob('*.png'))
    r2 = hparse(*args)                                                       # finished experiments are read, not rerun
    assert r2.returncode == 0 and json.loads((out / 'schp_ppp.json').read_text())['provenance'] == p

def test_reproduce_user_errors_are_one_line(tmp_path):
    for args, msg in ((['--only', 'nope'], 'unknown experiment'), (['--set', 'bogus=1'], 'KEY one of'),
                      (['--root', tmp_path / 'missing'], 'no such folder'), (['--scale', 'huge'], 'unknown scale')):
        r = hparse('reproduce', '--out', tmp_path / 'r', '--work', tmp_path / 'w', *args)
        assert r.returncode == 2 and 'Traceback' not in r.stderr and msg in r.stderr, (args, r.stderr)

def test_reproduce_on_a_real_lip_layout(tmp_path, shared):
    "`--root` points the LIP experiments at a real dataset: copies of the real LIP sample pair, in LIP's official archive layout."
    src = shared / 'samples' / 'LIP'
    if not src.is_dir(): pytest.skip('../shared/samples/LIP is not there')
    root = tmp_path / 'LIP'; shutil.copytree(src, root)
    img, lbl = root / 'TrainVal_images' / 'train_images', root / 'TrainVal_parsing_annotations' / 'train_segmentations'
    (i0,) = (root / 'TrainVal_images' / 'train_id.txt').read_text().split()
    for k in range(4):  # four training items (a batch of one cannot train batch norm)
        shutil.copy(img / f'{i0}.jpg', img / f'{i0}_{k}.jpg'); shutil.copy(lbl / f'{i0}.png', lbl / f'{i0}_{k}.png')
    (root / 'TrainVal_images' / 'train_id.txt').write_text(''.join(f'{i0}_{k}\n' for k in range(4)))
    r = hparse('reproduce', '--root', root, '--out', tmp_path / 'results', '--work', tmp_path / 'runs', '--quiet',
               '--only', 'schp_self_correction', 'schp_noise', '--set', *TINY)
    assert r.returncode == 0, r.stderr[-3000:]
    out = tmp_path / 'results' / 'tiny'
    res = json.loads((out / 'schp_self_correction.json').read_text())
    assert res['provenance']['data']['lip'] == dict(kind='real', root=str(root))
    assert 'skipped' in json.loads((out / 'schp_noise.json').read_text())   # no clean truth of noisy labels in real data
    t1 = (out / 'tables' / 'schp_table1.md').read_text()
    assert f'LIP at {root}' in t1 and 'synthetic' not in t1
