"""Benchmarks of the PyTorch side:
``python -m sgdlab.bench probe [--quick] [--device cpu|cuda] [--threads N]``.

Prints one JSON object, measured in one run. Every comparison times its paths *alternately*
(A, B, A, B, ... after a warm-up; ``time.perf_counter``, with ``torch.cuda.synchronize``
around GPU work), at least three rounds: each round gives one ratio (reference time / fast
time, both seen under the same load), and the report gives the *median* ratio with its range
(``speedup``, ``speedup_range``, ``speedup_runs``) and the median times. The machine's load
average is reported, since on a shared machine it moves the absolute times a lot:

1. per-sample gradient norms (:func:`sgdlab.nn.probe.per_sample_grad_norms`, ``vmap(grad)``)
   against the Python loop (:func:`sgdlab.nn.probe.per_sample_grad_norms_loop`) on the small
   ResNet of :func:`sgdlab.nn.nets.build` with digits-shaped random data;
2. one epoch of SGD for an ensemble of 50 small nets trained together
   (:func:`sgdlab.nn.train.sgd_epoch_ensemble`, both methods: ``"grouped"``, the default, and
   ``"vmap"``) against the same nets trained one after another
   (:func:`sgdlab.nn.train.sgd_epoch_sequential`), on the digits data;
3. points per second of :func:`sgdlab.nn.probe.neighbourhood_probe` (Section 5.2) on the digits
   data, ``vmap`` over points against its Python loop over the same points
   (``vectorize=False``), and which one the probe takes by default (``vectorize=None``,
   :func:`sgdlab.nn.probe.prefers_vmap`);
4. training throughput (images/s) of the paper-sized ResNet-34 on CIFAR-shaped random data
   (batch 128, plain SGD). Meant for ``--device cuda``; on a CPU it runs a token number of
   steps and says so.

Importing this module imports torch; ``import sgdlab`` and the plain ``python -m sgdlab.bench``
do not.

The ensemble on a 2-core CPU. With ``vmap`` (``method="vmap"``) it reaches only 2.5x to 3x
(12x on an H100): ``vmap`` runs the members' convolutions as one grouped convolution, but its
batching rules add layout copies and split every BatchNorm into several strided passes, and
the default layout's grouped-convolution backward is slow on the CPU. The default
``method="grouped"`` (:mod:`sgdlab.nn.grouped`) builds the grouped network itself: native
``batch_norm`` over the M*C channels, channels-last activations (about twice as fast for the
grouped convolutions), and the 3x3 convolutions of 2x2 maps as dense batched matrix products
(about half the time of a grouped convolution there). Tried and not used (2026-11): ``grad``
of the summed ``vmap``-ped losses instead of ``vmap(grad)`` (same speed), dense matrix
products for 4x4 maps and for 1x1 convolutions (slower), a hand-written BatchNorm (slower),
``torch.compile`` (60 s to compile, 15% faster per step); 2026-12: an im2col
(``unfold`` + ``bmm``) convolution for the 8x8 maps (several times slower than the grouped
convolution).

What makes the ensemble's ratio slow and noisy on this machine (2026-12) is the threads
against the load. The grouped epoch runs large operations on every core (torch's default, one
OpenMP thread per core); the sequential reference runs many tiny ones and barely uses a second
core. So with one thread the ratio drops well below its value with two, and with two a round
in which another process holds a core makes the grouped epoch wait at every parallel region
and lose several times its time, while the reference hardly notices: one such round can put a
single-run ratio below 1. Hence the alternated rounds and their median (``ROUNDS``), and the
load average in the report.
"""

import argparse
import json
import os
import platform
import statistics
import time

import torch
from torch.func import stack_module_state

from ..nn import nets, noise, probe

__all__ = ["GOALS", "ROUNDS", "time_alternately", "ratio_summary", "per_sample",
           "ensemble_epoch", "neighbourhood", "noise_paths", "resnet34_training", "run",
           "main"]

# Speed-ups (reference time / fast time) that the fast paths should reach on the 2-core CPU.
GOALS = {
    "per_sample_vmap_speedup": 10,
    "ensemble_speedup": 5,
}
"""The speed-ups (reference time / fast time) that the fast paths should reach, by name."""

ROUNDS = 5
"""Alternated rounds of every comparison in a full run (each round gives one ratio)."""

IN_SHAPE = (1, 8, 8)     # digits
CLASSES = 10


def _sync(device):
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


