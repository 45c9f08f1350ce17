"""The protocol of the Section 5 experiments in the open: what the paper states, what it leaves
unstated, and what we chose (no torch at import).

Kleinberg, Li and Yuan (ICML 2018), Section 5, state the networks ("34 layers, about 1.2M
parameters", "100 layers, about 0.8M"), the data sets (CIFAR-10 and CIFAR-100), the epochs,
trials and learning rates ("0.1 initially, 0.01 after epoch 150, and 0.001 after epoch 225"),
the ball radius 0.5 and its 100 points. They do not state the batch size, momentum, weight
decay, augmentation, BatchNorm's statistics at evaluation, which images validate, how many
restart epochs Section 5.4 uses, nor how a full-batch gradient over 50,000 images is taken.
``--scale paper`` (:func:`sgdlab.nn.config.config_for`) keeps every stated number;
:func:`choices` lists each unstated one with our choice and the option that changes it, the
one table behind ``--help``, ``result.json`` (key ``"protocol"``) and the Section 5 chapters.

Our defaults follow the paper's own account of the update: SGD is :math:`x_{t+1} = x_t - \\eta
v_t` with :math:`\\mathbb{E}[v_t] = \\nabla f(x_t)` (Section 1), and the step length is bounded
by the learning rate times the stochastic gradient's norm (Section 5.2, Figure 5c), both
statements about plain SGD on the plain loss: no momentum, no weight decay, no augmentation
(the probed :math:`f` is the mean loss over fixed training images), BatchNorm with batch
statistics (so :math:`f` is a function of the weights alone).

The parameter counts in the table are counted on the networks :mod:`sgdlab.nn.nets` builds,
never typed: :func:`network_size` imports torch when it is called (building a ResNet-34 takes
a fraction of a second, once per architecture and data set), so importing this module, and
``python -m sgdlab run --help``, stay torch-free.
"""

from __future__ import annotations

import functools

from .. import _validate as validate
from .config import restart_epochs
from .names import ARCHS, DATASETS, EXPERIMENTS

__all__ = ["SECTIONS", "FULL_RESNET34_WIDTHS", "DATASET_SHAPES", "choices", "network_size"]

SECTIONS = {"trajectory": "5.1", "neighbourhood": "5.2", "allpairs": "5.3", "spectrum": "5.4"}
"""The paper's section of each of its experiments (``noise`` and ``gd`` are ours: they are
labelled by name, and the paper-scale table of :func:`choices` covers the paper's four)."""
FULL_RESNET34_WIDTHS = (64, 128, 256, 512)
"""Channel widths of the four stages of He et al.'s (2016) ResNet-34."""
DATASET_SHAPES = {"digits": ((1, 8, 8), 10), "cifar10": ((3, 32, 32), 10),
                  "cifar100": ((3, 32, 32), 100)}
"""(image shape (C, H, W), classes) of each data set of :func:`sgdlab.nn.data.load`."""


@functools.lru_cache(maxsize=None)
def network_size(arch, dataset="cifar10"):
    """Size of the network ``arch`` that :func:`sgdlab.nn.nets.build` makes for ``dataset``.

    Imports torch (and builds the network) when called.

    Parameters
    ----------
    arch : {"resnet", "densenet", "resnet34", "densenet100"}
    dataset : {"digits", "cifar10", "cifar100"}, default "cifar10"

    Returns
    -------
    dict
        ``"parameters"``: its parameter count P. For ``"resnet34"`` also ``"widths"`` (the
        stage widths), ``"blocks"`` (blocks per stage), ``"width_factor"`` (He et al.'s
        widths :data:`FULL_RESNET34_WIDTHS` divided by ours) and ``"full_parameters"`` (P of
        the same layout at full width).
    """
    validate.choice("arch", arch, ARCHS)
    validate.choice("dataset", dataset, DATASETS)
    from . import nets

    shape, classes = DATASET_SHAPES[dataset]
    model = nets.build(arch, shape, classes)
    size = {"parameters": nets.count_parameters(model)}
    if arch == "resnet34":
        blocks = tuple(len(stage) for stage in model.stages)
        widths = tuple(stage[-1].conv2.out_channels for stage in model.stages)
        full = nets.ResNet(shape, classes, widths=FULL_RESNET34_WIDTHS, blocks=blocks)
        size.update(widths=widths, blocks=blocks,
                    width_factor=FULL_RESNET34_WIDTHS[0] / widths[0],
                    full_parameters=nets.count_parameters(full))
    return size


# --------------------------------------------------------------------------- the rows

def _network(cfg):
    size = network_size(cfg.arch, cfg.dataset)
    text = f"{cfg.arch}: {size['parameters']:,} parameters on {cfg.dataset}"
    if cfg.arch == "resnet34":
        widths = "-".join(str(w) for w in size["widths"])
        text += (f" (ResNet-34's blocks {list(size['blocks'])} with widths {widths}: He et "
                 f"al.'s divided by {size['width_factor']:.2f}, which has "
                 f"{size['full_parameters']:,} parameters)")
    return text


def _restarts(cfg):
    starts = restart_epochs(cfg)
    return (f"{len(starts)} restart epochs, evenly spaced: {', '.join(map(str, starts))}; "
            f"each continued {cfg.continue_epochs} epochs at lr {cfg.small_lr:g}")


def _schedule(cfg):
    text = {"step": f"step: {cfg.lr:g}, /10 after half the epochs, /100 after three quarters",
            "smooth": f"smooth: {cfg.lr:g} x 0.99 per epoch",
            "constant": f"constant {cfg.lr:g}"}[cfg.schedule]
    return f"{text}, {cfg.epochs} epochs"


