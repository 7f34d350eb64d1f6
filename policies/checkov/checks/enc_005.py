"""CKV_AVG_ENC_005: Hetzner volumes are LUKS-encrypted on the host. Delegates to rule AVG-ENC-005 (policies/rules/)."""

from policies.checkov.delegate import DelegatingCheck

check = DelegatingCheck("AVG-ENC-005")
