"""validation: train the real two-layer CNN with torch and compare it with dynamics and theorykit.

Depends on dynamics and theorykit. Sub-packages by concern:

* ``validation.cnn`` -- the CNN in torch (data, model, optimisers, engine, readout, image CNN); the
  only place torch is imported;
* ``validation.sweeps`` -- declarative sweeps on any executor into an SQLite results store, and
  their reports;
* ``validation.experiments`` -- named experiments: the paper's presets, theory-vs-simulation
  comparisons, coefficient checks, real images;
* ``validation.cli`` -- the ``theorykit`` command line, one module per subcommand.

Top-level modules: ``specs`` (what a run is, torch-free), ``figures`` (matplotlib), ``tables``
(markdown), ``progress`` (tqdm).
"""
