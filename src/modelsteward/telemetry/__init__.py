"""Telemetry written by running models and gates: Parquet files that any engine can read.

Pure domain code over files; the ledger is reached through a callback the services supply.
"""