def time_alternately(*funcs, repeats=ROUNDS, device="cpu", warmup=1):
    """Wall times of the ``funcs``, timed in turn (f0, f1, ..., f0, f1, ...) for ``repeats``
    rounds after ``warmup`` untimed rounds, so that all see the same load on a shared machine.

    Returns
    -------
    list of list of float
        ``times[i][r]``: seconds of function ``i`` in round ``r``.
    """
    for _ in range(warmup):
        for func in funcs:
            func()
    times = [[] for _ in funcs]
    for _ in range(max(1, repeats)):
        for i, func in enumerate(funcs):
            _sync(device)
            start = time.perf_counter()
            func()
            _sync(device)
            times[i].append(time.perf_counter() - start)
    return times


def ratio_summary(reference, fast):
    """Round-by-round ratios ``reference[r] / fast[r]`` of two alternately timed paths.

    Returns
    -------
    dict
        ``speedup`` (median ratio), ``speedup_range`` ([min, max]), ``speedup_runs`` (every
        round's ratio, in order).
    """
    runs = [r / f for r, f in zip(reference, fast)]
    return {"speedup": statistics.median(runs), "speedup_range": [min(runs), max(runs)],
            "speedup_runs": runs}


def _median(times):
    return statistics.median(times)


def _random_digits(n, device, seed=0):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, *IN_SHAPE, generator=gen)  # standardised, like data.load("digits")
    y = torch.randint(0, CLASSES, (n,), generator=gen)
    return x.to(device), y.to(device)


def _digits(device, limit=None):
    from ..nn import data
    ds = data.load("digits")
    x, y = ds.x_train, ds.y_train
    if limit is not None:
        x, y = x[:limit], y[:limit]
    return x.to(device), y.to(device)


def per_sample(n=256, repeats=ROUNDS, device="cpu", chunk=256):
    """Per-sample gradient norms: ``vmap(grad)`` against the Python loop on the small ResNet.

    Returns
    -------
    dict
        ``n``, ``parameters``, median ``vmap_s`` and ``loop_s``, the ratio summary
        (:func:`ratio_summary`, loop / vmap) and ``max_rel_diff`` between the two (they
        compute the same numbers).
    """
    model = nets.build("resnet", IN_SHAPE, CLASSES, seed=0).to(device)
    theta = nets.flatten_params(model)
    x, y = _random_digits(n, device)
    fast = probe.per_sample_grad_norms(model, theta, x, y, chunk=chunk)
    slow = probe.per_sample_grad_norms_loop(model, theta, x, y)
    vmap_t, loop_t = time_alternately(
        lambda: probe.per_sample_grad_norms(model, theta, x, y, chunk=chunk),
        lambda: probe.per_sample_grad_norms_loop(model, theta, x, y), repeats=repeats,
        device=device)
    rel = float(((fast - slow).abs() / slow.abs().clamp_min(1e-12)).max())
    return {"model": "nets.build('resnet', (1, 8, 8), 10)", "n": n,
            "parameters": int(theta.numel()), "chunk": chunk, "rounds": len(vmap_t),
            "vmap_s": _median(vmap_t), "loop_s": _median(loop_t),
            **ratio_summary(loop_t, vmap_t), "max_rel_diff": rel}


