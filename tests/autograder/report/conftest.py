"""The ``site`` fixture: a graded folder with its report (see ``report_site``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from report_site import build_site


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return build_site(tmp_path_factory.mktemp("site"))
