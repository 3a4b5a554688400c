"""Declarative sweeps on any executor into an SQLite results store, and their reports.

``spec`` (TOML grids, checked before anything trains), ``records`` (run identity and the typed
:class:`~validation.sweeps.records.RunRecord`), ``store`` (the SQLite file), ``executors`` (inline,
process pool, Dask), ``runner`` (pending runs -> tasks -> store) and ``report`` (tables and
figures). Everything but ``runner`` and ``executors`` is torch-free.
"""
