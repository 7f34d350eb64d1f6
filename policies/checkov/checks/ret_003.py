"""CKV_AVG_RET_003: retention bounds on the Hetzner hosts (carried to Ansible). Delegates to rule AVG-RET-003 (policies/rules/)."""

from policies.checkov.delegate import DelegatingCheck

check = DelegatingCheck("AVG-RET-003")
