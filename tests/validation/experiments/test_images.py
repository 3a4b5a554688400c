"""Real-image data: the CIFAR-10 reader on a tiny file in the python-pickle format, the digits
loader, and the image experiment end to end on a tiny sweep (writes its plots, resumes without
retraining)."""

import codecs
import pickle
from pathlib import Path

import numpy as np
import pytest

from theorykit import ParameterError
from validation.experiments.image_data import load_cifar10, load_digits
from validation.experiments.image_experiment import ImageSweep, run_image_experiment
from validation.experiments.image_report import best_batch_run
from validation.store.results import ResultsStore


def _write_batch(path: Path, images: np.ndarray, labels: list[int]) -> None:
    with path.open("wb") as stream:
        pickle.dump(
            {b"data": images.reshape(len(labels), -1), b"labels": labels, b"batch_label": b"tiny"},
            stream,
        )


def test_cifar_reader_reads_the_python_batch_format(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    train = rng.integers(0, 256, size=(4, 3, 32, 32), dtype=np.uint8)
    test = rng.integers(0, 256, size=(2, 3, 32, 32), dtype=np.uint8)
    _write_batch(tmp_path / "data_batch_1", train, [0, 3, 9, 1])
    _write_batch(tmp_path / "test_batch", test, [5, 2])
    split = load_cifar10(tmp_path, train_batches=("data_batch_1",))
    assert split.train_images.shape == (4, 3, 32, 32) and split.test_images.shape == (2, 3, 32, 32)
    np.testing.assert_allclose(split.train_images[2], train[2].astype(np.float32) / 255, rtol=1e-7)
    assert split.train_labels.tolist() == [0, 3, 9, 1] and split.classes == 10


def test_cifar_reader_names_what_is_missing_or_malformed(tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match="data_batch_1") as caught:
        load_cifar10(tmp_path)
    assert caught.value.name == "cifar_dir"
    (tmp_path / "data_batch_1").write_bytes(pickle.dumps({b"wrong": 1}))
    _write_batch(tmp_path / "test_batch", np.zeros((1, 3072), dtype=np.uint8), [0])
    with pytest.raises(ParameterError, match="b'data'"):
        load_cifar10(tmp_path, train_batches=("data_batch_1",))


class _TouchOnLoad:
    """A pickle whose loading would create ``marker`` (a stand-in for any payload)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[Path]]:
        return (Path.touch, (self.marker,))


@pytest.mark.parametrize("protocol", [0, 2, 5])
def test_cifar_reader_refuses_a_pickle_that_names_another_global_before_running_it(
    tmp_path: Path, protocol: int
) -> None:
    marker = tmp_path / "payload-ran"
    batch = {b"data": _TouchOnLoad(marker), b"labels": [0]}
    (tmp_path / "data_batch_1").write_bytes(pickle.dumps(batch, protocol=protocol))
    _write_batch(tmp_path / "test_batch", np.zeros((1, 3072), dtype=np.uint8), [0])
    with pytest.raises(ParameterError, match="refused unrun") as caught:
        load_cifar10(tmp_path, train_batches=("data_batch_1",))
    assert caught.value.name == "cifar_dir" and "\n" not in str(caught.value)
    assert "data_batch_1" in str(caught.value) and "names the global" in str(caught.value)
    assert not marker.exists()


class _OtherCodec:
    """A pickle calling ``_codecs.encode`` (allowed for latin-1 bytes literals) with zlib."""

    def __reduce__(self) -> tuple[object, tuple[bytes, str]]:
        return (codecs.encode, (b"payload", "zlib_codec"))


def test_cifar_reader_refuses_an_allowed_global_called_as_no_bytes_literal(tmp_path: Path) -> None:
    (tmp_path / "data_batch_1").write_bytes(pickle.dumps({b"data": _OtherCodec()}, protocol=2))
    _write_batch(tmp_path / "test_batch", np.zeros((1, 3072), dtype=np.uint8), [0])
    with pytest.raises(ParameterError, match="this one is not") as caught:
        load_cifar10(tmp_path, train_batches=("data_batch_1",))
    assert caught.value.name == "cifar_dir"


@pytest.mark.parametrize("protocol", [2, 5])
def test_cifar_reader_loads_a_genuine_batch_at_protocol_2_and_5(
    tmp_path: Path, protocol: int
) -> None:
    # The CIFAR-10 files are protocol 2 (numpy.core.multiarray._reconstruct, ndarray, dtype).
    data = np.arange(3 * 3072, dtype=np.int64).astype(np.uint8).reshape(3, 3072)
    batch = {b"batch_label": b"training batch 1 of 5", b"labels": [6, 9, 9], b"data": data}
    for name in ("data_batch_1", "test_batch"):
        (tmp_path / name).write_bytes(pickle.dumps(batch, protocol=protocol))
    split = load_cifar10(tmp_path, train_batches=("data_batch_1",))
    np.testing.assert_array_equal(split.train_images.reshape(3, -1) * 255, data)
    assert split.train_labels.tolist() == [6, 9, 9]


def test_digits_are_split_into_disjoint_scaled_sets() -> None:
    split = load_digits(test_fraction=0.4, seed=1)
    assert split.train_images.shape[1:] == (1, 8, 8)
    assert len(split.train_labels) + len(split.test_labels) == 1797
    assert float(split.train_images.min()) >= 0.0 and float(split.train_images.max()) <= 1.0
    assert split.classes == 10


def test_image_experiment_writes_plots_and_resumes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = load_digits()
    sweep = ImageSweep(
        batch_sizes=(32, 256),
        learning_rates=(5e-3, 1e-4),
        target_train_error=0.3,
        max_steps=60,
        adam_lams=(1e-4, 1e-1),
        adamw_lams=(1e-3, 0.5),
        lam_sweep_batch=32,
        epochs=1,
    )
    text = run_image_experiment("digits", data, tmp_path, sweep, device="cpu")
    assert text.split("\n## ")[1].startswith("Conclusion") and "reproduced (one seed each" in text
    records = ResultsStore(tmp_path / "results.sqlite").image_records("digits")
    assert len(records) == 2 * 2 * 2 + 4  # (optimiser, B, lr) of the batch sweep + lam sweep
    for optimizer, lam in sweep.batch_sweep_lams:
        for B in sweep.batch_sizes:
            runs = [records[run.key()] for run in sweep.batch_runs(optimizer, lam, B)]
            chosen = best_batch_run(records, sweep, optimizer, lam, B)
            reached = [r for r in runs if r["train_error"] <= 0.3]
            if reached:  # the best learning rate is the lowest test error among those fitted
                assert chosen["test_error"] == min(r["test_error"] for r in reached)
            for run in runs:  # stopped at the target after an epoch, or on the step budget
                epoch_steps = -(-len(data.train_labels) // B)
                assert run["train_error"] <= 0.3 or run["steps"] >= 60
                assert run["steps"] <= max(60, epoch_steps) + epoch_steps
    assert (tmp_path / "test_error_vs_batch.png").stat().st_size > 0
    assert (tmp_path / "test_error_vs_lambda.png").stat().st_size > 0
    assert (tmp_path / "results.sqlite").is_file()

    import validation.experiments.image_experiment as experiment

    def fail(*args: object, **kwargs: object) -> None:
        raise AssertionError("a finished run was trained again")

    monkeypatch.setattr(experiment, "train_image_run", fail)
    assert run_image_experiment("digits", data, tmp_path, sweep, device="cpu") == text
    with pytest.raises(ParameterError) as caught:
        run_image_experiment(
            "digits", data, tmp_path, ImageSweep(batch_sizes=(5000,)), device="cpu"
        )
    assert caught.value.name == "batch_sizes"
