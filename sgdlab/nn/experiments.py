"""The Section 5 experiments, end to end: train, probe, save (``python -m sgdlab run ...``).

Each experiment trains networks with :mod:`sgdlab.nn.train`, probes them with
:mod:`sgdlab.nn.probe`, and writes ``result.npz`` + ``result.json`` (its config included) into
its output folder, atomically. Training runs keep their own checkpoints, so an interrupted
experiment resumes where it stopped (``resume=True``).

The experiments (with the paper's sections and figures):

``trajectory`` (paper: 5.1, 5a, 5c)
    :math:`\\langle -\\nabla f(x_t), x_T - x_t\\rangle` per epoch and trial, and the
    mini-batch gradient norms / step lengths seen in training.
``neighbourhood`` (paper: 5.2, 5b)
    The same at ``k`` random points of the ball of radius ``rho`` around each epoch's point,
    with Hoeffding's confidence.
``allpairs`` (paper: 5.3)
    Shared first epochs, ``members`` continuations with other seeds (trained as one
    ensemble); every point against every final solution.
``spectrum`` (paper: 5.4, 6)
    From several epochs of an lr-0.1 run, continue with a small lr; loss of each minimum,
    distance from the init, one-point convexity.

Scales: ``paper`` is the paper's setting (CIFAR, 300 epochs, ...; needs a GPU and the data
folder), ``book`` fits the book's build on a 2-core CPU with scikit-learn's digits, ``tiny`` is
for the tests. Any field can be overridden.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np

from . import io
from .config import OPTIONS, ExperimentConfig, config_for
from .names import EXPERIMENTS, SCALES

__all__ = ["EXPERIMENTS", "SCALES", "run", "load"]
# ExperimentConfig, OPTIONS and config_for live in sgdlab.nn.config; they are importable from
# here too, as before.


# -- running -------------------------------------------------------------------------------
def run(experiment, *, scale="book", out=None, resume=False, progress=True, **overrides):
    """Run one experiment and return its result (a dict: ``config``, ``summary``, ``arrays``).

    With ``out``, everything goes in that folder: the training runs (each resumable), and
    ``result.npz`` / ``result.json`` at the end. If ``out`` already holds a finished result
    with the same config, it is loaded instead of recomputed; with ``resume=True`` an
    interrupted run continues from its checkpoints. Without ``out``, a temporary folder is
    used and removed.
    """
    config = config_for(experiment, scale, **overrides)
    if out is None:
        with tempfile.TemporaryDirectory(prefix=f"sgdlab-{experiment}-") as tmp:
            return _run(config, Path(tmp), resume=False, progress=progress, save=False)
    out = Path(out)
    existing = out / "result.json"
    if existing.is_file():
        saved = load(out)
        if saved["config"] == _jsonable(config.to_dict()):
            return saved
        if not resume or saved["config"].get("experiment") != experiment:
            raise FileExistsError(f"{out} holds a result with another config; choose another "
                                  "out folder or delete it")
    out.mkdir(parents=True, exist_ok=True)
    return _run(config, out, resume=resume, progress=progress, save=True)


def load(out):
    """Read a saved experiment result (``result.json`` + ``result.npz``) from ``out``."""
    out = Path(out)
    meta_path, arrays_path = out / "result.json", out / "result.npz"
    if not meta_path.is_file() or not arrays_path.is_file():
        raise FileNotFoundError(f"{out} holds no experiment result (expected result.json and "
                                "result.npz, written by `python -m sgdlab run ...`)")
    meta = json.loads(meta_path.read_text())
    with np.load(arrays_path, allow_pickle=False) as npz:
        arrays = {name: npz[name] for name in npz.files}
    return {"config": meta["config"], "summary": meta["summary"], "arrays": arrays}


def _run(config, out, *, resume, progress, save):
    runner = {"trajectory": _trajectory, "neighbourhood": _neighbourhood,
              "allpairs": _allpairs, "spectrum": _spectrum}[config.experiment]
    summary, arrays = runner(config, out, resume, progress)
    result = {"config": _jsonable(config.to_dict()), "summary": _jsonable(summary),
              "arrays": arrays}
    if save:
        io.write_npz(out / "result.npz", arrays)
        io.write_json(out / "result.json", {"config": result["config"],
                                            "summary": result["summary"]})
    return result


def _setup(cfg):
    """(data set, model template on the device, training images and labels there)."""
    import torch

    from . import data, nets

    dataset = data.load(cfg.dataset, cfg.data_dir, limit=cfg.limit)
    device = torch.device(cfg.device)
    model = nets.build(cfg.arch, dataset.shape, dataset.classes, seed=cfg.seed).to(device)
    x, y = dataset.x_train.to(device), dataset.y_train.to(device)
    return dataset, model, x, y


def _train_config(cfg, **changes):
    from .train import TrainConfig

    values = dict(dataset=cfg.dataset, data_dir=cfg.data_dir, arch=cfg.arch, epochs=cfg.epochs,
                  batch_size=cfg.batch_size, lr=cfg.lr, schedule=cfg.schedule, seed=cfg.seed,
                  device=cfg.device, limit=cfg.limit)
    values.update(changes)
    return TrainConfig(**values)


def _weights(result, device):
    import torch

    return torch.as_tensor(np.array(result.weights), device=device)


def _trajectory(cfg, out, resume, progress):
    """Figure 5a (inner products along each trajectory) and 5c (gradient norms, steps)."""
    from . import nets, probe
    from .train import train

    _, model, x, y = _setup(cfg)
    inner, runs = [], []
    for trial in range(cfg.trials):
        run = train(_train_config(cfg, seed=cfg.seed + trial), out / f"trial{trial}",
                    resume=resume, progress=progress)
        inner.append(probe.trajectory_inner_products(model, _weights(run, x.device), x, y,
                                                     vectorize=_vectorize(cfg))
                     .cpu().numpy())
        runs.append(run)
    inner = np.stack(inner)
    metric = _metric_stack(runs)
    arrays = dict(inner=inner, min_inner=inner.min(axis=0), **metric)
    first_positive = _first_all_positive(inner.min(axis=0))
    summary = {
        "trials": cfg.trials, "epochs": cfg.epochs,
        "parameters": nets.count_parameters(model),
        "share_positive": float(np.mean(inner > 0)),
        "epochs_all_positive_from": first_positive,
        "min_inner": float(inner.min()),
        "max_grad_norm": float(metric["grad_norm_max"].max()),
        "max_step_length": float(metric["step_length_max"].max()),
        "final_val_accuracy": [float(a) for a in metric["val_accuracy"][:, -1]],
    }
    return summary, arrays


def _neighbourhood(cfg, out, resume, progress):
    """Figure 5b: the ball of radius rho around each probed epoch's point."""
    from . import nets, probe
    from .train import train

    _, model, x, y = _setup(cfg)
    run = train(_train_config(cfg), out / "trial0", resume=resume, progress=progress)
    weights = _weights(run, x.device)
    epochs = np.arange(0, cfg.epochs, cfg.probe_every)
    stats = {name: [] for name in ("mean", "min", "max", "std", "confidence", "distance")}
    values = []
    iterator = _progress(epochs, progress, "neighbourhoods")
    for t in iterator:
        res = probe.neighbourhood_probe(model, weights[t], weights[-1], x, y, k=cfg.k,
                                        rho=cfg.rho, seed=cfg.seed * 100_003 + int(t),
                                        vectorize=_vectorize(cfg))
        for name in stats:
            stats[name].append(getattr(res, name))
        values.append(res.values.numpy())
    arrays = {name: np.asarray(v, dtype=np.float64) for name, v in stats.items()}
    arrays.update(epochs=epochs, values=np.stack(values))
    summary = {
        "epochs_probed": int(epochs.size), "k": cfg.k, "rho": cfg.rho,
        "parameters": nets.count_parameters(model),
        "share_positive": float(np.mean(arrays["values"] > 0)),
        "balls_all_positive": int(np.sum(arrays["min"] > 0)),
        "min_confidence": float(arrays["confidence"].min()),
        "max_relative_spread": float(np.max((arrays["max"] - arrays["min"])
                                            / np.maximum(np.abs(arrays["mean"]), 1e-12))),
    }
    return summary, arrays


