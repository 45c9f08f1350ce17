"""The names :mod:`sgdlab.nn` accepts, and the one check of the training settings (no torch).

The command line (``python -m sgdlab run --help``) offers these names as choices without
importing torch; :mod:`sgdlab.nn.data`, :mod:`sgdlab.nn.nets`, :mod:`sgdlab.nn.train` and
:mod:`sgdlab.nn.experiments` take them from here. :func:`check_training` checks the settings
that a training run (:class:`sgdlab.nn.train.TrainConfig`) and an experiment
(:class:`sgdlab.nn.config.ExperimentConfig`) share, so they are checked in one place.
"""

from __future__ import annotations

import os

from .. import _validate as validate

__all__ = ["DATASETS", "ARCHS", "SCHEDULES", "DEVICES", "ENSEMBLE_METHODS", "EXPERIMENTS",
           "SCALES", "BN_EVALS", "VAL_SPLITS", "check_training", "check_protocol"]

DATASETS = ("digits", "cifar10", "cifar100")
"""Data sets of :func:`sgdlab.nn.data.load`."""
ARCHS = ("resnet", "densenet", "resnet34", "densenet100")
"""Architectures of :func:`sgdlab.nn.nets.build`."""
SCHEDULES = ("step", "smooth", "constant")
"""Learning-rate schedules of :func:`sgdlab.nn.train.lr_at`."""
DEVICES = ("cpu", "cuda")
"""Where to train and probe."""
ENSEMBLE_METHODS = ("grouped", "vmap")
"""How :func:`sgdlab.nn.train.sgd_epoch_ensemble` evaluates the members together."""
EXPERIMENTS = ("trajectory", "neighbourhood", "allpairs", "spectrum", "noise", "gd")
"""The experiments of :mod:`sgdlab.nn.experiments`: the four of Section 5, then two of ours
(the real noise and the smoothed loss g along SGD; GD against SGD, with the sharpness)."""
SCALES = ("tiny", "book", "paper")
"""Presets of every knob of an experiment (:func:`sgdlab.nn.config.config_for`)."""
BN_EVALS = ("batch", "running")
"""BatchNorm's statistics at evaluation (:class:`sgdlab.nn.train.TrainConfig`)."""
VAL_SPLITS = ("test", "holdout")
"""Validation sets of :func:`sgdlab.nn.data.load`: the test split, or a holdout of training."""


def check_training(config):
    """Check and convert, in place, the training settings of ``config`` (a dataclass with the
    fields ``dataset``, ``data_dir``, ``arch``, ``epochs``, ``batch_size``, ``lr``,
    ``schedule``, ``seed``, ``device`` and ``limit``): ``data_dir`` becomes a ``str``, ``lr``
    a ``float``. Raises ``ValueError`` / ``TypeError`` naming the field."""
    validate.choice("dataset", config.dataset, DATASETS)
    if validate.path("data_dir", config.data_dir, allow_none=True) is not None:
        config.data_dir = os.fspath(config.data_dir)
    validate.choice("arch", config.arch, ARCHS)
    config.epochs = validate.integer("epochs", config.epochs, low=1)
    config.batch_size = validate.integer("batch_size", config.batch_size, low=1)
    config.lr = validate.real("lr", config.lr, above=0)
    validate.choice("schedule", config.schedule, SCHEDULES)
    config.seed = validate.seed("seed", config.seed)
    validate.choice("device", config.device, DEVICES)
    config.limit = validate.integer("limit", config.limit, low=1, allow_none=True)


def check_protocol(config):
    """Check and convert, in place, the protocol settings of ``config`` (a dataclass with the
    fields ``dataset``, ``momentum``, ``weight_decay``, ``augment``, ``bn_eval`` and
    ``val_split``): ``momentum`` in [0, 1), ``weight_decay`` >= 0 (floats), ``augment`` a bool
    and False unless the data set is CIFAR. Raises ``ValueError`` / ``TypeError`` naming the
    field."""
    config.momentum = validate.real("momentum", config.momentum, low=0, below=1)
    config.weight_decay = validate.real("weight_decay", config.weight_decay, low=0)
    config.augment = validate.flag("augment", config.augment)
    if config.augment and not config.dataset.startswith("cifar"):
        validate.fail("augment", f"False for dataset {config.dataset!r} (random crop + flip "
                      "is for the 32x32 CIFAR images)", config.augment)
    validate.choice("bn_eval", config.bn_eval, BN_EVALS)
    validate.choice("val_split", config.val_split, VAL_SPLITS)
