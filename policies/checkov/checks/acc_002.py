"""CKV_AVG_ACC_002: bucket policy denies requests without TLS. Delegates to rule AVG-ACC-002 (policies/rules/)."""

from policies.checkov.delegate import DelegatingCheck

check = DelegatingCheck("AVG-ACC-002")
