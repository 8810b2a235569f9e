"""Baselines that let the benchmark run end to end before any student is trained."""
