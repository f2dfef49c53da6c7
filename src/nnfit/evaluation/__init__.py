"""Scoring a trained network: metrics, the input-ignoring baseline, the fit diagnosis."""
