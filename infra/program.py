"""The Pulumi program: read and validate the compliance profile, build the components, export the outputs.

Nothing is registered until the profile has validated: a bad profile stops here with one line naming the key.
"""

from __future__ import annotations

from typing import Any

import pulumi
from pulumi import Output

from avg_voip.profile import Profile, ProfileError, Provider, parse_profile
from infra.addressing import AddressingError, check_aws_vpc, host_subnet


def load_profile() -> Profile:
    raw = pulumi.Config().require_object("profile")
    try:
        profile = parse_profile(raw)
    except ProfileError as err:
        raise pulumi.RunError(str(err)) from None
    try:
        host_subnet(profile.network.vpc_cidr, profile.hosts.count)
        if profile.provider is Provider.AWS:
            check_aws_vpc(profile.network.vpc_cidr)
    except AddressingError as err:
        raise pulumi.RunError(str(err)) from None
    if profile.provider is Provider.AWS:
        region = pulumi.Config("aws").get("region")
        if region != profile.location:
            raise pulumi.RunError(
                f"aws:region: {region!r} must equal the profile location {profile.location!r} "
                "(resources without their own region land in the provider's region)"
            )
    return profile


def main() -> dict[str, Output[Any]]:
    profile = load_profile()
    stack = pulumi.get_stack()
    if profile.provider is Provider.AWS:
        from infra.aws_stack import build
    else:
        from infra.hcloud_stack import build
    outputs = build(profile, stack)
    for name, value in outputs.items():
        pulumi.export(name, value)
    return outputs
