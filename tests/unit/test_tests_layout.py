"""The test tree itself: pytest imports test modules by their file name where a folder has no
``__init__.py``, so two test files with the same name in different folders make a whole run
stop at collection (as a unit and an integration test of the same erasure once did)."""

from collections import defaultdict
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

TESTS = Path(__file__).resolve().parents[1]


def test_no_two_test_modules_share_a_file_name() -> None:
    places: defaultdict[str, list[str]] = defaultdict(list)
    for path in TESTS.rglob("test_*.py"):
        places[path.name].append(str(path.relative_to(TESTS)))

    assert {name: paths for name, paths in places.items() if len(paths) > 1} == {}
