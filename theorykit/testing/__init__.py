"""Testing helpers for theorykit users: public hypothesis strategies in
:mod:`theorykit.testing.strategies`."""
