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
