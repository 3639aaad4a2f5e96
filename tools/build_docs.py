#!/usr/bin/env python3
"""Build hparse's static docs site into `_site/` without Quarto (which `nbdev-docs` needs and these machines lack).

    python tools/build_docs.py                 # -> _site/index.html
    python tools/build_docs.py --out /tmp/site # anywhere else
    python tools/build_docs.py --nbdev-proc    # take the notebooks from `nbdev-proc-nbs` (its _proc/) instead

Steps:
1. Process the notebooks the way `nbdev-proc-nbs` does (nbdev's own processors: export/hide cells removed, `#|` directives
   handled, front matter read) into a private `_proc/` under the build folder. By default the processors that *execute*
   notebooks to add `show_doc` cells (`add_show_docs`, `exec_show_docs`, `clean_show_doc`) and `add_links` (which points
   at Quarto's page names) are left out: the API is documented by autodoc pages instead, nothing is re-run, and no file in
   the repository is touched. With `--nbdev-proc` the real `nbdev-proc-nbs` runs (it needs every notebook's show_doc
   cells to execute; notebooks it fails on are processed here instead; the nbs/*.yml and hparse/_modidx.py it rewrites are
   put back) and its show_doc cells are stripped afterwards.
2. Turn each notebook's front matter into a `# Title` + `> summary` heading, and Quarto cell options into myst-nb tags
   (`echo: false` -> remove-input, `output: false` -> remove-output, `include: false` -> remove-cell).
3. Write a Sphinx project (conf.py, a hidden toctree on the home page = index.ipynb, one autodoc page per `hparse` module
   plus an autosummary index) and run Sphinx with myst-nb, execution off (the notebooks' stored outputs are rendered).
Warnings are printed, never fatal."""
import argparse, importlib, json, pkgutil, re, shutil, subprocess, sys, tempfile, textwrap, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SKIP_PROCS = {'add_show_docs', 'exec_show_docs', 'clean_show_doc', 'add_links'}
TOUCHED = [ROOT / 'nbs' / n for n in ('sidebar.yml', 'nbdev.yml', '_quarto.yml')] + [ROOT / 'hparse' / '_modidx.py']
TAGS = {('echo', 'false'): 'remove-input', ('output', 'false'): 'remove-output', ('include', 'false'): 'remove-cell'}

def notebooks(nbs: Path) -> list:
    "The notebooks to publish, in their numbered order (names starting with `_` or `.` are skipped)."
    return sorted(p for p in nbs.glob('*.ipynb') if not p.name.startswith(('_', '.')))

def _src(cell) -> str: return ''.join(cell['source']) if isinstance(cell.get('source'), list) else cell.get('source') or ''

def add_tags(nb: dict) -> dict:
    "Give code cells the myst-nb tags that match their Quarto options (`#| echo: false` ...)."
    for c in nb['cells']:
        if c['cell_type'] != 'code': continue
        opts = {m[0]: m[1].strip().lower() for m in re.findall(r'^#\|\s*([\w-]+):\s*(\S+)', _src(c), re.M)}
        tags = [t for (k, v), t in TAGS.items() if opts.get(k) == v]
        if tags: c.setdefault('metadata', {}).setdefault('tags', []).extend(t for t in tags if t not in c['metadata'].get('tags', []))
    return nb

def nbdev_process(src: Path, dst: Path):
    "Process the notebook `src` into `dst` with nbdev's doc processors, less those in `SKIP_PROCS`."
    from nbdev.process import NBProcessor
    from nbdev.processors import FilterDefaults
    from fastcore.nbio import read_nb, write_nb
    try: nb = add_tags(read_nb(src))
    except Exception as e: raise ValueError(f'{src}: not a readable notebook ({e})') from e
    procs = [p for p in FilterDefaults().procs() if p.__name__ not in SKIP_PROCS]
    NBProcessor(nb=nb, procs=procs, rm_directives='quarto').process()
    write_nb(nb, dst)

def is_show_doc(cell) -> bool:
    "Is `cell` a code cell that only calls `show_doc` (nbdev's generated API cells)?"
    lines = [l for l in _src(cell).splitlines() if l.strip() and not l.startswith('#|')]
    return cell['cell_type'] == 'code' and bool(lines) and all(l.lstrip().startswith('show_doc(') for l in lines)

def front_matter(cell) -> dict:
    "The `title`/`description` of a Quarto front-matter raw cell (`---` YAML `---`), else {}."
    import yaml
    s = _src(cell).strip()
    if cell['cell_type'] != 'raw' or not s.startswith('---'): return {}
    try: return yaml.safe_load(s.strip('-')) or {}
    except yaml.YAMLError: return {}

