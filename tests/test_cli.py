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
    ov = Image.open(tmp_path / 'p' / f'{ids[0]}_overlay.png')                  # a PNG with the legend of the classes present beside it
    assert ov.format == 'PNG' and ov.width > 64 and ov.height >= 64 and not list((tmp_path / 'p').glob('*.jpg'))

def test_wrong_class_count_is_one_line(synth_root, trained):
    r = hparse('eval', synth_root / 'ppp', '--format', 'ppp', '--weights', trained / 'model.pth')
    assert r.returncode == 2 and 'Traceback' not in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert 'class' in r.stderr

def test_missing_weights_is_one_line(synth_root):
    r = hparse('parse', synth_root / 'lip' / 'val_images', '--weights', '/no/model.pth', '--out', '/tmp/x')
    assert r.returncode == 2 and r.stderr.strip() == 'hparse parse: error: /no/model.pth: no such weights file'

def test_hipn_train_pseudo_label_retrain_eval(synth_root, tmp_path):
    """HIPN's semi-supervised pipeline through the command line: train, pseudo-label the unlabeled half (at the model's size),
    score the noise identification, a rerun reuses; retrain with positive / negative learning (Sec. 3.3); evaluate."""
    run = tmp_path / 'hipn'
    r = hparse('train', synth_root / 'ppp', '--model', 'hipn', '--variant', 'hipn_small', '--stages', 1, '--channels', 8,
               '--size', 64, '--bs', 4, '--epochs', 1, '--lr', 0.01, '--out', run)
    assert r.returncode == 0, r.stderr[-2000:]
    pl = tmp_path / 'pl'
    args = ['pseudo-label', synth_root / 'ppp', '--weights', run / 'model.pth', '--out', pl, '--frac', 0.5, '--bs', 4]
    r = hparse(*args)
    assert r.returncode == 0, r.stderr[-2000:]
    assert 'at 64x64 px (the size stored in the model file)' in r.stdout and 'hparse retrain' in r.stdout, r.stdout
    s = json.loads((pl / 'summary.json').read_text())
    n = len((synth_root / 'ppp' / 'train_id.txt').read_text().split())
    assert s['n_images'] == n - round(n / 2) and s['n_predicted'] == s['n_images'] and s['size'] == [64, 64]
    assert {'certainty', 'consistency', 'both', 'nlnl'} <= set(s['noise_identification'])
    assert len(list((pl / 'labels').glob('*.png'))) == s['n_images']
    r = hparse(*args)
    assert r.returncode == 0 and json.loads((pl / 'summary.json').read_text())['n_predicted'] == 0   # reused, not redone
    hl = tmp_path / 'hl'
    r = hparse('retrain', pl, '--out', hl, '--epochs', 1, '--bs', 4, '--lr', 0.01)
    assert r.returncode == 0, r.stderr[-2000:]
    res = json.loads((hl / 'result.json').read_text())
    assert res['hybrid']['method'] == 'both' and res['hybrid']['n_pseudo'] == s['n_images'] and res['size'] == 64
    assert res['start']['file'] == str((run / 'model.pth').resolve()) and len(res['start']['sha256']) == 64
    assert 'HL, both' in r.stdout and '%' in r.stdout.splitlines()[-2] and not (hl / 'checkpoint.pth').exists(), r.stdout
    r = hparse('eval', synth_root / 'ppp', '--format', 'ppp', '--weights', hl / 'model.pth')
    assert r.returncode == 0 and 'input 64x64 px' in r.stdout, r.stderr[-2000:]
    one_line_error(hparse('retrain', pl, '--out', hl, '--epochs', 1), '--out', 'holds a finished run', '--force')
    one_line_error(hparse('retrain', tmp_path, '--out', tmp_path / 'x'), 'no summary.json', 'hparse pseudo-label')
    one_line_error(hparse('retrain', pl, '--out', tmp_path / 'x', '--method', 'bogus'), '--method', 'bogus')

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

