"""Training and fine-tune runs: records, provenance statements, environment capture."""
