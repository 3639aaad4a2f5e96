"Bad data files: the checker lists each by name, the loaders raise `DataError` naming the file, convertible images pass."
from pathlib import Path
import numpy as np
import pytest
from PIL import Image
from hparse.data import DataError, check_dataset, check_data_report, find_items, read_image, read_label, ParsingDataset
from hparse.labels import colorize

H, W = 32, 24

def _img(path:Path, mode='RGB', seed=0):
    "Write a random image of `mode` ('RGB', 'L' or 'RGBA')."
    rng = np.random.default_rng(seed)
    shape = dict(RGB=(H, W, 3), L=(H, W), RGBA=(H, W, 4))[mode]
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray((rng.random(shape) * 255).astype(np.uint8), mode).save(path)

def _lbl(path:Path, a=None, seed=0):
    "Write a greyscale label PNG (random LIP classes unless `a` is given)."
    path.parent.mkdir(parents=True, exist_ok=True)
    a = np.random.default_rng(seed).integers(0, 20, (H, W)).astype(np.uint8) if a is None else a
    Image.fromarray(a).save(path)

def _truncate(path:Path, keep=0.5): path.write_bytes(path.read_bytes()[:int(path.stat().st_size * keep)])

@pytest.fixture
def lip(tmp_path):
    "A flattened LIP train split with one good item and one item per defect."
    ids = ['good', 'rgba', 'grey', 'noimg', 'nolbl', 'size', 'v37', 'cutjpg', 'badpng', 'rgblbl']
    for k, i in enumerate(ids):
        _img(tmp_path/'train_images'/f'{i}.jpg', seed=k); _lbl(tmp_path/'train_segmentations'/f'{i}.png', seed=k)
    _img(tmp_path/'train_images/rgba.png', 'RGBA'); (tmp_path/'train_images/rgba.jpg').unlink()
    _img(tmp_path/'train_images/grey.jpg', 'L')
    (tmp_path/'train_images/noimg.jpg').unlink()
    (tmp_path/'train_segmentations/nolbl.png').unlink()
    _lbl(tmp_path/'train_segmentations/size.png', np.zeros((H + 4, W), np.uint8))
    _lbl(tmp_path/'train_segmentations/v37.png', np.full((H, W), 37, np.uint8))
    _truncate(tmp_path/'train_images/cutjpg.jpg')
    (tmp_path/'train_segmentations/badpng.png').write_bytes(b'\x89PNG\r\n\x1a\n' + b'not a png at all' * 8)
    Image.fromarray(colorize(np.random.default_rng(0).integers(0, 20, (H, W)))).save(tmp_path/'train_segmentations/rgblbl.png')
    (tmp_path/'train_id.txt').write_text('\n'.join(ids) + '\n')
    return tmp_path

EXPECTED = {  # file name -> words its problem must contain
    'noimg.jpg': 'listed in train_id.txt but not found', 'nolbl.png': 'listed in train_id.txt but not found',
    'size.png': 'differs from image', 'v37.png': '[37]', 'cutjpg.jpg': 'truncated',
    'badpng.png': 'not a readable image', 'rgblbl.png': 'RGB-coloured'}

def test_check_dataset_lists_every_problem_by_file(lip):
    problems = check_dataset(lip, 'lip', 'train')
    by_name = {Path(p.path).name: str(p) for p in problems}
    assert sorted(by_name) == sorted(EXPECTED), [str(p) for p in problems]
    for name, words in EXPECTED.items():
        assert words in by_name[name] and str(lip) in by_name[name], by_name[name]

def test_report_counts_items(lip):
    rep = check_data_report(lip, 'lip', 'train')
    assert (rep.n_items, len(rep.problems), rep.ok) == (10, 7, False)
    assert str(rep).splitlines()[0].endswith('10 items checked, 7 problems')

def test_convertible_images_are_not_problems(lip):
    assert read_image(lip/'train_images/rgba.png').shape == (H, W, 3)
    grey = read_image(lip/'train_images/grey.jpg')
    assert grey.shape == (H, W, 3) and (grey[..., 0] == grey[..., 1]).all()

def test_palette_label_is_read_as_indices(tmp_path):
    a = np.random.default_rng(1).integers(0, 20, (H, W)).astype(np.uint8)
    im = Image.fromarray(a, 'P'); im.putpalette(colorize(np.arange(256)[None]).ravel().tolist()); im.save(tmp_path/'p.png')
    assert (read_label(tmp_path/'p.png', 20) == a).all()

@pytest.mark.parametrize('name', sorted(EXPECTED))
def test_loader_raises_naming_the_file(lip, name):
    items = find_items(lip, 'lip', 'train')
    i = items.ids.index(Path(name).stem)
    with pytest.raises(DataError) as e: ParsingDataset(items, (16, 16), train=True)[i]
    assert name in str(e.value) and str(lip) in str(e.value), str(e.value)
    assert isinstance(e.value, ValueError)

def test_loader_reads_the_good_and_converted_items(lip):
    items = find_items(lip, 'lip', 'train')
    ds = ParsingDataset(items, (16, 16), train=True)
    for i in ('good', 'rgba', 'grey'):
        x, y = ds[items.ids.index(i)]
        assert x.shape == (3, 16, 16) and y.shape == (16, 16)

def test_truncated_png_label(tmp_path):
    _lbl(tmp_path/'l.png'); _truncate(tmp_path/'l.png', 0.6)
    with pytest.raises(DataError, match='l.png: truncated'): read_label(tmp_path/'l.png', 20)

def test_missing_layout_is_a_problem(tmp_path):
    (tmp_path/'JPEGImages').mkdir()
    problems = check_dataset(tmp_path, 'ppp', 'val')
    assert [str(p) for p in problems] == [f"{tmp_path/'val_id.txt'}: id list not found"]
    assert check_dataset(tmp_path/'absent', 'lip')[0].message == 'dataset root folder not found'
