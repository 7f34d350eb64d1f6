"""CKV_AVG_RES_001: residency of every resource (its own region first, then its provider's; Hetzner locations). Delegates to rule AVG-RES-001 (policies/rules/)."""

from policies.checkov.delegate import DelegatingCheck

check = DelegatingCheck("AVG-RES-001")
