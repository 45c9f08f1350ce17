"""The book's glue: one plotting style, the explorers, and the Section 5 result helpers.

=============== ==========================================================================
``style``       the shared matplotlib style, colours, and figure-to-PNG rendering
``explorers``   ipywidgets explorers and kernel-free image sliders of the chapters
``nn_results``  scale, saved paper-scale results and plotting helpers of Section 5
=============== ==========================================================================

It sits on top of :mod:`sgdlab` and :mod:`sgdlab.nn`; nothing below imports it.
"""

import importlib

SUBMODULES = ("style", "explorers", "nn_results")
__all__ = list(SUBMODULES)


def __getattr__(name):
    if name in SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