def _allpairs(cfg, out, resume, progress):
    """Section 5.3: shared first epochs, then ``members`` seeds as one ensemble
    (:func:`sgdlab.nn.train.train_ensemble`)."""
    from . import nets, probe
    from .train import train, train_ensemble

    _, model, x, y = _setup(cfg)
    start = None
    if cfg.shared_epochs > 0:
        shared = train(_train_config(cfg, epochs=cfg.shared_epochs), out / "shared",
                       resume=resume, progress=progress)
        start = np.asarray(shared.weights)[-1]
    seeds = [cfg.seed + 1 + m for m in range(cfg.members)]
    path = out / "ensemble.npy"
    if resume and path.is_file():
        weights = np.load(path)
    else:
        weights = train_ensemble(_train_config(cfg), seeds, start_params=start,
                                 start_epoch=cfg.shared_epochs, progress=progress)
        io.write_npy(path, weights)
    import torch

    trajectories = torch.as_tensor(np.ascontiguousarray(np.swapaxes(weights, 0, 1)),
                                   device=x.device)
    res = probe.all_pairs_inner_products(model, trajectories, x, y, vectorize=_vectorize(cfg))
    finals = trajectories[:, -1]
    summary = dict(res.to_dict(), members=cfg.members, shared_epochs=cfg.shared_epochs,
                   epochs=cfg.epochs, parameters=nets.count_parameters(model),
                   mean_final_distance=float(torch.pdist(finals.double()).mean()),
                   distance_from_start=float((finals - trajectories[:, 0]).norm(dim=1).mean()))
    return summary, {"values": res.values.numpy()}


