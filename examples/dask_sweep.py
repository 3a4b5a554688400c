"""A sweep on a Dask cluster: batch size x optimiser, trained by the cluster's workers, stored and
reported by this driver.

The driver expands the sweep (every value checked before anything trains), sends one task per
stacked ensemble to the workers through ``dask://HOST:PORT`` (validation.sweeps.executors) and
writes each finished group to the SQLite store at once; workers need this package installed, not a
shared file system. Three ways to get a scheduler:

    python examples/dask_sweep.py                       # a LocalCluster on this machine
    python examples/dask_sweep.py --scheduler HOST:8786 # a running cluster
    python examples/dask_sweep.py --slurm 4             # 4 SLURM jobs via dask-jobqueue

(``--slurm`` needs ``pip install dask-jobqueue`` and a SLURM login node; the job's cores, memory
and walltime below are a template to adapt.) Writes ``runs/examples/dask-sweep/`` with
``results.sqlite``, ``report.md`` and ``test_error_vs_batch.png``.
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator
from pathlib import Path

from validation.sweeps.executors import open_executor
from validation.sweeps.report import write_sweep_report
from validation.sweeps.runner import run_sweep
from validation.sweeps.spec import parse_spec_text
from validation.sweeps.store import ResultsStore

SPEC = """
name = "dask-sweep"
seeds = [0, 1]
[params]
eta = 5e-5
epochs = {epochs}
bias_correction = true
{extra}
[grid]
optimizer = ["adam", "adamw"]
B = {batches}
lam = [0.01]
[engine]
record_every = {record_every}
test_size = 1000
"""


@contextlib.contextmanager
def scheduler(address: str | None, slurm_jobs: int, smoke: bool) -> Iterator[str]:
    """HOST:PORT of a Dask scheduler: the given one, a SLURMCluster's, or a LocalCluster's."""
    if address:
        yield address
        return
    if slurm_jobs:
        from dask_jobqueue import SLURMCluster
        from distributed import Client

        with SLURMCluster(cores=8, processes=1, memory="16GB", walltime="02:00:00") as cluster:
            cluster.scale(jobs=slurm_jobs)
            with Client(cluster) as client:
                client.wait_for_workers(1)
                yield cluster.scheduler_address.removeprefix("tcp://")
        return
    from distributed import LocalCluster

    workers = 1 if smoke else 2
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True) as cluster:
        yield cluster.scheduler_address.removeprefix("tcp://")


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scheduler", default=None, metavar="HOST:PORT")
    parser.add_argument("--slurm", type=int, default=0, metavar="JOBS")
    parser.add_argument("--out", default="runs/examples/dask-sweep", help="output directory")
    parser.add_argument("--smoke", action="store_true", help="a tiny sweep, for the tests")
    args = parser.parse_args(argv)
    if args.smoke:
        text = SPEC.format(
            epochs=5, extra="n = 40\ns = 20\nm = 5", batches="[4, 20]", record_every=5
        )
    else:
        text = SPEC.format(epochs=300, extra="", batches="[2, 10, 50, 100]", record_every=25)
    spec = parse_spec_text(text)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with (
        scheduler(args.scheduler, args.slurm, args.smoke) as address,
        open_executor(f"dask://{address}") as executor,
        ResultsStore(out / "results.sqlite") as store,
    ):
        outcome = run_sweep(spec, store, executor)
    print(
        f"{outcome.added} runs trained, {outcome.already} already stored, errors: "
        f"{list(outcome.errors) or 'none'}"
    )
    write_sweep_report(out / "results.sqlite", out)
    path = out / "test_error_vs_batch.png"
    print(f"written: {out / 'report.md'}, {path}")
    return path


if __name__ == "__main__":
    main()
