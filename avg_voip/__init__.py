"""EU-only VoIP hosting that complies with the AVG (GDPR), and the policy-as-code that proves it."""

__version__ = "0.1.0"