# --- Mistakes at the edges (issue 14): exit status 2, one line on stderr naming the argument or file, no traceback ---

def one_line_error(r, *words):
    "Assert that `r` failed as a user error: status 2, one line on stderr holding `words`, no traceback; return the line."
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and len(lines) == 1 and 'Traceback' not in r.stdout + r.stderr, (r.returncode, r.stderr[-3000:])
    for w in words: assert str(w) in lines[0], (w, lines[0])
    assert '\x1b' not in lines[0] and 'weights_only' not in lines[0], lines[0]
    return lines[0]

class _RunsCode:
    "Pickles as a call of os.system: a weights file that would run code when read without weights_only."
    def __init__(self, marker): self.marker = marker
    def __reduce__(self):
        import os
        return (os.system, (f'touch {self.marker}',))

@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    "A tiny model file (a one-stage HIPN on a small HRNet, LIP's 20 classes, 32 px) and a folder of three small images."
    import torch
    from PIL import Image
    from hparse.inference import build_model, save_parser
    d = tmp_path_factory.mktemp('tiny')
    arch = dict(name='hipn', num_classes=20, taxonomy='lip', backbone='hrnet_small', stages=1, C=8)
    torch.manual_seed(0)
    save_parser(build_model(arch), d / 'model.pth', arch, size=32)
    (d / 'imgs').mkdir()
    rng = np.random.default_rng(0)
    for i in range(3): Image.fromarray((rng.random((40, 30, 3)) * 255).astype(np.uint8)).save(d / 'imgs' / f'{i}.jpg')
    return d

def _with_bad(tiny, tmp_path, n_bad=1, good=True):
    "A copy of the tiny images (or none) plus `n_bad` unreadable .jpg files named after them (z_bad*.jpg)."
    d = tmp_path / 'imgs'
    if good: shutil.copytree(tiny / 'imgs', d)
    else: d.mkdir()
    for k in range(n_bad): (d / f'z_bad{k}.jpg').write_bytes(b'\xff\xd8\xff\xe0 not really a jpeg')
    return d

def test_parse_out_is_an_existing_file(tiny, tmp_path):
    (tmp_path / 'afile').touch()
    one_line_error(hparse('parse', tiny / 'imgs', '--weights', tiny / 'model.pth', '--out', tmp_path / 'afile'), '--out', 'afile')

@pytest.mark.parametrize('cmd', ['parse', 'eval'])
@pytest.mark.parametrize('bs', ['0', '-1'])
def test_bs_below_one(tiny, tmp_path, cmd, bs):
    args = [tiny / 'imgs', '--out', tmp_path / 'o'] if cmd == 'parse' else [tmp_path]
    one_line_error(hparse(cmd, *args, '--weights', tiny / 'model.pth', '--bs', bs), '--bs', f'got {bs}')

@pytest.mark.parametrize('dev', ['cuda', 'bogus'])
def test_device_that_is_not_here(tiny, tmp_path, dev):
    import torch
    if dev == 'cuda' and torch.cuda.is_available(): pytest.skip('this machine has a GPU')
    one_line_error(hparse('parse', tiny / 'imgs', '--weights', tiny / 'model.pth', '--out', tmp_path / 'o', '--device', dev), '--device', repr(dev))

def test_eval_json_path_checked_before_evaluating(tiny, tmp_path):
    r = hparse('eval', tmp_path, '--weights', tiny / 'model.pth', '--json', '/nonexistent/x.json')
    one_line_error(r, '--json', '/nonexistent/x.json')
    assert r.stdout == ''   # nothing was loaded or evaluated

def test_eval_without_a_root_points_to_synth(tiny, tmp_path):
    one_line_error(hparse('eval', '--weights', tiny / 'model.pth', cwd=tmp_path), 'data/synth/lip', 'hparse synth')

