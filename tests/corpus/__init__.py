"""Shared test material: rendered example stacks (cached), converters from records to Pulumi's documented
preview and export formats, and the violation corpus (every rule's failing and passing record sets)."""
