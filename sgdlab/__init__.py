"""sgdlab: an executable reproduction of Kleinberg, Li and Yuan (ICML 2018),
*An Alternative View: When Does SGD Escape Local Minima?*

Public entry points: :class:`Landscape` (and :mod:`sgdlab.landscapes`), :func:`run_sgd`,
:func:`run_schedule`, :func:`convolve`, the paper's constants and bounds in
:mod:`sgdlab.theory`; the PyTorch side (:mod:`sgdlab.nn.probe`, ``nets``, ``data``, ``train``,
``experiments``) is imported on demand. Importing sgdlab does not import torch.
"""

from . import landscapes, theory
from .landscapes import Landscape
from .sgd import SGDResult, ScheduleResult, run_schedule, run_sgd
from .smoothing import convolve

__version__ = "0.1.0"
__all__ = ["Landscape", "landscapes", "theory", "run_sgd", "run_schedule", "convolve", "SGDResult",
           "ScheduleResult"]
