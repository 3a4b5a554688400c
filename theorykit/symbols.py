"""Sympy symbols for every quantity of the theory.

Parameter symbols carry the names of the :class:`~theorykit.params.ProblemParams` fields, so a
formula built from them evaluates directly at a parameter object. Dynamic quantities (coefficients,
loss derivatives, Adam moments) and the theorems' hidden constants are separate symbols.

Notation follows Tang et al. 2025 (arXiv 2510.11354), Sec. 3 and Appendix A: gamma_{j,r} = <w_{j,r},
j v> (feature learning), rho_{j,r,i} = <w_{j,r}, xi_i> (noise memorisation), zeta_{j,r,i} = sum_{k
in B_i} w_{j,r}[k] xi_i[k] (its pure-noise part), ell_{j,i} = 1[y_i = j] - logit_j.
"""

from __future__ import annotations

import sympy as sp

# --- problem parameters (names == ProblemParams fields) ----------------------------------------
n = sp.Symbol("n", positive=True)
d = sp.Symbol("d", positive=True)
s = sp.Symbol("s", positive=True)
sigma_p = sp.Symbol("sigma_p", positive=True)
alpha = sp.Symbol("alpha", nonnegative=True)
m = sp.Symbol("m", positive=True)
q = sp.Symbol("q", positive=True)
sigma0 = sp.Symbol("sigma0", positive=True)
eta = sp.Symbol("eta", positive=True)
B = sp.Symbol("B", positive=True)
lam = sp.Symbol("lam", nonnegative=True)
beta1 = sp.Symbol("beta1", nonnegative=True)
beta2 = sp.Symbol("beta2", nonnegative=True)
eps = sp.Symbol("eps", nonnegative=True)

PARAMETERS: tuple[sp.Symbol, ...] = (
    n,
    d,
    s,
    sigma_p,
    alpha,
    m,
    q,
    sigma0,
    eta,
    B,
    lam,
    beta1,
    beta2,
    eps,
)

#: The rules a formula argument named after a parameter must meet (``Formula.__call__`` checks
#: them, as ``ProblemParams`` does): (lower bound, whether the bound is allowed, the rule in words).
PARAMETER_RULES: dict[str, tuple[float, bool, str]] = {
    **{
        symbol.name: (0.0, bool(symbol.is_nonnegative and not symbol.is_positive), "")
        for symbol in PARAMETERS
    },
    "q": (3.0, True, "q >= 3 (ReLU^q activation; Def. 3.2)"),
}

# --- derived scalars evaluated from the parameters (see theorykit.initialization) ---------------
gamma0 = sp.Symbol("gamma0", positive=True)  # max_r <w^(0)_{j,r}, j v>, the best filter at init
noise_norm = sp.Symbol(
    "noise_norm", positive=True
)  # sqrt(E||xi||_2^2) = sqrt(s sigma_p^2 + alpha^2)