def ensemble_epoch(members=50, batch_size=64, lr=0.1, repeats=ROUNDS, device="cpu",
                   limit=None):
    """One epoch of SGD for ``members`` small ResNets together, against one by one.

    Times :func:`sgdlab.nn.train.sgd_epoch_ensemble` with both methods (``"grouped"``, the
    default, and ``"vmap"``) and :func:`sgdlab.nn.train.sgd_epoch_sequential` on the digits
    training set (the first ``limit`` images if given), with the mini-batches of
    :func:`sgdlab.nn.train.ensemble_batches`; each timed call starts from a copy of the same
    stacked parameters.

    Returns
    -------
    dict
        Median seconds per epoch (``grouped_s``, ``vmap_s``, ``sequential_s``), the ratio
        summary of sequential / grouped (``speedup``, ``speedup_range``, ``speedup_runs``) and
        of sequential / vmap (``vmap_speedup``, ``vmap_speedup_range``,
        ``vmap_speedup_runs``).
    """
    from ..nn import train
    x, y = _digits(device, limit)
    models = [nets.build("resnet", IN_SHAPE, CLASSES, seed=s).to(device) for s in range(members)]
    params, _ = stack_module_state(models)
    params = {k: v.detach() for k, v in params.items()}
    template = models[0]
    batches = train.ensemble_batches(x.shape[0], batch_size, members, list(range(members)), 0)
    batches = torch.as_tensor(batches).to(device)

    def epoch(func, steps=None, **kwargs):
        def call():
            fresh = {k: v.clone() for k, v in params.items()}
            return func(template, fresh, x, y, batches[:, :steps], lr, **kwargs)
        return call

    paths = [(train.sgd_epoch_ensemble, dict(method="grouped")),
             (train.sgd_epoch_ensemble, dict(method="vmap")),
             (train.sgd_epoch_sequential, {})]
    for func, kwargs in paths:     # warm-up on two steps of the epoch, then whole epochs
        epoch(func, 2, **kwargs)()
    grouped_t, vmap_t, seq_t = time_alternately(*(epoch(f, **kw) for f, kw in paths),
                                                repeats=repeats, device=device, warmup=0)
    grouped_s, vmap_s, seq_s = _median(grouped_t), _median(vmap_t), _median(seq_t)
    steps = int(batches.shape[1])
    vmap_ratio = {f"vmap_{key}": value for key, value in ratio_summary(seq_t, vmap_t).items()}
    return {"model": "nets.build('resnet', (1, 8, 8), 10)", "members": members,
            "n_train": int(x.shape[0]), "batch_size": batch_size, "steps_per_epoch": steps,
            "lr": lr, "rounds": len(seq_t), "grouped_s": grouped_s, "vmap_s": vmap_s,
            "sequential_s": seq_s, **ratio_summary(seq_t, grouped_t), **vmap_ratio,
            "member_steps_per_s_grouped": members * steps / grouped_s,
            "member_steps_per_s_vmap": members * steps / vmap_s,
            "member_steps_per_s_sequential": members * steps / seq_s}


def neighbourhood(k=100, rho=0.5, chunk=None, repeats=ROUNDS, device="cpu", limit=None):
    """Points per second of :func:`sgdlab.nn.probe.neighbourhood_probe` (``k`` points, radius
    ``rho``) around the small ResNet's initialisation, towards another initialisation, on the
    digits training set: ``vmap`` over ``chunk`` points at a time (None: the width of the
    default memory budget) against the Python loop over the same points
    (``vectorize=False``).

    Returns
    -------
    dict
        Median ``vmap_s`` and ``loop_s``, the ratio summary of loop / vmap (``speedup``...;
        above 1: ``vmap`` is faster), the path the probe takes by default
        (``default_path``) and ``default_over_loop``, the median speed-up of that path over
        the loop (1 when the default is the loop).
    """
    x, y = _digits(device, limit)
    model = nets.build("resnet", IN_SHAPE, CLASSES, seed=0).to(device)
    theta = nets.flatten_params(model)
    target = nets.flatten_params(nets.build("resnet", IN_SHAPE, CLASSES, seed=1).to(device))
    width = probe.vmap_width(model, theta, x, points=k) if chunk is None else chunk
    results = {}

    def run_probe(vectorize):
        def call():
            results[vectorize] = probe.neighbourhood_probe(
                model, theta, target, x, y, k=k, rho=rho, chunk=width, vectorize=vectorize)
        return call

    # warm-up on one chunk only (a full probe is the expensive part)
    for vectorize in (True, False):
        probe.neighbourhood_probe(model, theta, target, x, y, k=min(k, width), rho=rho,
                                  chunk=width, vectorize=vectorize)
    vmap_t, loop_t = time_alternately(run_probe(True), run_probe(False), repeats=repeats,
                                      device=device, warmup=0)
    vmap_s, loop_s = _median(vmap_t), _median(loop_t)
    r = results[True]
    diff = float((r.values - results[False].values).abs().max())
    ratio = ratio_summary(loop_t, vmap_t)
    default_vmap = probe.prefers_vmap(device)
    return {"model": "nets.build('resnet', (1, 8, 8), 10)", "k": k, "rho": rho, "chunk": width,
            "n_train": int(x.shape[0]), "rounds": len(vmap_t), "vmap_s": vmap_s,
            "points_per_s": k / vmap_s, "loop_s": loop_s, "loop_points_per_s": k / loop_s,
            **ratio, "default_path": "vmap" if default_vmap else "loop",
            "default_over_loop": ratio["speedup"] if default_vmap else 1.0,
            "max_abs_diff_vs_loop": diff,
            "values": {"mean": r.mean, "min": r.min, "max": r.max, "std": r.std,
                       "confidence_observed_range": r.confidence}}


