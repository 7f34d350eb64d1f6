"""CKV_AVG_NET_001: no plain SIP (5060) on security groups and Hetzner firewalls. Delegates to rule AVG-NET-001 (policies/rules/)."""

from policies.checkov.delegate import DelegatingCheck

check = DelegatingCheck("AVG-NET-001")
