"""Licensing: the versioned licence knowledge base and the lineage licence review."""
