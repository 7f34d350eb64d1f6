"""CKV_AVG_LOG_001: CloudTrail S3 data events (read and write) on the recordings bucket. Delegates to rule AVG-LOG-001 (policies/rules/)."""

from policies.checkov.delegate import DelegatingCheck

check = DelegatingCheck("AVG-LOG-001")
