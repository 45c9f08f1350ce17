"""The book's glue: one plotting style, the numbers and figures of the chapters, the explorers,
and the Section 5 result helpers. The data flows down this table: measurements feed figures,
figures feed explorers.

================ =========================================================================
``style``        the shared matplotlib style, the colour palette, figure-to-PNG rendering
``tables``       the one number format, glued values, Markdown tables, verdicts and phrases
``measurements`` the numbers the figures show, from :mod:`sgdlab.theory` and SGD runs
``figures``      the chapters' static figures (Figures 3 and 4, Theorems 1 and 3)
``explorers``    ipywidgets explorers and kernel-free image sliders over those figures
``live``         explorers that compute in the reader's browser (book/_static/live/)
``step_size``    chapter step-size: Theorem 3's checks, its tables, ledger and glued words
``theorem1``     chapter main-theorem: each step of Theorem 1's proof measured, tables, ledger
``motivating``   Section 2: Figure 3's claims, the spiky-family search, runs, tables, ledger
``escape``       Figures 1 and 2: one SGD step x_t -> y_t -> x_{t+1} out of a sharp basin
``nn_results``   Section 5: scale, saved-or-computed results (CIFAR-10/100), plotting helpers
``nn_tables``    Section 5: tables, glued numbers, outcome sentences and verdict ledgers
================ =========================================================================

It sits on top of :mod:`sgdlab` and :mod:`sgdlab.nn`; nothing below imports it. Importing
:mod:`sgdlab.viz` imports no submodule (so not matplotlib): each loads on first use.
"""

import importlib

SUBMODULES = ("style", "tables", "measurements", "figures", "explorers", "live", "nn_results",
              "nn_tables", "step_size", "theorem1", "motivating", "escape")
__all__ = list(SUBMODULES)


def __getattr__(name):
    if name in SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
