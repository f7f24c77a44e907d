"""The model registry: versions named by content, aliases, lineage and suppliers (pure rules)."""
