"""``python -m sgdlab.bench [probe] [--quick] ...``: see :mod:`sgdlab.bench`.

:func:`sgdlab.bench.core.main` dispatches: ``probe`` as the first argument runs
:mod:`sgdlab.bench.probe` (the only benchmark that imports torch), anything else the core one.
"""

from .core import main

if __name__ == "__main__":
    main()
