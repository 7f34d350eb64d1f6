"""CKV_AVG_RES_004: residency of S3 replication targets and KMS replica keys. Delegates to rule AVG-RES-004 (policies/rules/)."""

from policies.checkov.delegate import DelegatingCheck

check = DelegatingCheck("AVG-RES-004")
