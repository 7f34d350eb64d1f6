"""CKV_AVG_IAM_001: people assume roles only with MFA. Delegates to rule AVG-IAM-001 (policies/rules/)."""

from policies.checkov.delegate import DelegatingCheck

check = DelegatingCheck("AVG-IAM-001")
