"""The real two-layer CNN of Tang et al. 2025 in torch: data (Def. 3.1), model (Def. 3.2, Lemma
A.5), stacked optimisers (eqs. 3.3-3.6, 5.1, B.2), the training engine, readout in the reduced
model's coordinates, and the small image CNN of the real-image check. The only sub-package that
imports torch.
"""