def for_sphinx(nb: dict, name: str) -> dict:
    "Front matter -> `# title` markdown, show_doc cells and emptied cells dropped, directive lines removed."
    cells, title = [], None
    for c in nb['cells']:
        if (fm := front_matter(c)):
            title = fm.get('title') or name
            md = f"# {title}\n\n> {fm['description']}" if fm.get('description') else f'# {title}'
            cells.append({'cell_type': 'markdown', 'metadata': {}, 'source': md}); continue
        if is_show_doc(c) or not _src(c).strip(): continue
        if c['cell_type'] == 'code': c['source'] = '\n'.join(l for l in _src(c).splitlines() if not l.startswith('#|')).strip('\n')
        if c['cell_type'] == 'markdown' and _src(c).startswith('<!-- WARNING'): continue
        cells.append(c)
    if title is None and not any(c['cell_type'] == 'markdown' and _src(c).lstrip().startswith('# ') for c in cells):
        cells.insert(0, {'cell_type': 'markdown', 'metadata': {}, 'source': f'# {name}'})
    for i, c in enumerate(cells): c['id'] = f'c{i}'  # nbformat wants ids; nbdev-clean strips them
    nb['cells'] = cells
    return nb

def modules(pkg='hparse') -> list:
    "Every importable module of `pkg` (nbdev's `_modidx` left out)."
    p = importlib.import_module(pkg)
    names = [pkg] + [m.name for m in pkgutil.walk_packages(p.__path__, pkg + '.')]
    return [n for n in names if not n.split('.')[-1].startswith('_')]

CONF = '''\
import sys
sys.path.insert(0, {root!r})
project = 'hparse'
extensions = ['myst_nb', 'sphinx.ext.autodoc', 'sphinx.ext.autosummary', 'sphinx.ext.viewcode']
root_doc = 'index'
nb_execution_mode = 'off'          # render the stored outputs, re-run nothing
nb_merge_streams = True
myst_enable_extensions = ['dollarmath', 'amsmath', 'colon_fence']
myst_heading_anchors = 3
autodoc_default_options = {{'members': True, 'undoc-members': True, 'member-order': 'bysource'}}
autodoc_typehints = 'signature'
default_role = 'code'             # `x` in a docstring is code, as in the notebooks' markdown
autodoc_mock_imports = []
autosummary_generate = False
suppress_warnings = ['myst.header', 'myst.xref_missing', 'mystnb.unknown_mime_type', 'misc.highlighting_failure', 'toc.not_included']
exclude_patterns = ['_build']
try:
    import furo  # noqa: F401
    html_theme = 'furo'
except ImportError:
    html_theme = 'alabaster'
html_title = 'hparse'

def _docments(app, what, name, obj, options, lines):
    "Escape `|` (plain text in our one-line docstrings, not RST substitutions); add fastcore docments as :param: fields."
    try:
        if what in ('function', 'method', 'class'): lines.extend(_params(obj.__init__ if what == 'class' else obj))
    finally: lines[:] = [l.replace('|', '\\|') for l in lines]

def _params(f):
    "`:param:`/`:returns:` lines from fastcore docments of `f` (none when it has none or cannot be read)."
    try:
        from fastcore.docments import docments
        d = docments(f)
    except Exception: return []
    extra = [f':param {{k}}: {{v}}' for k, v in d.items() if v and k not in ('return', 'self')]
    if d.get('return'): extra.append(f':returns: {{d["return"]}}')
    return [''] + extra if extra else []

def setup(app): app.connect('autodoc-process-docstring', _docments)
'''

def api_pages(src: Path, mods: list) -> list:
    "Write one autodoc page per module and an autosummary index under `src/api`; returns the index's docname."
    api = src / 'api'; api.mkdir(exist_ok=True)
    for m in mods:
        (api / f'{m}.md').write_text(f'# `{m}`\n\n```{{eval-rst}}\n.. automodule:: {m}\n```\n')
    listing = '\n'.join(f'   {m}' for m in mods)
    toc = '\n'.join(mods)
    (api / 'index.md').write_text(f'# API reference\n\n```{{eval-rst}}\n.. autosummary::\n\n{listing}\n```\n\n'
                                  f'```{{toctree}}\n:hidden:\n\n{toc}\n```\n')
    return 'api/index'

