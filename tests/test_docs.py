"The static docs site (tools/build_docs.py): built into a temp folder, then pages opened in headless Chromium."
import os, re, shutil, subprocess, sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit
import pytest
from conftest import ROOT

sys.path.insert(0, str(ROOT / 'tools'))
import build_docs  # tools/build_docs.py

CHROMIUM = next((p for p in (os.environ.get('CHROMIUM'), shutil.which('chromium'), shutil.which('chromium-browser'),
                             shutil.which('google-chrome')) if p), None)
FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync', '--virtual-time-budget=3000']

def test_for_sphinx_turns_front_matter_into_a_title_and_drops_show_doc():
    nb = {'cells': [{'cell_type': 'raw', 'metadata': {}, 'source': '---\ntitle: Labels\ndescription: Taxonomies\n---\n'},
                    {'cell_type': 'code', 'metadata': {}, 'outputs': [], 'source': '#| echo: false\n#| output: asis\nshow_doc(f)'},
                    {'cell_type': 'code', 'metadata': {}, 'outputs': [], 'source': '#| eval: false\nx = 1'}], 'metadata': {}}
    out = build_docs.for_sphinx(nb, '01_labels')['cells']
    assert [c['cell_type'] for c in out] == ['markdown', 'code'], out
    assert out[0]['source'] == '# Labels\n\n> Taxonomies' and out[1]['source'] == 'x = 1'
    assert [c['id'] for c in out] == ['c0', 'c1']

def test_add_tags_maps_quarto_options_to_myst_nb_tags():
    nb = {'cells': [{'cell_type': 'code', 'metadata': {}, 'source': '#| echo: false\n#| output: false\n1'},
                    {'cell_type': 'code', 'metadata': {}, 'source': '#| include: false\n2'},
                    {'cell_type': 'code', 'metadata': {}, 'source': '3'}]}
    tags = [c['metadata'].get('tags') for c in build_docs.add_tags(nb)['cells']]
    assert tags == [['remove-input', 'remove-output'], ['remove-cell'], None], tags

def test_build_names_a_missing_home_page(tmp_path):
    with pytest.raises(FileNotFoundError, match='index.ipynb'): build_docs.build(tmp_path / 'site', nbs=tmp_path)

@pytest.fixture(scope='module')
def site(tmp_path_factory):
    "The site, built once for this module (about 30 s on 2 cores)."
    return build_docs.build(tmp_path_factory.mktemp('site') / '_site').parent

class _Tags(HTMLParser):
    "Collects <table>s, <img src>s and element ids of an HTML document."
    def __init__(self):
        super().__init__(); self.tables, self.imgs, self.ids, self.title = 0, [], set(), ''
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == 'table': self.tables += 1
        if tag == 'img' and a.get('src'): self.imgs.append(a['src'])
        if a.get('id'): self.ids.add(a['id'])

def dom(page: Path) -> _Tags:
    "Parse the DOM that headless Chromium renders for `page` (after its scripts ran)."
    r = subprocess.run([CHROMIUM, *FLAGS, f'--user-data-dir={page.parent / ".chromium-profile"}', '--dump-dom', page.as_uri()],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and '<body' in r.stdout, f'chromium failed on {page}: {r.stderr[-2000:]}'
    t = _Tags(); t.feed(r.stdout); t.title = (re.search(r'<title>(.*?)</title>', r.stdout, re.S) or [None, ''])[1]
    return t

def local_imgs(page: Path, t: _Tags) -> list:
    "The files that `page`'s <img> tags point to inside the site."
    return [(page.parent / unquote(urlsplit(s).path)).resolve() for s in t.imgs if not urlsplit(s).scheme]

needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason='headless Chromium is not installed (apt-get install -y chromium)')

def test_site_has_every_notebook_and_api_page(site):
    pages = {p.stem for p in site.glob('*.html')}
    assert {p.stem for p in build_docs.notebooks(ROOT / 'nbs')} <= pages
    assert {'hparse.labels', 'hparse.models.ace2p', 'index'} <= {p.stem for p in (site / 'api').glob('*.html')}

@needs_chromium
def test_home_page_links_every_notebook(site):
    t, html = dom(site / 'index.html'), (site / 'index.html').read_text()
    assert 'hparse' in t.title
    for p in build_docs.notebooks(ROOT / 'nbs'):
        if p.stem != 'index': assert f'href="{p.stem}.html"' in html, p.stem

@needs_chromium
def test_api_page_documents_labels(site):
    t = dom(site / 'api' / 'hparse.labels.html')
    for name in ('Taxonomy', 'get_taxonomy', 'to_level', 'flip_labels', 'Hierarchy', 'edge_labels', 'colorize'):
        assert f'hparse.labels.{name}' in t.ids, name

@needs_chromium
def test_notebook_page_renders_its_figures(site):
    page = site / '03_synth.html'
    t = dom(page)
    imgs = local_imgs(page, t)
    assert len(imgs) >= 1, t.imgs
    for f in imgs: assert f.is_file() and f.stat().st_size > 1000 and f.read_bytes()[:4] == b'\x89PNG', f

@needs_chromium
def test_notebook_page_renders_its_table(site):
    t = dom(site / '22_models.ace2p.html')
    assert t.tables >= 1 and 'hparse.models.ace2p' not in t.ids

@needs_chromium
@pytest.mark.parametrize('name', ['51_repro.schp', '52_repro.hipn'])
def test_reproduction_page_renders_tables_and_figures(site, name):
    "A reproduction page shows the papers' tables beside ours (HTML tables) and its figures (PNG files of the site)."
    page = site / f'{name}.html'
    t = dom(page)
    assert t.tables >= 3, (name, t.tables)
    imgs = local_imgs(page, t)
    assert len(imgs) >= 2, t.imgs
    for f in imgs: assert f.is_file() and f.stat().st_size > 1000 and f.read_bytes()[:4] == b'\x89PNG', f
    assert 'paper' in page.read_text() and 'synthetic' in page.read_text()
