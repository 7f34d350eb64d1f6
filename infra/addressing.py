"""Private addressing of the SIP hosts, the same on both providers: one subnet, sized for the host count."""

from __future__ import annotations

import ipaddress
import math

# Addresses kept free at the start of the subnet: AWS reserves the first four, Hetzner uses the first as
# gateway; hosts start after them.
FIRST_HOST_OFFSET = 10
SPARE_ADDRESSES = 16
AWS_VPC_PREFIXES = range(16, 29)  # AWS accepts VPC blocks from /16 to /28


class AddressingError(ValueError):
    """The profile's network cannot hold its hosts; `key` is the profile key to change."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}")
        self.key = key


def host_subnet(vpc_cidr: str, host_count: int) -> str:
    """The first subnet of the network that holds every host: a /24, or larger for many hosts."""
    net = ipaddress.ip_network(vpc_cidr)
    needed = host_count + FIRST_HOST_OFFSET + SPARE_ADDRESSES
    prefix = min(24, net.max_prefixlen - math.ceil(math.log2(needed)))
    if prefix < net.prefixlen:
        raise AddressingError(
            "network.vpc_cidr",
            f"{vpc_cidr} holds {net.num_addresses} addresses, too few for {host_count} hosts; use a larger range",
        )
    return str(next(net.subnets(new_prefix=prefix)))


def host_address(subnet: str, index: int) -> str:
    """Private address of host `index` (1-based)."""
    return str(ipaddress.ip_network(subnet).network_address + FIRST_HOST_OFFSET + index)


def check_aws_vpc(vpc_cidr: str) -> None:
    prefix = ipaddress.ip_network(vpc_cidr).prefixlen
    if prefix not in AWS_VPC_PREFIXES:
        raise AddressingError("network.vpc_cidr", f"{vpc_cidr}: an AWS VPC must be between /16 and /28")
