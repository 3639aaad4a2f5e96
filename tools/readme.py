"""Render README.md from nbs/index.ipynb without Quarto (which `nbdev-readme` needs and these machines cannot install).

Markdown cells are copied as they are; code cells become ```python blocks (cells with `#| hide` are left out, `#|`
directive lines are dropped) and their text outputs follow in plain ``` blocks; of a cell with `#| echo: false` only its
Markdown output is copied (the computed summary of the results). `python tools/readme.py` rewrites
README.md; `python tools/readme.py --check` exits 1 when README.md is out of step (tests/test_readme.py runs the same)."""
import json, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

def _text(src): return ''.join(src) if isinstance(src, list) else src

def _output_text(o):
    if o.get('output_type') == 'stream': return _text(o.get('text', ''))
    return _text(o.get('data', {}).get('text/plain', ''))

def _markdown(c):
    "The Markdown outputs of a code cell (e.g. `display(Markdown(...))`), joined; '' when it has none."
    return '\n\n'.join(_text(o['data']['text/markdown']).strip('\n') for o in c.get('outputs', []) if 'text/markdown' in o.get('data', {}))

def render(nb_path=ROOT / 'nbs' / 'index.ipynb') -> str:
    "README text for the notebook at `nb_path`."
    parts = []
    for c in json.loads(Path(nb_path).read_text())['cells']:
        src = _text(c['source'])
        if c['cell_type'] == 'markdown': parts.append(src.strip('\n'))
        elif c['cell_type'] == 'code':
            lines = src.splitlines()
            if any(l.strip().replace(' ', '') in ('#|hide', '#|include:false') for l in lines): continue
            if any(l.strip().replace(' ', '') == '#|echo:false' for l in lines):  # only its output, as Markdown when it is
                if (md := _markdown(c)): parts.append(md)
                continue
            code = '\n'.join(l for l in lines if not l.startswith('#|')).strip('\n')
            if code: parts.append(f'```python\n{code}\n```')
            out = ''.join(_output_text(o) for o in c.get('outputs', [])).strip('\n')
            if out: parts.append(f'```\n{out}\n```')
    note = '<!-- README.md is rendered from nbs/index.ipynb by tools/readme.py: edit the notebook, not this file. -->'
    return '\n\n'.join(parts + [note]) + '\n'

if __name__ == '__main__':
    want, readme = render(), ROOT / 'README.md'
    if '--check' in sys.argv:
        if readme.read_text() != want: sys.exit('README.md is out of step with nbs/index.ipynb: run `python tools/readme.py`')
    else: readme.write_text(want)
