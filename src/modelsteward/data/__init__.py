"""Datasets: snapshots, tabular profiles, PII findings."""
