"""validation: train the real two-layer CNN with torch and compare it with dynamics and theorykit.

Depends on dynamics and theorykit. Rooms, each importing only those below it (an import-linter
layers contract in CI):

* ``validation.cli`` -- the ``theorykit`` command line, one module per subcommand;
* ``validation.experiments`` -- named experiments: the paper's presets, theory-vs-simulation
  comparisons, coefficient checks, real images;
* ``validation.reports`` -- tables, figures, agreement, verdicts, a store's report (torch-free);
* ``validation.sweeps`` -- declarative sweeps on any executor;
* ``validation.cnn`` -- the CNN in torch (data, model, optimisers, engine, readout, image CNN); the
  only place torch is imported -- and, beside it, ``validation.store``, the SQLite results store;
* ``validation.runs`` -- what a run is (spec, record, sizing, provenance), torch-free;
* leaves: ``errors``, ``progress`` (tqdm), ``termination`` (signals).

Public names, imported on first use (``import validation`` loads no torch):

* :func:`compare_setting`, :class:`SettingComparison` -- one setting's theory, reduced prediction
  and CNN measurement side by side (:mod:`validation.experiments.setting_comparison`);
* :class:`RunSpec`, :class:`EngineOptions` -- what a run is and how it trains.
"""

from __future__ import annotations

from theorykit.lazy_exports import lazy_exports

_EXPORTS = {
    "compare_setting": "validation.experiments.setting_comparison",
    "SettingComparison": "validation.experiments.setting_comparison",
    "RunSpec": "validation.runs.spec",
    "EngineOptions": "validation.runs.spec",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