def write_project(src: Path, nbs: list, proc: Path, mods: list):
    "Lay out the Sphinx source folder `src`: conf.py, the processed notebooks, the API pages, the home toctree."
    src.mkdir(parents=True, exist_ok=True)
    (src / 'conf.py').write_text(CONF.format(root=str(ROOT)))
    pages = []
    for p in nbs:
        q = proc / p.name
        if not q.exists(): raise FileNotFoundError(f'{q}: nbdev processing did not produce this notebook')
        nb = for_sphinx(json.loads(q.read_text()), p.stem)
        (src / p.name).write_text(json.dumps(nb))
        if p.stem != 'index': pages.append(p.stem)
    api = api_pages(src, mods)
    home = src / 'index.ipynb'
    nb = json.loads(home.read_text()) if home.exists() else {'cells': [{'cell_type': 'markdown', 'metadata': {}, 'source': '# hparse'}], 'metadata': {}, 'nbformat': 4, 'nbformat_minor': 5}
    toc = '\n'.join(pages + [api])
    nb['cells'].append({'cell_type': 'markdown', 'id': 'toc', 'metadata': {}, 'source': f'```{{toctree}}\n:hidden:\n:caption: Notebooks\n\n{toc}\n```'})
    home.write_text(json.dumps(nb))

def proc_nbs(nbs: list, proc: Path, use_nbdev: bool):
    "Processed copies of `nbs` in `proc/`: nbdev's processors in this process, or the `nbdev-proc-nbs` command."
    proc.mkdir(parents=True, exist_ok=True)
    if use_nbdev:
        kept = {f: f.read_bytes() for f in TOUCHED if f.exists()}  # nbdev-proc-nbs rewrites these; a docs build should not
        try: r = subprocess.run([str(Path(sys.executable).parent / 'nbdev-proc-nbs')], cwd=ROOT)
        finally:
            for f, b in kept.items():
                if f.read_bytes() != b: f.write_bytes(b)
        if r.returncode: print(f'build_docs: nbdev-proc-nbs exited {r.returncode}; missing notebooks are processed here', file=sys.stderr)
        for p in nbs:
            if (ROOT / '_proc' / p.name).exists(): shutil.copy(ROOT / '_proc' / p.name, proc / p.name)
    from fastprogress.fastprogress import progress_bar
    for p in progress_bar([p for p in nbs if not (proc / p.name).exists()], leave=False): nbdev_process(p, proc / p.name)

def build(out=ROOT / '_site', nbs=ROOT / 'nbs', use_nbdev=False, jobs=1, quiet=True) -> Path:
    "Build the site into `out` and return the path of its home page."
    out, nbs = Path(out).resolve(), Path(nbs)
    if not (nbs / 'index.ipynb').exists(): raise FileNotFoundError(f'{nbs / "index.ipynb"}: the home-page notebook is missing')
    with tempfile.TemporaryDirectory(prefix='hparse-docs-') as tmp:
        tmp = Path(tmp); nbl = notebooks(nbs)
        proc_nbs(nbl, tmp / '_proc', use_nbdev)
        write_project(tmp / 'src', nbl, tmp / '_proc', modules())
        # built inside tmp, then copied: myst-nb writes a jupyter_execute/ folder beside Sphinx's output folder
        cmd = [sys.executable, '-m', 'sphinx', '-b', 'html', '-j', str(jobs), '-d', str(tmp / 'doctrees'), str(tmp / 'src'), str(tmp / 'html')]
        r = subprocess.run(cmd + (['-q'] if quiet else []), cwd=tmp)
        if r.returncode: raise RuntimeError(f'sphinx-build failed (exit {r.returncode}): {" ".join(cmd)}')
        if out.exists(): shutil.rmtree(out)
        shutil.copytree(tmp / 'html', out)
    return out / 'index.html'

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--out', default=str(ROOT / '_site'), help='folder to write the site into (replaced)')
    ap.add_argument('--nbdev-proc', action='store_true', help='run nbdev-proc-nbs (executes show_doc cells) instead of processing here')
    ap.add_argument('--jobs', type=int, default=1, help='Sphinx parallel jobs')
    ap.add_argument('-v', '--verbose', action='store_true', help="print Sphinx's progress, not only its warnings")
    a = ap.parse_args(argv)
    t = time.time()
    home = build(a.out, use_nbdev=a.nbdev_proc, jobs=a.jobs, quiet=not a.verbose)
    print(f'build_docs: {home} ({time.time() - t:.0f} s)')

if __name__ == '__main__': main()