def _probed_f(cfg):
    if cfg.probe_batch is None:
        return ("one pass over the whole training split (BatchNorm statistics of all its "
                "images)")
    return (f"mean loss over consecutive chunks of {cfg.probe_batch} training images, each "
            "normalised by its own BatchNorm statistics")


_BN_BATCH = "batch: every evaluation batch's own statistics, as in training"


def _bn_eval(cfg):
    if cfg.bn_eval == "batch":
        return _BN_BATCH
    return "running: averages kept during training, for the reported losses and accuracies"


def _val_split(cfg):
    if cfg.val_split == "test":
        return "test: the data set's test split"
    return "holdout: a fixed 10% of the training split, removed from training"


# (choice, paper, ours(cfg), option, reason when ours is our default, experiments or None)
_ROWS = (
    ("data set", "CIFAR-10 and CIFAR-100 (5.3: CIFAR-10 only)", lambda c: c.dataset,
     "--dataset, --data-dir", None, None),
    ("network", "ResNet (34 layers, about 1.2M parameters), DenseNet (100 layers, about "
     "0.8M) in 5.1-5.2; smaller versions, about 10K parameters each, in 5.3-5.4", _network,
     "--arch", None, None),
    ("batch size", "not stated", lambda c: str(c.batch_size), "--batch-size",
     "as in He et al.'s CIFAR training", None),
    ("momentum", "not stated; SGD is written x_{t+1} = x_t - eta v_t (Section 1)",
     lambda c: f"{c.momentum:g}", "--momentum",
     "plain SGD: the update of Theorems 1 and 3, whose step length lr ||g|| Section 5.2 "
     "bounds by 0.5", None),
    ("weight decay", "not stated", lambda c: f"{c.weight_decay:g}", "--weight-decay",
     "f is the cross-entropy alone, the function whose one point convexity is measured",
     None),
    ("augmentation", "not stated", lambda c: "random crop + flip" if c.augment else "none",
     "--augment (32x32 crop of the image zero-padded by 4 pixels, horizontal flip; CIFAR)",
     "f is the mean loss over fixed training images", None),
    ("BatchNorm statistics at evaluation", "not stated", _bn_eval, "--bn-eval",
     "the probes always use batch statistics, so that f is a function of the weights alone",
     None),
    ("validation set", "a 'validation loss' (5.4); which images not stated", _val_split,
     "--val-split", None, None),
    ("probed f (full-batch gradients)", "the training loss f; how its gradient over 50,000 "
     "images is computed is not stated", _probed_f, "--probe-batch, --memory-gb", None, None),
    ("learning-rate schedule", "0.1, 0.01 after epoch 150, 0.001 after 225 of 300 (5.1; "
     "also x0.99 per epoch); 0.1 constant (5.3, 5.4), then 0.01 (5.4)", _schedule,
     "--lr, --schedule, --epochs", None, None),
    ("restart epochs (5.4)", "'different epochs' of the 300-epoch run, each continued 150 "
     "epochs at lr 0.01; how many not stated", _restarts, "--starts", None, ("spectrum",)),
    ("initialisation", "'different initializations' (5.1); scheme not stated",
     lambda c: "Kaiming normal convolutions (fan out), unit BatchNorm scales, uniform linear "
     "layer; trial i's seed derived from --seed and i (sgdlab.nn.seeds)", "--seed", None,
     None),
)
_DEFAULTS = {"batch size": "128", "momentum": "0", "weight decay": "0", "augmentation": "none",
             "BatchNorm statistics at evaluation": _BN_BATCH}
"""Our default of every row with a reason: the reason is shown only with this value."""


def _configs(config):
    from .config import ExperimentConfig, config_for

    if config is None:
        return {e: config_for(e, "paper") for e in EXPERIMENTS if e in SECTIONS}
    if not isinstance(config, ExperimentConfig):
        validate.fail("config", "an ExperimentConfig or None", error=TypeError,
                      shown=type(config).__name__)
    return {config.experiment: config}


def _ours(configs, row):
    """Our value of ``row`` for each config, merged: "v" or "v1 (5.1, 5.2); v2 (5.3)"."""
    _, _, value, _, reason, only = row
    groups = {}
    for experiment, cfg in configs.items():
        if only is None or experiment in only:
            groups.setdefault(value(cfg), []).append(SECTIONS.get(experiment, experiment))
    if len(groups) == 1:
        text = next(iter(groups))
    else:
        text = "; ".join(f"{v} ({', '.join(s)})" for v, s in groups.items())
    if reason is not None and text == _DEFAULTS.get(row[0]):
        text += f" ({reason})"
    return text


def choices(config=None):
    """The choices of the experiments' protocol that the paper leaves unstated, with ours.

    Parameters
    ----------
    config : sgdlab.nn.config.ExperimentConfig, optional
        Describe this experiment's settings; default: the ``--scale paper`` preset of the
        paper's four experiments (values that differ between them are listed by section).

    Returns
    -------
    list of dict
        One dict per choice, with the keys ``"choice"`` (what is chosen), ``"paper"`` (what
        the paper says), ``"ours"`` (our value, with the reason for our default) and
        ``"option"`` (the ``python -m sgdlab run`` option that changes it). The row of the
        restart epochs is there only for the spectrum experiment (Section 5.4).
    """
    configs = _configs(config)
    rows = []
    for row in _ROWS:
        choice, paper, _, option, _, only = row
        if only is not None and not set(only) & set(configs):
            continue
        rows.append({"choice": choice, "paper": paper, "ours": _ours(configs, row),
                     "option": option})
    return rows
