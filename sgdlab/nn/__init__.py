"""The PyTorch floor of sgdlab: Section 5 of the paper on real networks.

=============== ==========================================================================
``data``        digits (ships with scikit-learn) and a local CIFAR copy, as tensors
``nets``        the small and paper-sized ResNets and DenseNets; parameter vectors
``grouped``     M networks as one network with member-grouped channels (ensembles)
``train``       SGD training with checkpoints and resume; ensembles trained together
``probe``       torch.func probes of Section 5 (trajectory, neighbourhood, all pairs)
``experiments`` the four experiments, their presets and result folders
=============== ==========================================================================

Importing :mod:`sgdlab.nn` itself is cheap; each submodule imports torch when first used
(``sgdlab.nn.probe`` or ``from sgdlab.nn import probe``). It imports the core
(:mod:`sgdlab`), never :mod:`sgdlab.viz`.
"""

import importlib

SUBMODULES = ("data", "nets", "grouped", "train", "probe", "experiments")
__all__ = list(SUBMODULES)


def __getattr__(name):
    if name in SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