def test_check_data_empty_image_folder(tmp_path):
    for d in ('train_images', 'train_segmentations'): (tmp_path / d).mkdir()
    one_line_error(hparse('check-data', tmp_path), 'train_images', 'no images')

def test_check_data_empty_id_file(tmp_path):
    for d in ('train_images', 'train_segmentations'): (tmp_path / d).mkdir()
    (tmp_path / 'train_id.txt').write_text('')
    one_line_error(hparse('check-data', tmp_path), 'train_id.txt', 'lists no train items')

def test_check_data_on_the_synth_root_names_its_layouts(synth_root):
    one_line_error(hparse('check-data', synth_root), 'lip/ (--format lip)', 'ppp/ (--format ppp)', f'hparse check-data {synth_root / "lip"}')

def test_check_data_missing_label_folder(synth_root):
    r = hparse('check-data', synth_root / 'lip', '--labels', 'nosuch')
    one_line_error(r, synth_root / 'lip' / 'nosuch', 'label folder not found')
    assert 'not found' not in r.stdout   # not one 'missing' line per item

def test_weights_file_of_random_text(tiny, tmp_path):
    (tmp_path / 'w.pth').write_text('this is not a model\n' * 10)
    one_line_error(hparse('parse', tiny / 'imgs', '--weights', tmp_path / 'w.pth', '--out', tmp_path / 'o'),
                   tmp_path / 'w.pth', 'not an hparse or SCHP model file')

def test_weights_file_that_would_run_code(tiny, tmp_path):
    import torch
    torch.save({'model': _RunsCode(tmp_path / 'RAN')}, tmp_path / 'evil.pth')
    one_line_error(hparse('parse', tiny / 'imgs', '--weights', tmp_path / 'evil.pth', '--out', tmp_path / 'o'),
                   tmp_path / 'evil.pth', 'refused: reading it would run code', 'system')
    assert not (tmp_path / 'RAN').exists()

def test_training_checkpoint_names_the_model_file_of_its_run(tiny, tmp_path):
    import torch
    run = tmp_path / 'run'; run.mkdir()
    sd = torch.load(tiny / 'model.pth', weights_only=True)['model']
    torch.save(dict(epoch=0, n_epoch=1, model=sd, opt={}), run / 'checkpoint.pth')
    shutil.copy(tiny / 'model.pth', run / 'model.pth')
    one_line_error(hparse('parse', tiny / 'imgs', '--weights', run / 'checkpoint.pth', '--out', tmp_path / 'o'),
                   run / 'checkpoint.pth', f'pass {run / "model.pth"}')
    torch.save(sd, tmp_path / 'state_dict.pth')                                  # a bare state dict, no run folder
    one_line_error(hparse('parse', tiny / 'imgs', '--weights', tmp_path / 'state_dict.pth', '--out', tmp_path / 'o'),
                   'holds no architecture', 'model.pth', 'hparse train')

def test_parse_folder_without_images(tiny, tmp_path):
    (tmp_path / 'photos').mkdir(); (tmp_path / 'photos' / 'a.webp').write_bytes(b'RIFF')
    one_line_error(hparse('parse', tmp_path / 'photos', '--weights', tiny / 'model.pth', '--out', tmp_path / 'o'),
                   tmp_path / 'photos', '.jpg .jpeg .png .bmp', '.webp')

def test_parse_bad_image_stops_with_a_count_and_points_to_skip_bad(tiny, tmp_path):
    d = _with_bad(tiny, tmp_path)
    r = hparse('parse', d, '--weights', tiny / 'model.pth', '--out', tmp_path / 'o', '--bs', 1)
    one_line_error(r, 'z_bad0.jpg', 'stopped after writing 3 of 4', '--skip-bad')

