"""Real image data sets, read locally (no downloads at run time).

* :func:`load_digits` -- scikit-learn's bundled 8 x 8 handwritten digits (1797 images, 10 classes),
  pixel values scaled to [0, 1], split into a fixed train/test partition by ``seed``.
* :func:`load_cifar10` -- CIFAR-10 from the standard "python version" directory (``data_batch_1``
  ... ``data_batch_5`` and ``test_batch``: pickled dicts with ``b"data"``, uint8 (N, 3072) in
  channel-major order, and ``b"labels"``), as used by Tang et al. 2025, Sec. 4 / App. D.1. The
  batches are unpickled by :class:`CifarUnpickler`, which builds dicts, lists, bytes, str, numbers
  and numpy arrays only: a file that names any other global is refused before it can run code.

Both return :class:`ImageSplit` numpy arrays: images (N, C, H, W) float32 in [0, 1], labels (N,)
int64 (``validation.cnn.image_training`` moves them to the device).
"""

from __future__ import annotations

import dataclasses
import pickle
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import numpy.typing as npt

from theorykit.errors import ParameterError

CIFAR_TRAIN_BATCHES = tuple(f"data_batch_{k}" for k in range(1, 6))
CIFAR_TEST_BATCH = "test_batch"


def _latin1_bytes(text: str, encoding: str) -> bytes:
    """``_codecs.encode`` as Python 3 uses it to pickle bytes at protocol 2 (``encoding`` is
    ``"latin1"``); any other codec is refused, so a file cannot reach the codec registry."""
    if encoding != "latin1" or not isinstance(text, str):
        raise pickle.UnpicklingError(f"_codecs.encode with {encoding!r} is not a bytes literal")
    return text.encode("latin1")


def _allowed_globals() -> dict[tuple[str, str], object]:
    """(module, name) -> object for every global a CIFAR-10 python batch may name: a numpy array's
    constructors under numpy 1's module names (``numpy.core``, as in the CIFAR-10 files) and numpy
    2's (``numpy._core``), and ``_codecs.encode`` for latin-1 only (:func:`_latin1_bytes`). The
    objects are taken from the loaded numpy, so no module is imported by the name a file gives.
    """
    core = getattr(np, "_core", None) or np.core
    allowed: dict[tuple[str, str], object] = {
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
        ("_codecs", "encode"): _latin1_bytes,
    }
    for package in ("numpy.core", "numpy._core"):
        allowed[(f"{package}.multiarray", "_reconstruct")] = core.multiarray._reconstruct
        allowed[(f"{package}.numeric", "_frombuffer")] = core.numeric._frombuffer
    return allowed


class CifarUnpickler(pickle.Unpickler):
    """Unpickles a CIFAR-10 python batch and nothing else: dicts, lists, bytes, str and numbers
    are pickle opcodes, and the only globals resolved are those of :func:`_allowed_globals`
    (numpy arrays). Any other global -- ``os.system``, ``builtins.eval``, a class whose
    ``__reduce__`` runs code -- raises :class:`ParameterError` ``cifar_dir`` naming it, before
    anything it names is called."""

    _ALLOWED = _allowed_globals()

    def __init__(self, stream: BinaryIO, path: Path) -> None:
        super().__init__(stream, encoding="bytes")
        self.path = path

    def find_class(self, module: str, name: str) -> Any:
        try:
            return self._ALLOWED[(module, name)]
        except KeyError:
            raise ParameterError(
                "cifar_dir",
                str(self.path),
                f"a CIFAR-10 python batch (dicts, lists, bytes and numpy arrays only); this file "
                f"names the global {module}.{name}, refused unrun",
            ) from None


@dataclasses.dataclass(frozen=True)
class ImageSplit:
    """Train and test images (N, C, H, W) in [0, 1] and integer labels (N,)."""

    train_images: npt.NDArray[np.float32]
    train_labels: npt.NDArray[np.int64]
    test_images: npt.NDArray[np.float32]
    test_labels: npt.NDArray[np.int64]

    @property
    def classes(self) -> int:
        return int(max(self.train_labels.max(), self.test_labels.max())) + 1


def load_digits(test_fraction: float = 0.4, seed: int = 0) -> ImageSplit:
    """scikit-learn's 8 x 8 digits, one channel, values / 16, shuffled by ``seed`` and split."""
    if not 0 < test_fraction < 1:
        raise ParameterError("test_fraction", test_fraction, "0 < test_fraction < 1")
    try:
        from sklearn.datasets import load_digits as sklearn_digits
    except ImportError:
        raise ParameterError(
            "dataset", "digits", "needs scikit-learn (pip install scikit-learn)"
        ) from None
    digits = sklearn_digits()
    order = np.random.default_rng(seed).permutation(len(digits.target))
    images = (digits.images[order] / 16.0).astype(np.float32)[:, None]
    labels = digits.target[order].astype(np.int64)
    cut = round(len(labels) * (1 - test_fraction))
    return ImageSplit(images[:cut], labels[:cut], images[cut:], labels[cut:])


def _read_cifar_batch(path: Path) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int64]]:
    try:
        with path.open("rb") as stream:
            batch = CifarUnpickler(stream, path).load()
    except ParameterError:
        raise
    except (
        pickle.UnpicklingError,
        EOFError,
        ValueError,
        TypeError,
        AttributeError,
        ImportError,
        IndexError,
        KeyError,
        OverflowError,
    ):
        raise ParameterError(
            "cifar_dir", str(path), "a CIFAR-10 python batch (a pickle file; this one is not)"
        ) from None
    try:
        data, labels = (
            np.asarray(batch[b"data"], dtype=np.uint8),
            np.asarray(batch[b"labels"], dtype=np.int64),
        )
    except (KeyError, TypeError):
        raise ParameterError(
            "cifar_dir", str(path), "a CIFAR-10 python batch: a dict with b'data' and b'labels'"
        ) from None
    if data.ndim != 2 or data.shape[1] != 3 * 32 * 32 or len(labels) != len(data):
        raise ParameterError(
            "cifar_dir", str(path), f"b'data' of shape (N, 3072) with N labels, got {data.shape}"
        )
    images = data.reshape(-1, 3, 32, 32).astype(np.float32) / 255.0
    return images, labels


def load_cifar10(
    directory: str | Path, train_batches: tuple[str, ...] = CIFAR_TRAIN_BATCHES
) -> ImageSplit:
    """CIFAR-10 from ``directory`` (the extracted ``cifar-10-batches-py``); a clear error if files
    are missing."""
    root = Path(directory)
    missing = [name for name in (*train_batches, CIFAR_TEST_BATCH) if not (root / name).is_file()]
    if missing:
        raise ParameterError(
            "cifar_dir",
            str(root),
            f"a directory holding {', '.join(missing)} "
            "(the CIFAR-10 python version; nothing is downloaded)",
        )
    train = [_read_cifar_batch(root / name) for name in train_batches]
    test_images, test_labels = _read_cifar_batch(root / CIFAR_TEST_BATCH)
    return ImageSplit(
        np.concatenate([images for images, _ in train]),
        np.concatenate([labels for _, labels in train]),
        test_images,
        test_labels,
    )
