"""Benchmark: the data set registry, loaders, the runner and its reports."""
