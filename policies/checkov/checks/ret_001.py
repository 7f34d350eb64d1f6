"""CKV_AVG_RET_001: retention bounds: each category's lifecycle rule on its prefix, enabled, within the profile. Delegates to rule AVG-RET-001 (policies/rules/)."""

from policies.checkov.delegate import DelegatingCheck

check = DelegatingCheck("AVG-RET-001")
