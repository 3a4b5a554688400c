"""dynamics: numpy iteration of the reduced (gamma, rho) dynamics encoded in :mod:`theorykit`.

Depends on theorykit only. (Issue 4: simulator, predicted trajectories and thresholds.)
"""
