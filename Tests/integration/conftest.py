import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from voss_harness import *  # noqa: E402,F401,F403
from voss_harness import Keeper  # noqa: E402


@pytest.fixture
def make_keeper(tmp_path):
    keepers = []
    counter = [0]

    def make(**kw):
        counter[0] += 1
        d = tmp_path / f"k{counter[0]}"
        d.mkdir()
        k = Keeper(d, **kw)
        keepers.append(k)
        return k

    yield make
    for k in keepers:
        k.cleanup()


