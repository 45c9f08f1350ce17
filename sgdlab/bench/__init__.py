"""Benchmarks: ``python -m sgdlab.bench`` (the Numba core, :mod:`sgdlab.bench.core`) and
``python -m sgdlab.bench probe`` (the PyTorch probes, :mod:`sgdlab.bench.probe`, which alone
imports torch)."""
