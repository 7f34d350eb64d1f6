"""VPC with a public subnet for the SIP hosts, a default security group that allows nothing, and flow logs."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws
from pulumi import Output, ResourceOptions

from infra.components.aws_iam import policy_document, service_trust_policy

# CloudWatch Logs accepts only these retention periods (days).
CLOUDWATCH_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
)  # fmt: skip


def cloudwatch_retention(days: int) -> int:
    """The longest period CloudWatch accepts that does not exceed `days`.

    The profile's retention is an upper bound (Art. 5(1)(e)): rounding up would keep logs longer than allowed,
    so 730 days becomes 545, never 731.
    """
    allowed = [d for d in CLOUDWATCH_RETENTION_DAYS if d <= days]
    return allowed[-1] if allowed else CLOUDWATCH_RETENTION_DAYS[0]


def vpc_resolver(vpc_cidr: str) -> str:
    """The Amazon-provided DNS resolver sits at the VPC base address plus two."""
    net = ipaddress.ip_network(vpc_cidr)
    return f"{net.network_address + 2}/32"


@dataclass(frozen=True)
class NetworkArgs:
    vpc_cidr: str
    subnet_cidr: str  # inside vpc_cidr, sized for the hosts (infra.addressing)
    availability_zone: str
    log_retention_days: int  # the profile's bound; rounded down to a value CloudWatch accepts
    logs_kms_key_arn: Output[str]
    tags: dict[str, str] = field(default_factory=dict)


class Network(pulumi.ComponentResource):
    vpc: aws.ec2.Vpc
    subnet: aws.ec2.Subnet
    flow_log_group: aws.cloudwatch.LogGroup

    def __init__(self, name: str, args: NetworkArgs, opts: ResourceOptions | None = None) -> None:
        super().__init__("avg-voip:aws:Network", name, None, opts)
        child = ResourceOptions(parent=self)
        tags = args.tags
        self.vpc = aws.ec2.Vpc(
            name,
            cidr_block=args.vpc_cidr,
            enable_dns_support=True,
            enable_dns_hostnames=True,
            tags={**tags, "Name": f"{tags.get('avg-voip:stack', name)}-vpc"},
            opts=child,
        )
        # The default group of the VPC is taken over and left without rules: nothing may use it by accident.
        aws.ec2.DefaultSecurityGroup(name, vpc_id=self.vpc.id, ingress=[], egress=[], tags=tags, opts=child)
        igw = aws.ec2.InternetGateway(name, vpc_id=self.vpc.id, tags=tags, opts=child)
        self.subnet = aws.ec2.Subnet(
            "public-a",
            vpc_id=self.vpc.id,
            cidr_block=args.subnet_cidr,
            availability_zone=args.availability_zone,
            map_public_ip_on_launch=False,  # hosts get an Elastic IP each, nothing else is public
            tags=tags,
            opts=child,
        )
        routes = aws.ec2.RouteTable(
            "public",
            vpc_id=self.vpc.id,
            routes=[aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", gateway_id=igw.id)],
            tags=tags,
            opts=child,
        )
        aws.ec2.RouteTableAssociation(
            "public-a", subnet_id=self.subnet.id, route_table_id=routes.id, opts=child
        )

        self.flow_log_group = aws.cloudwatch.LogGroup(
            "flow-logs",
            retention_in_days=cloudwatch_retention(args.log_retention_days),
            kms_key_id=args.logs_kms_key_arn,
            tags=tags,
            opts=child,
        )
        role = aws.iam.Role(
            "flow-logs",
            description="VPC flow logs deliver to their encrypted log group",
            assume_role_policy=service_trust_policy("vpc-flow-logs.amazonaws.com"),
            tags=tags,
            opts=child,
        )
        aws.iam.RolePolicy(
            "flow-logs",
            role=role.id,
            policy=self.flow_log_group.arn.apply(
                lambda arn: policy_document(
                    [
                        {
                            "Effect": "Allow",
                            "Action": [
                                "logs:CreateLogStream",
                                "logs:PutLogEvents",
                                "logs:DescribeLogGroups",
                                "logs:DescribeLogStreams",
                            ],
                            "Resource": [arn, f"{arn}:*"],
                        }
                    ]
                )
            ),
            opts=child,
        )
        aws.ec2.FlowLog(
            name,
            vpc_id=self.vpc.id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=self.flow_log_group.arn,
            iam_role_arn=role.arn,
            tags=tags,
            opts=child,
        )
        self.register_outputs({"vpc_id": self.vpc.id, "subnet_id": self.subnet.id})
