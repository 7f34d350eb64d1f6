from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
STACKS = ("healthcare-hcloud", "mortgage-aws")


def stack_doc(name: str) -> dict[str, Any]:
    return yaml.safe_load((ROOT / f"Pulumi.{name}.yaml").read_text())


@pytest.fixture
def mortgage_profile() -> dict[str, Any]:
    return copy.deepcopy(stack_doc("mortgage-aws")["config"]["avg-voip:profile"])


@pytest.fixture
def healthcare_profile() -> dict[str, Any]:
    return copy.deepcopy(stack_doc("healthcare-hcloud")["config"]["avg-voip:profile"])
