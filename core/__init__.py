"""What every layer of policyspec shares, and nothing else: the code registry, the one
diagnostic type and its renderers, lint settings, the confession contract and the atomic
file writer. It imports no other package of the project (docs/architecture.md)."""
