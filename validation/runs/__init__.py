"""What a run is, torch-free: the bottom room of validation.

``spec`` (:class:`~validation.runs.spec.RunSpec`, :class:`~validation.runs.spec.EngineOptions`,
how runs are grouped), ``records`` (a run's identity and its typed
:class:`~validation.runs.records.RunRecord`), ``sizing`` (what a run costs, before it trains) and
``provenance`` (the software and machine a result came from).
"""
