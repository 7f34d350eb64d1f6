"""The avg-voip CrossGuard policy pack: `pulumi preview|up --policy-pack policies/crossguard`.

Only this file builds the PolicyPack (it starts the analyzer's gRPC server and never returns); the policies
come from policies.crossguard.adapter, a thin adapter over the rule catalogue in policies/rules/.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # run from a checkout without installing the package

from pulumi_policy import EnforcementLevel, PolicyPack  # noqa: E402

from policies.crossguard.adapter import PACK_NAME, build_policies  # noqa: E402

PolicyPack(
    name=PACK_NAME,
    enforcement_level=EnforcementLevel.ADVISORY,  # each policy sets its own: mandatory for critical/high
    policies=build_policies(),
)
