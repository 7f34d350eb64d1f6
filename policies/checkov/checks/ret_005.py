"""CKV_AVG_RET_005: noncurrent versions and incomplete uploads are removed. Delegates to rule AVG-RET-005 (policies/rules/)."""

from policies.checkov.delegate import DelegatingCheck

check = DelegatingCheck("AVG-RET-005")
