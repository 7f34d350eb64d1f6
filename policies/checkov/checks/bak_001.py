"""CKV_AVG_BAK_001: backups enabled (Hetzner servers, AWS Backup plan). Delegates to rule AVG-BAK-001 (policies/rules/)."""

from policies.checkov.delegate import DelegatingCheck

check = DelegatingCheck("AVG-BAK-001")