def test_parse_skip_bad_summary_and_list(tiny, tmp_path):
    d, out = _with_bad(tiny, tmp_path), tmp_path / 'o'
    r = hparse('parse', d, '--weights', tiny / 'model.pth', '--out', out, '--skip-bad')
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().splitlines()[-1].startswith(f'parsed 3, skipped 1 (listed in {out / "skipped.txt"})'), r.stdout
    assert r.stderr.strip().splitlines() == [f'hparse: warning: skipped {d / "z_bad0.jpg"}: truncated or corrupt image file (Truncated File Read)']
    assert (out / 'skipped.txt').read_text().startswith(f'{d / "z_bad0.jpg"}: truncated or corrupt')
    assert sorted(q.name for q in out.glob('*.png')) == ['0.png', '1.png', '2.png']

def test_parse_skip_bad_when_every_image_is_bad(tiny, tmp_path):
    d = _with_bad(tiny, tmp_path, n_bad=2, good=False)
    r = hparse('parse', d, '--weights', tiny / 'model.pth', '--out', tmp_path / 'o', '--skip-bad')
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and 'Traceback' not in r.stderr and len(lines) == 3, r.stderr
    assert all(l.startswith('hparse: warning: skipped ') for l in lines[:2])
    assert lines[2].startswith('hparse parse: error: no image could be read: skipped all 2'), lines[2]

def test_parse_size_default_is_the_model_files_and_printed(tiny, tmp_path):
    r = hparse('parse', tiny / 'imgs' / '0.jpg', '--weights', tiny / 'model.pth', '--out', tmp_path / 'a')
    assert r.returncode == 0 and 'input 32x32 px' in r.stdout and "training size" in r.stdout, r.stdout + r.stderr
    r = hparse('parse', tiny / 'imgs' / '0.jpg', '--weights', tiny / 'model.pth', '--out', tmp_path / 'b', '--size', 48)
    assert r.returncode == 0 and 'input 48x48 px' in r.stdout, r.stdout + r.stderr
    one_line_error(hparse('parse', tiny / 'imgs', '--weights', tiny / 'model.pth', '--out', tmp_path / 'c', '--size', 8), '--size')

def test_eval_prints_one_unit_percent(tiny, synth_root, tmp_path):
    r = hparse('eval', synth_root / 'lip', '--weights', tiny / 'model.pth', '--json', tmp_path / 's.json')
    assert r.returncode == 0, r.stderr[-2000:]
    s = json.loads((tmp_path / 's.json').read_text())['scores']
    summary = next(l for l in r.stdout.splitlines() if l.startswith('summary (%):'))
    assert f"miou={100 * s['miou']:.2f}" in summary and f"pixel_acc={100 * s['pixel_acc']:.2f}" in summary, summary
    assert 'per class (%):' in r.stdout

def test_debug_works_after_the_subcommand():
    r = hparse('check-data', '/no/such/dataset', '--debug')
    assert r.returncode != 0 and 'Traceback' in r.stderr and '/no/such/dataset' in r.stderr

def test_help_documents_outputs_and_defaults():
    text = ' '.join(hparse('parse', '--help').stdout.split())
    for words in ('_overlay.png', '_logits.npy', 'skipped.txt', '--tta test-time augmentation', '--bs BS images per forward pass',
                  '--device DEVICE cpu, cuda', '--size SIZE'):
        assert words in text, words
    text = ' '.join(hparse('eval', '--help').stdout.split())
    for words in ('(default: lip)', '(default: val)', '(default: 4)', 'percent', '--size SIZE'): assert words in text, words

def test_reproduce_writes_outside_the_committed_results_by_default():
    "`hparse reproduce` without --out writes where `python3 tasks.py main` does, a folder git ignores; not results/."
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import tasks
    from hparse.cli import parser
    a = parser().parse_args(['reproduce'])
    assert (a.out, a.work) == (tasks.MAIN_OUT, tasks.MAIN_WORK) and a.out != 'results'

# --- `hparse train` and the HIPN path at their edges (issue 24) ---

@pytest.mark.parametrize('flag,value,words', [('--lr', '-1', 'must be a number above 0, got -1'), ('--lr', '0', 'above 0'),
                                             ('--lr', 'nan', 'above 0'), ('--epochs', '0', 'at least 1'), ('--bs', '0', 'at least 1'),
                                             ('--size', '16', 'at least 32'), ('--workers', '-1', 'at least 0')])
