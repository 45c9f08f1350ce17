"""The book's floor: one module per chapter, named as the chapter's file, holding that
chapter's measurements, tables, wording and figures; and a few shared modules that several
chapters use. A reader who sees ``book/X.md`` finds its code in ``sgdlab/book/X.py``.

====================== =====================================================================
``motivating_example`` Figures 1-3: one step out of a sharp basin, the spiky-family search,
                       Figure 3's runs, tables, ledger, the Figure 3 explorers
``main_theorem``       Theorem 1: each step of its proof measured, tables, ledger, figures,
                       the Theorem 1 explorers
``step_size``          Theorem 3 and Figure 4: checks, tables, ledger, figures, explorers
``nn_trajectory``      Sections 5.1-5.2: runs, tables, verdicts
``nn_landscape``       Sections 5.3-5.4: runs, tables, verdicts
``real_noise``         ours, beyond the paper: the real noise against the paper's model, its
                       g along SGD, GD against SGD with the sharpness: runs, tables, verdicts
``style``              shared: the matplotlib style, the colour palette, plotting helpers
``tables``             shared: the one number format, glue, Markdown tables, phrases
``verdicts``           shared: three-valued verdicts (yes, no, can't tell and why), Clopper-
                       Pearson verdicts on shares, ledger rows and their tallies
``live``               shared: the HTML a live (in-page JavaScript) explorer mounts on
``results``            shared: Section 5's scale, saved-or-computed results, the paper's
                       numbers, the set-up tables and the verdict-ledger format
====================== =====================================================================

It sits on top of :mod:`sgdlab` and :mod:`sgdlab.nn`; nothing below imports it, and a
shared module imports no chapter module. Importing :mod:`sgdlab.book` imports no submodule
(so not matplotlib): each loads on first use.
"""

import importlib

CHAPTERS = ("motivating_example", "main_theorem", "step_size", "nn_trajectory", "nn_landscape",
            "real_noise")
SHARED = ("style", "tables", "verdicts", "live", "results")
SUBMODULES = CHAPTERS + SHARED
__all__ = list(SUBMODULES)


def __getattr__(name):
    if name in SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
