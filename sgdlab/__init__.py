"""sgdlab: an executable reproduction of Kleinberg, Li and Yuan (ICML 2018),
*An Alternative View: When Does SGD Escape Local Minima?*

The package has three floors, and imports only go down:

* the core, imported here (NumPy and Numba only): :class:`Landscape` and the built-in test
  functions (:mod:`sgdlab.landscapes`), the runners :func:`run_sgd` and :func:`run_schedule`
  (:mod:`sgdlab.sgd`), the paper's convolved function :func:`convolve` and the basins and
  minima of the smoothed landscape (:mod:`sgdlab.smoothing`), the constants and bounds of
  Assumption 1, Theorem 1, Lemma 5, Corollary 2, Theorem 3 and Lemma 6
  (:mod:`sgdlab.theory`), and independent
  references for tests and benchmarks (:mod:`sgdlab.reference`);
* :mod:`sgdlab.nn`: the PyTorch side (data, nets, grouped, train, probe, experiments),
  imported on demand: importing sgdlab does not import torch;
* :mod:`sgdlab.book`: the book's floor (one module per chapter, named as the chapter, and
  the shared style, tables, live explorers and Section 5 results), and :mod:`sgdlab.bench`, the benchmarks (``python -m sgdlab.bench``).
"""

from . import landscapes, smoothing, theory
from .landscapes import Landscape, as_landscape
from .sgd import SGDResult, ScheduleResult, random_rows, random_starts, run_schedule, run_sgd
from .smoothing import convolve

__version__ = "0.1.0"
__all__ = ["Landscape", "as_landscape", "landscapes", "smoothing", "theory", "run_sgd",
           "run_schedule", "random_starts", "random_rows", "convolve", "SGDResult",
           "ScheduleResult"]
