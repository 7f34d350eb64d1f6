"""CKV_AVG_KMS_001: KMS keys are single-region. Delegates to rule AVG-KMS-001 (policies/rules/)."""

from policies.checkov.delegate import DelegatingCheck

check = DelegatingCheck("AVG-KMS-001")
