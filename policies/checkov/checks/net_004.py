"""CKV_AVG_NET_004: every SIP server is covered by a firewall or security group in the stack. Delegates to rule AVG-NET-004 (policies/rules/)."""

from policies.checkov.delegate import DelegatingCheck

check = DelegatingCheck("AVG-NET-004")