# --- dynamic quantities ---------------------------------------------------------------------------
gamma = sp.Symbol("gamma", real=True)  # <w_{j,r}, j v>
rho = sp.Symbol("rho", real=True)  # <w_{j,r}, xi_i>
zeta = sp.Symbol("zeta", real=True)  # sum_{k in B_i} w_{j,r}[k] xi_i[k]
w_k = sp.Symbol("w_k", real=True)  # one noise coordinate w_{j,r}[k], k in B_i
xi_k = sp.Symbol("xi_k", real=True)  # xi_i[k]
ell = sp.Symbol("ell", real=True)  # ell_{j,i} (signed loss derivative)
abs_ell = sp.Symbol("abs_ell", nonnegative=True)  # |ell_{j,i}| = j y_i ell_{j,i} (Lemma A.6)
jy = sp.Symbol("jy", real=True)  # j * y_i in {-1, +1}
sampled = sp.Symbol("sampled", nonnegative=True)  # 1[i in I_t]
drive = sp.Symbol("drive", real=True)  # batch-mean data drive of a coordinate
grad = sp.Symbol("grad", real=True)  # one coordinate of a gradient
mom1 = sp.Symbol("mom1", real=True)  # Adam first moment m
mom2 = sp.Symbol("mom2", nonnegative=True)  # Adam second moment v
t = sp.Symbol("t", positive=True, integer=True)  # iteration counter (1-based after the step)
P = sp.Symbol("P", positive=True)  # period n/B of a sample's reappearance (Lemma C.2)
tau = sp.Symbol("tau", nonnegative=True)  # position of a sample inside its epoch
l1_noise = sp.Symbol("l1_noise", positive=True)  # ||xi_i||_{1, B_i}
l2sq_noise = sp.Symbol("l2sq_noise", positive=True)  # ||xi_i||_{2, B_i}^2
gamma_next = sp.Symbol("gamma_next", real=True)  # gamma after the same step (couples rho to gamma)
horizon = sp.Symbol("horizon", positive=True)  # training horizon in iterations
W0 = sp.Symbol("W0", positive=True)  # the largest initial |weight|, sigma0 E[max |Z|] over 2 m d
rate_ratio = sp.Symbol("rate_ratio", positive=True)  # noise over feature growth per iteration
reversal_ratio = sp.Symbol("reversal_ratio", positive=True)  # rho/gamma at the feature's reversal
#: fraction of a head's samples whose noise outgrows Adam's coupled decay (theorykit.noise_decay)
escape_fraction = sp.Symbol("escape_fraction", positive=True)
rho0 = sp.Symbol("rho0", positive=True)  # initial noise coefficient of a memorising sample
m_eff = sp.Symbol("m_eff", positive=True)  # surviving filters per head in Stage II

# --- hidden constants of the asymptotic statements (all default to 1) -----------------------------
C_adam_ceiling = sp.Symbol("C_adam_ceiling", positive=True)  # Thm 4.1/4.2: lam = o(...)
C_adam_stuck = sp.Symbol("C_adam_stuck", positive=True)  # Cor 4.3: lam = omega(...)
C_adamw_floor = sp.Symbol("C_adamw_floor", positive=True)  # Thm 4.4/4.5: lam = Omega~(...)
C_adamw_ceiling = sp.Symbol("C_adamw_ceiling", positive=True)  # Thm 4.4/4.5: lam = O~(1)
C_large_batch = sp.Symbol("C_large_batch", positive=True)  # n/B = Theta(1)
C_mini_batch = sp.Symbol("C_mini_batch", positive=True)  # n/B >= Theta(log 1/eps)
C_adamw_mini_batch = sp.Symbol(
    "C_adamw_mini_batch", positive=True
)  # n/B = omega(s sigma_p v sqrt n)
# noise-to-feature growth rate of the Stage-I race (theorykit.batch_race)
C_batch_race = sp.Symbol("C_batch_race", positive=True)
# effective share of a coordinate's second moment that others feed (theorykit.batch_race)
C_overlap = sp.Symbol("C_overlap", nonnegative=True)
# AdamW's normalised feature step near collapse (theorykit.collapse)
C_adamw_step = sp.Symbol("C_adamw_step", positive=True)
# spread of the race's rate ratio over heads and seeds, sd of log R (theorykit.batch_race)
C_race_spread = sp.Symbol("C_race_spread", nonnegative=True)

margin = sp.Symbol(
    "margin", positive=True
)  # reading of o/omega/Theta in the data and step-size conditions

HIDDEN_CONSTANTS: tuple[sp.Symbol, ...] = (
    C_adam_ceiling,
    C_adam_stuck,
    C_adamw_floor,
    C_adamw_ceiling,
    C_large_batch,
    C_mini_batch,
    C_adamw_mini_batch,
    C_batch_race,
    C_overlap,
    C_adamw_step,
    C_race_spread,
    margin,
)
