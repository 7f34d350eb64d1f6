"""CKV_AVG_NET_002: SSH only from the profile's admin CIDRs (Hetzner firewalls too). Delegates to rule AVG-NET-002 (policies/rules/)."""

from policies.checkov.delegate import DelegatingCheck

check = DelegatingCheck("AVG-NET-002")
