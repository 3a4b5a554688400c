"""validation: train the real two-layer CNN with torch and compare it with dynamics and theorykit.

Depends on dynamics and theorykit. Sub-packages by concern:

* ``validation.cnn`` -- the CNN in torch (data, model, optimisers, engine, readout, image CNN); the
  only place torch is imported;
* ``validation.sweeps`` -- declarative sweeps on any executor into an SQLite results store, and
  their reports;
* ``validation.experiments`` -- named experiments: the paper's presets, theory-vs-simulation
  comparisons, coefficient checks, real images;
* ``validation.cli`` -- the ``theorykit`` command line, one module per subcommand.

Top-level modules: ``specs`` (what a run is, torch-free), ``agreement`` (a prediction against a
stored run, torch-free), ``figures`` (matplotlib), ``tables`` (markdown), ``progress`` (tqdm).

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
    "RunSpec": "validation.specs",
    "EngineOptions": "validation.specs",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
