"""The PyTorch floor of sgdlab: Section 5 of the paper on real networks.

=============== ==========================================================================
``names``       the names it accepts (data sets, archs, ...) and the training settings' check
``seeds``       the one derivation of seeds: the user's seed, a named purpose, indices
``io``          atomic files: JSON, ``.npz`` / ``.npy``, checkpoints
``checks``      the checks of tensor arguments (models, parameter vectors, data)
``data``        digits (ships with scikit-learn) and a local CIFAR copy, as tensors
``nets``        the small and paper-sized ResNets and DenseNets; parameter vectors; the loss
                as a function of the parameters
``grouped``     M networks as one network with member-grouped channels (ensembles)
``train``       SGD training with checkpoints and resume; ensembles trained together
``runs``        the runs folder: each training run stored once by its settings, under a lock
``probe``       torch.func probes of Section 5 (trajectory, neighbourhood, all pairs)
``noise``       the real mini-batch noise against the paper's model; g smoothed by it
``curvature``   Hessian-vector products, the top eigenvalues (Lanczos), the trace (Hutchinson)
``config``      the experiments' settings: ExperimentConfig, the presets of each scale
``protocol``    the protocol's choices the paper leaves unstated, and ours (one table)
``experiments`` the six experiments (Section 5's four, two of ours) and their result folders
``distributed`` torchrun: the process group, its collectives, the units each rank runs
``plan``        ``--plan``: the whole run's wall-clock, memory and disk, timed on a few steps
=============== ==========================================================================

Importing :mod:`sgdlab.nn` itself is cheap; each submodule imports torch when first used
(``sgdlab.nn.probe`` or ``from sgdlab.nn import probe``), except ``names``, ``seeds``, ``io``,
``runs``, ``config``, ``protocol``, ``experiments``, ``distributed`` and ``plan``, which import
it only when they train, probe, time or count parameters. It imports the core (:mod:`sgdlab`), never
:mod:`sgdlab.book`.
"""

import importlib

SUBMODULES = ("names", "seeds", "io", "checks", "data", "nets", "grouped", "train", "runs",
              "probe", "noise", "curvature", "config", "protocol", "experiments", "distributed", "plan")
__all__ = list(SUBMODULES)


def __getattr__(name):
    if name in SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
