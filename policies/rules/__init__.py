"""The AVG rule catalogue: one rule per file. `policies.engine.all_rules()` imports them all."""
