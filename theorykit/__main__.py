"""``python -m theorykit ...``: the ``theorykit`` command line.

The full command line lives in ``validation.cli`` (a layer above this package, which imports
nothing from it): this module runs the installed ``theorykit`` console script, found through the
package's entry points. Where ``validation`` is not installed, only ``bounds`` exists
(:mod:`theorykit.cli`, torch-free).
"""

import importlib.metadata
import sys


def _console_script():
    scripts = importlib.metadata.entry_points(group="console_scripts", name="theorykit")
    for script in scripts:
        try:
            return script.load()
        except ImportError:
            return None
    return None


if __name__ == "__main__":
    main = _console_script()
    if main is None:
        from theorykit.cli import main
    sys.exit(main())
