"""validation: train the real two-layer CNN with torch and compare with dynamics and theorykit.

Depends on dynamics and theorykit. Engine (``engine``, ``model``, ``optim``, ``data``), named
experiments and their reports (``presets``, ``report``, ``plots``), declarative sweeps on any
executor into an SQLite store (``sweep_spec``, ``sweep``, ``executors``, ``store``,
``sweep_report``), theory-vs-simulation checks (``coefficient_check``, ``comparison``) and real
images (``image_data``, ``image_experiment``).
"""
