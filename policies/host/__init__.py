"""Host policies: testinfra checks over SSH on the converged SIP hosts, one RuleMeta each.

Each check takes a HostContext (a testinfra host with sudo, the host's variables from the render, the
control-status facts the roles wrote) and returns Findings with source="host", so they merge with the plan
findings in one file. Checks never report PASS for what cannot be observed: those are NOT-VERIFIED.
"""

from policies.host.base import CHECKS, HostCheck, HostContext, host_check, run_checks

__all__ = ["CHECKS", "HostCheck", "HostContext", "host_check", "run_checks"]
