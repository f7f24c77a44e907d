"""Evaluation: scenario results, statistics, reports, baselines, regressions and ODD coverage."""
