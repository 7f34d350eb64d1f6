"""Fixtures of the Ansible tests: the example stacks and their rendered templates (helpers: roles_render)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from roles_render import STACKS, render, stack_hostvars


@pytest.fixture(scope="session", params=STACKS)
def stack(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="session")
def rendered(stack: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    """(host variables, directory of rendered files) of one example stack."""
    hostvars = stack_hostvars(stack)
    return hostvars, render(hostvars, tmp_path_factory.mktemp(stack) / "out")
