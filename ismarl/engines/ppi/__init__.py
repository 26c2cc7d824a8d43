"""Predictive Policy Improvement (SPEC §4) as a training engine: one iteration is one phase."""
