"""Probabilistic matching in the registry: blocking keys, models, review queue, link history."""
