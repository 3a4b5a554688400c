"""Shared test configuration: hypothesis profiles.

``ci`` (selected when the CI environment variable is set, as in .ci/run): derandomized, no deadline,
so CI is reproducible and not flaky on a slow 2-core machine. ``dev``: random exploration, no deadline
(sympy's first lambdify of an expression is slow, which is not what the tests measure).
"""

import os

from hypothesis import HealthCheck, settings

settings.register_profile("ci", deadline=None, derandomize=True, max_examples=60,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", deadline=None, max_examples=60)
settings.load_profile("ci" if os.environ.get("CI") else os.environ.get("HYPOTHESIS_PROFILE", "dev"))
