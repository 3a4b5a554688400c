"""The SQLite results store, torch-free: runs, predictions, claims and exports.

``results`` (:class:`~validation.store.results.ResultsStore`, the rows), ``connection`` (the file
opened or refused, each write one transaction), ``leases`` (the claims drivers take, renew and
release), ``heartbeat`` (the thread that renews a driver's leases), ``exports`` (flat rows, pandas
frames, CSV and Parquet), ``rows`` (a record as a database row and back, damaged rows reported)
and ``files`` (where a store lives, and which targets must never overwrite it).
"""