def test_train_nonsense_numbers_at_parsing(tmp_path, flag, value, words):
    r = hparse('train', tmp_path, '--out', tmp_path / 'o', flag, value)
    one_line_error(r, 'argument ' + flag, words)
    assert not (tmp_path / 'o').exists()

def test_train_over_a_finished_run_needs_force(synth_root, trained):
    before = (trained / 'model.pth').stat().st_mtime_ns
    one_line_error(hparse('train', synth_root / 'lip', '--out', trained, *TRAIN), f'--out {trained}', 'holds a finished run', '--force')
    assert (trained / 'model.pth').stat().st_mtime_ns == before and (trained / 'result.json').exists()

def test_train_resume_without_a_checkpoint(synth_root, tmp_path):
    one_line_error(hparse('train', synth_root / 'lip', '--out', tmp_path / 'new', '--resume', *TRAIN), '--resume', 'no checkpoint', 'checkpoint.pth')

def test_train_resume_with_a_truncated_checkpoint(synth_root, tiny, tmp_path):
    (tmp_path / 'checkpoint.pth').write_bytes((tiny / 'model.pth').read_bytes()[:500])
    one_line_error(hparse('train', synth_root / 'lip', '--out', tmp_path, '--resume', *TRAIN), tmp_path / 'checkpoint.pth', 'unreadable checkpoint')
    one_line_error(hparse('train', synth_root / 'lip', '--out', tmp_path, *TRAIN), 'checkpoint of an unfinished run', '--resume', '--force')

def test_train_pretrained_junk_code_folder_and_other_backbone(synth_root, trained, tmp_path):
    import torch
    (tmp_path / 'junk.pth').write_text('not weights\n' * 10)
    one_line_error(hparse('train', synth_root / 'lip', '--out', tmp_path / 'o', '--pretrained', tmp_path / 'junk.pth', *TRAIN),
                   f"--pretrained {tmp_path / 'junk.pth'}", 'not an hparse or SCHP model file')
    torch.save({'model': _RunsCode(tmp_path / 'RAN')}, tmp_path / 'evil.pth')
    one_line_error(hparse('train', synth_root / 'lip', '--out', tmp_path / 'o', '--pretrained', tmp_path / 'evil.pth', *TRAIN),
                   'evil.pth', 'refused: reading it would run code')
    assert not (tmp_path / 'RAN').exists()
    one_line_error(hparse('train', synth_root / 'lip', '--out', tmp_path / 'o', '--pretrained', trained, *TRAIN),
                   f'--pretrained {trained}: is a folder', f"pass {trained / 'model.pth'}")
    one_line_error(hparse('train', synth_root / 'lip', '--out', tmp_path / 'o', '--pretrained', trained / 'model.pth', *TRAIN, '--backbone', 'resnet50'),
                   'model.pth', 'on backbone resnet18', 'resnet50')
    assert not (tmp_path / 'o').exists()

def test_train_from_a_parser_file_records_it_percent_no_bars_checkpoint_removed(synth_root, trained, tmp_path):
    "`--pretrained model.pth` of the same backbone; result.json records it with its SHA-256; scores in percent; a log gets lines, not bars."
    import hashlib
    out = tmp_path / 'ft'
    args = ['train', synth_root / 'lip', '--out', out, '--pretrained', trained / 'model.pth', *TRAIN, '--epochs', 1]
    r = hparse(*args)
    assert r.returncode == 0, r.stderr[-2000:]
    start = json.loads((out / 'result.json').read_text())['start']
    assert start == dict(pretrained=str(trained / 'model.pth'), file=str(trained / 'model.pth'),
                         sha256=hashlib.sha256((trained / 'model.pth').read_bytes()).hexdigest())
    assert not (out / 'checkpoint.pth').exists()                          # a finished run keeps model.pth and result.json
    last = r.stdout.strip().splitlines()[-2]
    import re
    assert last.startswith('trained ace2p') and re.search(r'mIoU=\d+\.\d\d%', last), last
    assert 'epoch 1/1:' in r.stdout and '\r' not in r.stdout + r.stderr and '\u2588' not in r.stdout, r.stdout   # no progress bars in a log
    r = hparse(*args, '--force', '--keep-checkpoint')
    assert r.returncode == 0 and (out / 'checkpoint.pth').exists(), r.stderr[-2000:]

