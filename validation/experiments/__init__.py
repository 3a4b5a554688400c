"""Named experiments: the paper's presets and their reports, theory-vs-simulation comparisons,
coefficient checks and the real-image check. The settings they use are registered in ``settings``.
"""
