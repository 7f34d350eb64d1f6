"""CKV_AVG_NET_003: only SIP/TLS, the RTP range and SSH admitted (Hetzner firewalls too). Delegates to rule AVG-NET-003 (policies/rules/)."""

from policies.checkov.delegate import DelegatingCheck

check = DelegatingCheck("AVG-NET-003")
