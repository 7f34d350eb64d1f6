"""CKV_AVG_RET_004: retention bounds of backups. Delegates to rule AVG-RET-004 (policies/rules/)."""

from policies.checkov.delegate import DelegatingCheck

check = DelegatingCheck("AVG-RET-004")
