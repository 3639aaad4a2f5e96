"""Write a notebook from a percent-format script (cells separated by `# %%`; `# %% [markdown]` cells are Markdown
with each line's leading `# ` removed). A drafting aid only: the notebook it writes is the source of truth.
Usage: python tools/py2nb.py draft.py nbs/01_labels.ipynb"""
import json, re, sys
from pathlib import Path

def cells_from(text):
    cells = []
    for chunk in re.split(r'^# %%', text, flags=re.M)[1:]:
        head, _, body = chunk.partition('\n')
        body = body.strip('\n')
        if '[markdown]' in head:
            src = '\n'.join(re.sub(r'^# ?', '', l) for l in body.splitlines())
            cells.append(dict(cell_type='markdown', metadata={}, source=src.splitlines(True)))
        else:
            cells.append(dict(cell_type='code', execution_count=None, metadata={}, outputs=[], source=body.splitlines(True)))
    return cells

def main(src, dst):
    nb = dict(cells=cells_from(Path(src).read_text()), nbformat=4, nbformat_minor=5,
              metadata=dict(kernelspec=dict(display_name='python3', language='python', name='python3')))
    tmp = Path(str(dst) + '.tmp'); tmp.write_text(json.dumps(nb, indent=1) + '\n'); tmp.replace(dst)  # atomic

if __name__ == '__main__': main(*sys.argv[1:3])
