"The shipped stand-in weights: every CPU-scale backbone has them, their records are complete, their checksums hold, they load."
import json
import pytest, torch
from conftest import ROOT
from hparse.models.backbones import SHIPPED_DIR, create_backbone, file_sha256, shipped_path, shipped_weights

EXPECTED = ('synth-resnet18', 'synth-hrnet_small', 'synth-mobilenetv2')  # the backbones the CPU scales use
RECORD_KEYS = ('command', 'task', 'backbone', 'seed', 'steps', 'wall_s', 'hardware', 'commit', 'date', 'sha256', 'bytes', 'log', 'final')

def test_weights_are_in_the_package():
    assert SHIPPED_DIR == ROOT / 'hparse' / 'weights'
    assert set(EXPECTED) <= set(shipped_weights()), sorted(shipped_weights())
    pyproject = (ROOT / 'pyproject.toml').read_text()
    assert '"weights/*.pth"' in pyproject and '"weights/*.json"' in pyproject, 'the weights must be package data'

@pytest.mark.parametrize('name', EXPECTED)
def test_record_and_checksum(name):
    rec = shipped_weights()[name]
    missing = [k for k in RECORD_KEYS if k not in rec]
    assert not missing, missing
    p = SHIPPED_DIR / rec['file']
    assert file_sha256(p) == rec['sha256'] and p.stat().st_size == rec['bytes']
    assert rec['command'].startswith('hparse pretrain') and f"--backbone {rec['backbone']}" in rec['command']
    assert '+dirty' not in rec['commit'], 'shipped weights come from a clean commit'
    assert len(rec['log']) == rec['epochs'] and rec['final']['shape_mIoU'] > rec['log'][0]['mIoU'], 'the pretraining learnt'

@pytest.mark.parametrize('name', EXPECTED)
def test_weights_load_by_name(name):
    rec = shipped_weights()[name]
    sd = torch.load(shipped_path(name), map_location='cpu', weights_only=True)
    assert all(v.dtype == torch.float16 for v in sd.values() if v.is_floating_point())
    for how in (name, 'synth'):
        bb = create_backbone(rec['backbone'], pretrained=how)
        own = bb.state_dict()
        assert set(sd) == set(own)
        assert all(torch.equal(own[k], v.to(own[k].dtype)) for k, v in sd.items())
