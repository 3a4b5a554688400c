"""The SQLite results store, torch-free: runs, predictions, claims and exports.

``results`` (:class:`~validation.store.results.ResultsStore`), ``rows`` (a record as a database
row and back, damaged rows reported) and ``files`` (where a store lives, and which targets must
never overwrite it).
"""