def _spectrum(cfg, out, resume, progress):
    """Section 5.4, Figure 6: minima reached by shrinking lr at different epochs."""
    import torch

    from . import nets, probe
    from .train import train

    dataset, model, x, y = _setup(cfg)
    xv, yv = dataset.x_val.to(x.device), dataset.y_val.to(x.device)
    base = train(_train_config(cfg), out / "base", resume=resume, progress=progress)
    weights = _weights(base, x.device)
    starts = np.unique(np.linspace(0, cfg.epochs, cfg.starts).round().astype(int))
    rows = {name: [] for name in ("train_loss", "val_loss", "val_accuracy", "distance_init",
                                  "share_positive", "min_inner", "start_train_loss")}
    for s in starts:
        cont = train(_train_config(cfg, epochs=cfg.continue_epochs, lr=cfg.small_lr,
                                   schedule="constant", seed=cfg.seed + 1000 + int(s)),
                     out / f"from{int(s)}", resume=resume, progress=progress,
                     start_params=np.asarray(base.weights)[s], start_epoch=int(s))
        minimum = _weights(cont, x.device)[-1]
        path = torch.cat([weights[:s + 1], _weights(cont, x.device)[1:-1]])
        inner = probe.trajectory_inner_products(model, path, x, y, target=minimum,
                                                vectorize=_vectorize(cfg))
        rows["train_loss"].append(float(probe.loss_at(model, minimum, x, y)))
        rows["val_loss"].append(float(probe.loss_at(model, minimum, xv, yv)))
        rows["val_accuracy"].append(_accuracy(model, minimum, xv, yv))
        rows["distance_init"].append(float((minimum - weights[0]).norm()))
        rows["share_positive"].append(float((inner > 0).double().mean()))
        rows["min_inner"].append(float(inner.min()))
        rows["start_train_loss"].append(float(probe.loss_at(model, weights[s], x, y)))
    arrays = {name: np.asarray(v, dtype=np.float64) for name, v in rows.items()}
    arrays["starts"] = starts
    summary = {
        "starts": starts.tolist(), "parameters": nets.count_parameters(model),
        "train_loss": arrays["train_loss"].tolist(), "val_loss": arrays["val_loss"].tolist(),
        "distance_init": arrays["distance_init"].tolist(),
        "all_trajectories_one_point_convex": bool(np.all(arrays["min_inner"] > 0)),
        "base_final_train_loss": float(np.asarray(base.train_loss)[-1]),
    }
    return summary, arrays


# -- helpers -------------------------------------------------------------------------------
def _vectorize(cfg):
    """``vmap`` the probes' full-batch gradients on CUDA only: on a CPU, ``vmap`` turns every
    convolution into a grouped one whose backward pass is slow, and a Python loop over the
    points is 2-5x faster (same numbers; see :mod:`sgdlab.nn.probe`)."""
    return cfg.device == "cuda"


def _accuracy(model, theta, x, y):
    import torch

    from .nets import functional_forward

    with torch.no_grad():
        logits = functional_forward(model)(theta, x)
    return float((logits.argmax(dim=1) == y).double().mean())


def _metric_stack(runs):
    """Per-epoch training metrics of every trial, stacked (trials, epochs)."""
    names = ("train_loss", "val_loss", "val_accuracy", "lr", "grad_norm_mean", "grad_norm_min",
             "grad_norm_max", "step_length_max")
    return {name: np.stack([np.asarray(getattr(r, name), dtype=np.float64) for r in runs])
            for name in names}


def _first_all_positive(min_inner):
    """First epoch from which every later minimum inner product is positive (None if never)."""
    bad = np.flatnonzero(~(min_inner > 0))
    if bad.size == 0:
        return 0
    return None if bad[-1] == min_inner.size - 1 else int(bad[-1] + 1)


def _progress(items, progress, desc):
    if not progress:
        return items
    from tqdm.auto import tqdm
    return tqdm(items, desc=desc)


def _jsonable(value):
    """Plain JSON types (numpy scalars and arrays, paths, tuples converted)."""
    return json.loads(json.dumps(value, default=lambda v: v.tolist() if hasattr(v, "tolist")
                                 else str(v)))
