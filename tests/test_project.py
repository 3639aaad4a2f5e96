"Project-level checks: README in step with nbs/index.ipynb, the two README commands, CI, notebooks and library in sync."
import json, re, shutil, subprocess, sys
from pathlib import Path
from conftest import ROOT

sys.path.insert(0, str(ROOT / 'tools'))
import readme  # tools/readme.py

def test_readme_in_step_with_index():
    assert (ROOT / 'README.md').read_text() == readme.render(), 'run `python tools/readme.py` after editing nbs/index.ipynb'

def test_readme_starts_with_the_two_commands():
    text = (ROOT / 'README.md').read_text()
    first_block = re.search(r'```(?:sh|bash)?\n(.*?)```', text, re.S).group(1)
    cmds = [l.split('#')[0].strip() for l in first_block.splitlines() if l.strip() and not l.startswith('#')]
    assert cmds == ['python3 tasks.py main', 'python3 tasks.py test'], cmds
    before = text[:text.index('```')]
    assert before.count('\n#') + before.startswith('#') <= 1, 'only the title may come before the commands'

def test_ci_runs_the_readme_test_command():
    assert 'python3 tasks.py test' in (ROOT / '.ci' / 'run').read_text()

def test_tasks_py_runs_nbdev_test_and_pytest():
    src = (ROOT / 'tasks.py').read_text()
    assert "'nbdev-test'" in src and "'pytest', 'tests/'" in src

def _nb_clean(path):
    nb = json.loads(Path(path).read_text())
    return all(c.get('execution_count') is None for c in nb['cells'] if c['cell_type'] == 'code')

def test_notebooks_have_no_execution_counts():
    dirty = [p.name for p in sorted((ROOT / 'nbs').glob('*.ipynb')) if not _nb_clean(p)]
    assert not dirty, f'run nbdev-clean on {dirty}'

def test_library_matches_notebooks(tmp_path):
    "Exporting the notebooks afresh reproduces hparse/ exactly (nobody edited the exported code by hand)."
    for name in ('nbs', 'hparse', 'pyproject.toml'):
        src = ROOT / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, tmp_path / name)
    subprocess.run([sys.executable, '-c', 'from nbdev.doclinks import nbdev_export; nbdev_export()'], cwd=tmp_path, check=True)
    ours = {p.relative_to(ROOT): p.read_text() for p in (ROOT / 'hparse').rglob('*.py')}
    fresh = {p.relative_to(tmp_path): p.read_text() for p in (tmp_path / 'hparse').rglob('*.py')}
    assert ours.keys() == fresh.keys()
    changed = [str(k) for k in ours if ours[k] != fresh[k]]
    assert not changed, f'run nbdev-export: {changed} differ from their notebooks'

def test_docs_cite_papers_not_shared_paths():
    "Prose and library never send a reader to ../shared (a folder only development machines have); tests may read it."
    bad = [f"{p.name} cell {i}" for p in sorted((ROOT / 'nbs').glob('*.ipynb'))
           for i, c in enumerate(json.loads(p.read_text())['cells'])
           if c['cell_type'] == 'markdown' and 'shared/' in ''.join(c['source'])]
    bad += [str(p.relative_to(ROOT)) for p in sorted((ROOT / 'hparse').rglob('*.py')) if 'shared/' in p.read_text()]
    bad += ['README.md'] * ('shared/' in (ROOT / 'README.md').read_text())
    assert not bad, f'cite the paper or public repository instead of shared/ in: {bad}'