def noise_paths(batches=64, shifts=16, repeats=ROUNDS, device="cpu", limit=None):
    """The two paths of :mod:`sgdlab.nn.noise` on the small ResNet and the digits training set:
    :func:`~sgdlab.nn.noise.minibatch_noise` (``batches`` mini-batches of 64) and
    :func:`~sgdlab.nn.noise.smoothed_inner` (``shifts`` points), each ``vmap`` against the
    Python loop, alternated.

    Returns
    -------
    dict
        Per function (``minibatch_noise``, ``smoothed_inner``): median ``vmap_s`` and
        ``loop_s``, the ratio summary of loop / vmap (above 1: ``vmap`` is faster), the
        path its ``vectorize=None`` takes here (``default_path``) and ``max_abs_diff``.
    """
    x, y = _digits(device, limit)
    model = nets.build("resnet", IN_SHAPE, CLASSES, seed=0).to(device)
    theta = nets.flatten_params(model)
    target = nets.flatten_params(nets.build("resnet", IN_SHAPE, CLASSES, seed=1).to(device))
    batch = min(64, x.shape[0] // 2)
    w = noise.minibatch_noise(model, theta, x, y, batch_size=batch, batches=batches)
    calls = {
        "minibatch_noise": lambda vectorize: noise.minibatch_noise(
            model, theta, x, y, batch_size=batch, batches=batches, vectorize=vectorize),
        "smoothed_inner": lambda vectorize: torch.as_tensor(noise.smoothed_inner(
            model, theta, target, 0.1 * w[:shifts], x, y, vectorize=vectorize).values)}
    defaults = {"minibatch_noise": "vmap", "smoothed_inner": "vmap"}  # on every device
    out = {}
    for name, call in calls.items():
        values = {}
        vmap_t, loop_t = time_alternately(
            lambda: values.__setitem__(True, call(True)),
            lambda: values.__setitem__(False, call(False)), repeats=repeats, device=device)
        out[name] = {"vmap_s": _median(vmap_t), "loop_s": _median(loop_t),
                     **ratio_summary(loop_t, vmap_t), "default_path": defaults[name],
                     "max_abs_diff": float((values[True] - values[False]).abs().max())}
    return dict(out, batches=batches, shifts=shifts, n_train=int(x.shape[0]), batch=batch)


def resnet34_training(batch_size=128, steps=300, warmup=20, lr=0.1, device="cuda"):
    """Training throughput (images/s) of ``nets.build("resnet34", (3, 32, 32), 10)``: plain SGD
    (``torch.optim.SGD``) on CIFAR-shaped random data, ``steps`` timed steps after ``warmup``
    steps, synchronised, with PyTorch's default math settings (TF32 convolutions on CUDA,
    reported as ``cudnn_tf32``).

    Returns
    -------
    dict
    """
    cuda = torch.device(device).type == "cuda"
    model = nets.build("resnet34", (3, 32, 32), 10, seed=0).to(device)
    model.train()
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(batch_size, 3, 32, 32, generator=gen).to(device)
    y = torch.randint(0, 10, (batch_size,), generator=gen).to(device)
    opt = torch.optim.SGD(model.parameters(), lr=lr)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()

    for _ in range(warmup):
        step()
    _sync(device)
    start = time.perf_counter()
    for _ in range(steps):
        step()
    _sync(device)
    seconds = time.perf_counter() - start
    return {"device": torch.device(device).type,
            "model": "nets.build('resnet34', (3, 32, 32), 10)",
            "parameters": int(sum(p.numel() for p in model.parameters())),
            "batch_size": batch_size, "warmup_steps": warmup, "steps": steps,
            "seconds": seconds, "images_per_s": steps * batch_size / seconds,
            "cudnn_tf32": bool(torch.backends.cudnn.allow_tf32) if cuda else None}


def _machine(device):
    info = {"torch": torch.__version__, "threads": torch.get_num_threads(),
            "cpu_count": os.cpu_count(), "load_average_at_start": _load(),
            "python": platform.python_version(),
            "platform": platform.platform(), "device": str(device)}
    if torch.device(device).type == "cuda":
        info["device_name"] = torch.cuda.get_device_name()
    else:
        name = platform.processor()
        try:
            with open("/proc/cpuinfo") as fh:
                name = next(line.split(":", 1)[1].strip() for line in fh
                            if line.startswith("model name"))
        except (OSError, StopIteration):
            pass
        info["device_name"] = name or "cpu"
    return info


def _load():
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:
        return None


def _round(obj):
    if isinstance(obj, float):
        return float(f"{obj:.5g}")
    if isinstance(obj, dict):
        return {k: _round(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_round(v) for v in obj]
    return obj


def run(device="cpu", quick=False):
    """Run every measurement once and return the JSON-ready report (a dict).

    Parameters
    ----------
    device : str
        ``"cpu"`` or ``"cuda"``.
    quick : bool
        Tiny sizes (seconds): checks that everything runs; the numbers mean little.

    Returns
    -------
    dict
    """
    t_start = time.perf_counter()
    torch.manual_seed(0)
    cuda = torch.device(device).type == "cuda"
    if quick:
        cfg = {"per_sample": dict(n=16, repeats=1),
               "ensemble": dict(members=3, repeats=1, limit=128),
               "neighbourhood": dict(k=4, chunk=2, limit=64),
               "noise": dict(batches=4, shifts=2, repeats=1, limit=64),
               "resnet34": dict(batch_size=4, steps=1, warmup=1)}
    else:
        cfg = {"per_sample": dict(n=256, repeats=ROUNDS),
               "ensemble": dict(members=50, repeats=ROUNDS),
               "neighbourhood": dict(k=100, repeats=ROUNDS),
               "noise": dict(batches=64, shifts=16, repeats=ROUNDS),
               "resnet34": (dict(batch_size=128, steps=300, warmup=20) if cuda
                            else dict(batch_size=128, steps=3, warmup=1))}
    report = {
        "benchmark": "sgdlab.nn.probe (torch.func) and ensemble training; paths timed "
                     "alternately after a warm-up, one ratio per round, median and range of "
                     "the rounds' ratios, median times",
        "machine": _machine(device),
        "quick": quick,
        "config": cfg,
    }
    report["per_sample_grad_norms"] = per_sample(device=device, **cfg["per_sample"])
    report["ensemble_epoch"] = ensemble_epoch(device=device, **cfg["ensemble"])
    report["neighbourhood_probe"] = neighbourhood(device=device, **cfg["neighbourhood"])
    report["noise_paths"] = noise_paths(device=device, **cfg["noise"])
    training = resnet34_training(device=device, **cfg["resnet34"])
    if not cuda:
        training["note"] = ("cpu: a token number of steps; the throughput goal is for "
                            "--device cuda")
    report["resnet34_training"] = training
    measured = {"per_sample_vmap_speedup": report["per_sample_grad_norms"]["speedup"],
                "ensemble_speedup": report["ensemble_epoch"]["speedup"]}
    goals = {name: {"goal": goal, "measured": measured[name], "meets_when": ">=",
                    "pass": bool(measured[name] >= goal)} for name, goal in GOALS.items()}
    report["definitions"] = {
        "per_sample_vmap_speedup": "per_sample_grad_norms_loop / per_sample_grad_norms "
                                   "(vmap over samples), small resnet, same data",
        "ensemble_speedup": "sgd_epoch_sequential / sgd_epoch_ensemble (method 'grouped': "
                            "the members as one network with grouped channels), one epoch, "
                            "same batches; ensemble_epoch.vmap_speedup is the same with "
                            "method 'vmap'",
        "neighbourhood_probe.speedup": "neighbourhood_probe with vectorize=False (Python loop "
                                       "over points) / with vmap over chunks of points; "
                                       "default_path is what vectorize=None takes here",
        "noise_paths.*.speedup": "sgdlab.nn.noise's function with vectorize=False / with "
                                 "vectorize=True; default_path is what vectorize=None takes",
        "speedup_range": "[min, max] of the rounds' ratios; speedup is their median",
    }
    report["goals"] = goals
    report["all_goals_met"] = all(g["pass"] for g in goals.values())
    report["machine"]["load_average_at_end"] = _load()
    report["total_s"] = time.perf_counter() - t_start
    return _round(report)


def main(argv=None):
    """Command line: print the report as JSON."""
    parser = argparse.ArgumentParser(prog="python -m sgdlab.bench probe", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="tiny sizes (seconds): checks that the benchmark runs")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu",
                        help="where to run (default cpu)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch CPU threads (default: torch's choice, one per core); 1 "
                             "gives steadier times on a machine shared with other work, but "
                             "lower speed-ups of the paths that use every core")
    args = parser.parse_args(argv)
    if args.threads is not None:
        if args.threads < 1:
            parser.error(f"--threads: expected an integer >= 1, got {args.threads}")
        torch.set_num_threads(args.threads)
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: CUDA is not available on this machine (torch "
                     f"{torch.__version__})")
    report = run(device=args.device, quick=args.quick)
    print(json.dumps(report, indent=2))
    return report


