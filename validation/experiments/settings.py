"""The named settings of the experiments, in one registry: the paper's runs and the comparison
variants.

Every entry is (label, overrides of ``theorykit.tang2025_synthetic``), the paper's App. D.2 problem
(n = 200, d = 1000, s = 100, sigma_p = 0.1, alpha = 0.2, sigma0 = 0.01, m = 20, q = 3, eta = 5e-5).
"""

from __future__ import annotations

#: (optimizer, lam, B) of App. D.2: Tables 1-2 (B = 100 vs 2) and the large-lam runs of Figs 5-6.
PAPER_SETTINGS: tuple[tuple[str, float, int], ...] = (
    ("adam", 1e-5, 100),
    ("adam", 1e-5, 2),
    ("adamw", 0.01, 100),
    ("adamw", 0.01, 2),
    ("adam", 0.05, 2),
    ("adamw", 0.5, 2),
)

#: The paper's setting and one factor changed at a time (stuck thresholds, batch boundary).
COMPARISON_SETTINGS: tuple[tuple[str, dict], ...] = (
    ("paper (App. D.2)", {}),
    ("sigma0 = 0.005", {"sigma0": 0.005}),
    ("sigma0 = 0.02", {"sigma0": 0.02}),
    ("q = 4", {"q": 4}),
    ("m = 10", {"m": 10}),
    ("n = 100", {"n": 100}),
    ("s = 50", {"s": 50}),
    ("sigma_p = 0.2", {"sigma_p": 0.2}),
)

#: Disjoint supports (n s = 800 <= d - 1 = 999): the theory's regime, for the batch boundary.
DISJOINT_SETTINGS: tuple[tuple[str, dict], ...] = (
    ("disjoint, n = 40, s = 20", {"n": 40, "s": 20}),
    ("disjoint, n = 40, s = 20, sigma_p = 0.2", {"n": 40, "s": 20, "sigma_p": 0.2}),
    ("disjoint, n = 40, s = 20, sigma_p = 0.3", {"n": 40, "s": 20, "sigma_p": 0.3}),
)

# : Settings of the time-scale comparison at B = 100: T_r is linear in sigma0 and inverse in s
# sigma_p.
TIME_SCALE_SETTINGS: tuple[tuple[str, dict], ...] = (
    ("paper (App. D.2)", {}),
    ("sigma0 = 0.005", {"sigma0": 0.005}),
    ("sigma0 = 0.02", {"sigma0": 0.02}),
    ("s = 50", {"s": 50}),
    ("sigma_p = 0.2", {"sigma_p": 0.2}),
)

# : (optimizer, lam) of the large-batch runs of Tables 1-2: the batch-boundary and time-scale
# comparisons.
LARGE_BATCH_RUNS: tuple[tuple[str, float], ...] = (("adam", 1e-5), ("adamw", 0.01))
