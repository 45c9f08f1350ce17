"""``python -m sgdlab.bench [probe] [--quick] ...``: see :mod:`sgdlab.bench`."""

from .core import main

main()
