#!/usr/bin/env python3
"""hparse's two entry points for a fresh machine with only Python 3.10+.

    python3 tasks.py main   # set up, then reproduce both papers' tables and figures at the quick scale (synthetic benchmark)
    python3 tasks.py test   # set up, then run the tests (nbdev-test, then pytest tests/)

"Set up" means: use the active virtual environment, or create ./.venv when none is active, and install hparse
into it in editable mode with its `dev` extra (skipped when pyproject.toml has not changed since the last install)."""
import hashlib, os, subprocess, sys, tempfile, venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
MAIN_OUT, MAIN_WORK = 'out/results', 'out/runs'  # where the main job writes its results (tables, figures, JSON) and its training runs

def in_venv() -> bool: return sys.prefix != sys.base_prefix or 'VIRTUAL_ENV' in os.environ

def env_python() -> Path:
    "The Python of the active virtual environment, or of ./.venv (created if missing)."
    if in_venv(): return Path(sys.executable)
    vdir = ROOT / '.venv'
    if not (vdir / 'bin' / 'python').exists():
        print(f'tasks.py: creating a virtual environment in {vdir}', flush=True)
        venv.EnvBuilder(with_pip=True).create(vdir)
    return vdir / 'bin' / 'python'

def run(*cmd, **kw):
    print('+', ' '.join(map(str, cmd)), flush=True)
    return subprocess.run([str(c) for c in cmd], cwd=ROOT, **kw).returncode

def setup(py: Path) -> Path:
    "Install hparse[dev] editable into `py`'s environment unless pyproject.toml is unchanged since the last install."
    stamp = Path(subprocess.check_output([str(py), '-c', 'import sys; print(sys.prefix)'], text=True).strip()) / '.hparse-installed'
    want = hashlib.sha256((ROOT / 'pyproject.toml').read_bytes()).hexdigest()
    if not (stamp.exists() and stamp.read_text() == want):
        if run(py, '-m', 'pip', 'install', '-q', '--upgrade', 'pip') or run(py, '-m', 'pip', 'install', '-q', '-e', '.[dev]'):
            sys.exit('tasks.py: installation failed (see the pip output above)')
        stamp.write_text(want)
    return py.parent

def main_job(bin_: Path) -> int:
    "The main job: the reproduction suite at the quick scale (the central claims with three seeds, about 100 min on a 2-core CPU) on the synthetic benchmark."
    return run(bin_ / 'hparse', 'reproduce', '--scale', 'quick', '--out', MAIN_OUT, '--work', MAIN_WORK)

def test_job(bin_: Path) -> int:
    "nbdev-test over every notebook (slow/cuda cells skipped), then pytest tests/; their temporary files go to one folder, removed at the end."
    with tempfile.TemporaryDirectory(prefix='hparse-tests-') as tmp:  # the tests' benchmarks and runs: gigabytes, never left behind
        env = {**os.environ, 'PATH': f'{bin_}{os.pathsep}{os.environ.get("PATH", "")}', 'MPLBACKEND': 'Agg', 'TMPDIR': tmp}
        rc = run(bin_ / 'nbdev-test', '--n-workers', '2', '--timing', env=env)
        rc2 = run(bin_ / 'python', '-m', 'pytest', 'tests/', '-q', env=env)
    return rc or rc2

if __name__ == '__main__':
    jobs = {'main': main_job, 'test': test_job}
    if len(sys.argv) != 2 or sys.argv[1] not in jobs: sys.exit(f'usage: python3 tasks.py {"|".join(jobs)}')
    sys.exit(jobs[sys.argv[1]](setup(env_python())))
