"""Lab tests need root, systemd-nspawn, debootstrap and apt-cacher-ng; without them they skip, saying why."""

from __future__ import annotations

import os

import pytest

from avg_voip.lab.system import unavailable_reason


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reason = unavailable_reason()
    if os.environ.get("AVG_VOIP_LAB", "1") == "0":
        reason = "AVG_VOIP_LAB=0"
    if not reason:
        return
    skip = pytest.mark.skip(reason=f"lab: {reason}")
    for item in items:
        if "lab" in item.keywords:
            item.add_marker(skip)
