"""Advantage actor-critic with recurrent agents: config and engine."""
