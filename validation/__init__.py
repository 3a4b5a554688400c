"""validation: train the real two-layer CNN with torch and compare with dynamics and theorykit.

Depends on dynamics and theorykit. (Issue 3: stacked-ensemble engine, presets, reports.)
"""
