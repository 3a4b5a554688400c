"""Declarative sweeps on any executor into the results store.

``grid`` (TOML grids of runs, checked before anything trains), ``preflight`` (run names and
memory, checked before anything trains), ``executors`` (inline, process pool, Dask) and
``runner`` (pending runs -> tasks -> :mod:`validation.store`).
"""
