"""CKV_AVG_RES_003: residency of AWS Backup copy destinations. Delegates to rule AVG-RES-003 (policies/rules/)."""

from policies.checkov.delegate import DelegatingCheck

check = DelegatingCheck("AVG-RES-003")
