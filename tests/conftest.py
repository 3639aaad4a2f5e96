import os
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / 'shared'
os.environ.setdefault('MPLBACKEND', 'Agg')

@pytest.fixture
def shared():
    "The ../shared folder beside the checkout (real data samples); tests that need it skip when it is absent."
    if not SHARED.is_dir(): pytest.skip('../shared is not beside this checkout')
    return SHARED
