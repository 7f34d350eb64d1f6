"""CKV_AVG_RET_002: retention bounds of audit logs (bucket lifecycle, log groups). Delegates to rule AVG-RET-002 (policies/rules/)."""

from policies.checkov.delegate import DelegatingCheck

check = DelegatingCheck("AVG-RET-002")
