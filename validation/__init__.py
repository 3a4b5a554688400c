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
* :class:`RunSpec`, :class:`EngineOptions`, :class:`RunRecord` -- what a run is, how it trains,
  what it recorded (:mod:`validation.runs`);
* :func:`train` -- the CNN of Tang et al. Def. 3.2 trained as stacked ensembles
  (:mod:`validation.cnn.engine`);
* :class:`ResultsStore` -- the SQLite results store (:mod:`validation.store`);
* :func:`load_spec`, :func:`parse_spec_text`, :func:`run_sweep`, :func:`train_or_resume`,
  :func:`open_executor` -- sweeps on any executor (:mod:`validation.sweeps`);
* :func:`write_sweep_report` -- a store's report (:mod:`validation.reports.store_report`); figures:
  :mod:`validation.reports.figures`;
* :func:`run_reporting_errors`, :func:`check_out_dir`, :class:`MachineError` -- how a script ends
  in one line and an exit status, as every command does (:mod:`validation.cli`).
"""

from __future__ import annotations

from theorykit.lazy_exports import lazy_exports

#: Public name -> the module that defines it.
_EXPORTS = {
    "EngineOptions": "validation.runs.spec",
    "MachineError": "validation.errors",
    "ResultsStore": "validation.store.results",
    "RunRecord": "validation.runs.records",
    "RunSpec": "validation.runs.spec",
    "SettingComparison": "validation.experiments.setting_comparison",
    "check_out_dir": "validation.cli.common",
    "compare_setting": "validation.experiments.setting_comparison",
    "load_spec": "validation.sweeps.grid",
    "open_executor": "validation.sweeps.executors",
    "parse_spec_text": "validation.sweeps.grid",
    "run_reporting_errors": "validation.cli.entry_points",
    "run_sweep": "validation.sweeps.runner",
    "train": "validation.cnn.engine",
    "train_or_resume": "validation.sweeps.runner",
    "write_sweep_report": "validation.reports.store_report",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
