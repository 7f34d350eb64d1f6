"""Every host check module; importing this package registers them in policies.host.base.CHECKS."""

from policies.host.checks import access, facts, firewall, patching, reboot, retention, sip_tls, ssh

__all__ = ["access", "facts", "firewall", "patching", "reboot", "retention", "sip_tls", "ssh"]