def test_train_ctrl_c_says_resume_and_exits_130(synth_root, tmp_path):
    import signal, time, torch
    out = tmp_path / 'int'
    exe = shutil.which('hparse')
    cmd = [exe] if exe else [sys.executable, '-c', 'import sys; from hparse.cli import main; sys.exit(main())']
    p = subprocess.Popen([*cmd, 'train', str(synth_root / 'lip'), '--out', str(out), *map(str, TRAIN), '--epochs', '20'],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    t0 = time.time()
    while not (out / 'checkpoint.pth').exists() and p.poll() is None and time.time() - t0 < 300: time.sleep(0.2)
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=120)
    r = subprocess.CompletedProcess(p.args, p.returncode, '', err)
    line = err.strip().splitlines()[-1] if err.strip() else ''
    assert p.returncode == 130 and len(err.strip().splitlines()) == 1 and 'Traceback' not in err, (p.returncode, err[-3000:])
    assert line.startswith('hparse train: interrupted at epoch ') and 'of 20; rerun with --resume' in line, line
    done = torch.load(out / 'checkpoint.pth', weights_only=True)['epoch'] + 1       # whole, not half-written
    assert f'({done} epoch(s) done)' in line and not (out / 'model.pth').exists()
    assert not [q for q in out.iterdir() if q.name.endswith('.tmp')]

def test_train_without_a_dataset_writes_nothing(tmp_path):
    one_line_error(hparse('train', cwd=tmp_path), 'no dataset given', 'data/synth/lip', 'hparse synth')
    assert list(tmp_path.iterdir()) == []
    (tmp_path / 'afile').touch()
    one_line_error(hparse('train', tmp_path / 'afile', '--out', tmp_path / 'o'), 'afile: is a file, not a dataset folder')

def test_synth_over_another_benchmark_needs_force(tmp_path):
    out = tmp_path / 's'
    small = ['--n', 4, '--workers', 1, '--noise', 'mix']
    assert hparse('synth', out, '--size', 32, *small).returncode == 0
    r = hparse('synth', out, '--size', 48, *small)
    one_line_error(r, f'OUT {out}', 'size 32 (asked: 48)', '--force')
    assert json.loads((out / 'summary.json').read_text())['size'] == 32
    (out / 'lip' / 'train_images' / 'old_extra.jpg').write_bytes(b'x')                   # a file the new benchmark would leave beside its own
    r = hparse('synth', out, '--size', 48, *small, '--force')
    assert r.returncode == 0, r.stderr
    assert json.loads((out / 'summary.json').read_text())['size'] == 48 and not (out / 'lip' / 'train_images' / 'old_extra.jpg').exists()
    assert hparse('synth', out, '--size', 48, *small).returncode == 0                     # the same settings: written again, no question

def test_check_data_on_a_file(tmp_path):
    (tmp_path / 'f.txt').touch()
    one_line_error(hparse('check-data', tmp_path / 'f.txt'), 'f.txt: is a file, not a folder')

def test_eval_weights_folder_names_its_model_file(tiny, tmp_path):
    one_line_error(hparse('eval', tmp_path, '--weights', tiny), f'--weights {tiny}: is a folder, not a weights file', f"pass {tiny / 'model.pth'}")
    one_line_error(hparse('eval', tmp_path, '--weights', tmp_path), 'is a folder, not a weights file')
