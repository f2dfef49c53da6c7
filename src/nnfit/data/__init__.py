"""Data: read the CSV, fit and apply preprocessing, split.

Knows pandas and the config, not the network."""
