"""Peak memory of one full-batch gradient, and how far the chunked f is from the one-pass f.

Two measurements behind the definition of the probed f at scale (:mod:`sgdlab.nn.probe`):

``python tools/measure_memory.py memory [--arch resnet resnet34] [--images 2000 20000]
[--batch-size 128] [--device cpu|cuda] [--one-pass]``
    For every (arch, N): a fresh Python process builds ``nets.build(arch, (3, 32, 32), 10)``,
    draws N CIFAR-shaped synthetic images (standard normal, 10 classes) and takes one
    full-batch gradient (:func:`sgdlab.nn.probe.full_batch_grad`) with the probe chunk
    ``--batch-size`` (``--one-pass``: also with ``batch_size=None``). On a CPU the peak is the
    process's maximum resident set size (``resource.getrusage(...).ru_maxrss``), measured
    before the gradient (model and data in memory) and after it; on CUDA it is
    ``torch.cuda.max_memory_allocated`` (after ``reset_peak_memory_stats``) against
    ``memory_allocated`` before. ``above_data_mb`` is the growth during the gradient.

``python tools/measure_memory.py chunking [--archs resnet densenet] [--batch-sizes ...]``
    At book scale (the digits training set, the book's small ResNet and DenseNet): at the
    initialisation and at a point trained with the book's settings (plain SGD, batch 64,
    lr 0.1, step schedule, 24 epochs), :func:`sgdlab.nn.probe.chunking_error` for a few probe
    chunk sizes, in float64.

Both print one JSON object.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHAPE = (3, 32, 32)
CLASSES = 10


def _rss_mb():
    # ru_maxrss is in KiB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(arch, images, batch_size, device, threads=1):
    """One measurement in this (fresh) process; returns a dict."""
    import torch

    from sgdlab.nn import nets, probe

    torch.set_num_threads(threads)
    cuda = torch.device(device).type == "cuda"
    model = nets.build(arch, SHAPE, CLASSES, seed=0).to(device)
    theta = nets.flatten_params(model)
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(images, *SHAPE, generator=gen).to(device)
    y = torch.randint(0, CLASSES, (images,), generator=gen).to(device)
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        before = torch.cuda.memory_allocated() / 2**20
    else:
        before = _rss_mb()
    start = time.perf_counter()
    grad = probe.full_batch_grad(model, theta, x, y, batch_size=batch_size)
    if cuda:
        torch.cuda.synchronize()
        peak = torch.cuda.max_memory_allocated() / 2**20
    else:
        peak = _rss_mb()
    estimate = probe.point_memory_bytes(model, theta, x, batch_size=batch_size) / 2**20
    return {"arch": arch, "parameters": int(theta.numel()), "images": images,
            "batch_size": batch_size, "device": str(device),
            "measure": "torch.cuda.max_memory_allocated" if cuda else "ru_maxrss",
            "data_mb": (x.element_size() * x.numel() + y.element_size() * y.numel()) / 2**20,
            "before_mb": before, "peak_mb": peak, "above_data_mb": peak - before,
            "estimate_mb": estimate, "seconds": time.perf_counter() - start,
            "grad_norm": float(grad.norm())}


def _spawn(arch, images, batch_size, device, timeout, threads):
    code = ("import json, sys; sys.path.insert(0, sys.argv[1]); "
            "from tools.measure_memory import child; "
            "b = None if sys.argv[4] == 'None' else int(sys.argv[4]); "
            "print(json.dumps(child(sys.argv[2], int(sys.argv[3]), b, sys.argv[5], "
            "int(sys.argv[6]))))")
    proc = subprocess.run([sys.executable, "-c", code, str(REPO), arch, str(images),
                           str(batch_size), device, str(threads)], cwd=REPO,
                          capture_output=True, text=True, timeout=timeout, check=False)
    if proc.returncode != 0:
        return {"arch": arch, "images": images, "batch_size": batch_size,
                "error": proc.stderr.strip().splitlines()[-1:] or ["exit " + str(proc.returncode)]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def memory(archs, images, batch_size, device, one_pass, timeout, threads=1):
    """Every (arch, N[, one pass]) in its own process; returns the JSON-ready report."""
    rows = []
    for arch in archs:
        for n in images:
            rows.append(_spawn(arch, n, batch_size, device, timeout, threads))
            if one_pass:
                rows.append(_spawn(arch, n, None, device, timeout, threads))
    return {"measurement": "peak memory of one full-batch gradient, a fresh process each",
            "python": platform.python_version(), "threads": threads, "rows": rows}


def _train_book_point(model, x, y, epochs=24, lr=0.1, batch_size=64, seed=0):
    """Plain SGD with the book's settings (step schedule: lr, lr/10 after half the epochs,
    lr/100 after three quarters); returns the parameter vector."""
    import torch

    from sgdlab.nn import nets

    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    model.train()
    for epoch in range(epochs):
        factor = 1.0 if epoch < epochs // 2 else 0.1 if epoch < 3 * epochs // 4 else 0.01
        for group in opt.param_groups:
            group["lr"] = lr * factor
        order = torch.randperm(x.shape[0], generator=gen)
        for start in range(0, x.shape[0], batch_size):
            index = order[start:start + batch_size]
            opt.zero_grad(set_to_none=True)
            torch.nn.functional.cross_entropy(model(x[index]), y[index]).backward()
            opt.step()
    return nets.flatten_params(model).detach()


def chunking(archs, batch_sizes):
    """chunking_error at the init and at a trained point of each arch on digits (float64)."""
    import torch

    from sgdlab.nn import data, nets, probe

    dataset = data.load("digits")
    x, y = dataset.x_train, dataset.y_train
    rows = []
    for arch in archs:
        model = nets.build(arch, tuple(x.shape[1:]), CLASSES, seed=0)
        init = nets.flatten_params(model).detach()
        trained = _train_book_point(model, x, y)
        for point, theta in (("init", init), ("trained", trained)):
            result = probe.chunking_error(model.double(), theta.double(), x.double(), y,
                                          batch_sizes)
            rows.append({"arch": arch, "point": point, **result.to_dict()})
            model.float()
    return {"measurement": "probe.chunking_error on the digits training set, float64",
            "n_train": int(x.shape[0]), "torch": torch.__version__, "rows": rows}


def main(argv=None):
    """Command line: print the JSON report of the chosen measurement."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="what", required=True)
    mem = sub.add_parser("memory", help="peak memory of one chunked full-batch gradient")
    mem.add_argument("--arch", nargs="+", default=["resnet", "resnet34"])
    mem.add_argument("--images", nargs="+", type=int, default=[2000, 20000])
    mem.add_argument("--batch-size", type=int, default=128)
    mem.add_argument("--device", default="cpu")
    mem.add_argument("--one-pass", action="store_true",
                     help="also measure the one-pass gradient (batch_size=None)")
    mem.add_argument("--timeout", type=float, default=1800, help="seconds per measurement")
    mem.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    chk = sub.add_parser("chunking", help="chunked against one-pass f at book scale")
    chk.add_argument("--archs", nargs="+", default=["resnet", "densenet"])
    chk.add_argument("--batch-sizes", nargs="+", type=int, default=[64, 128, 256, 512])
    args = parser.parse_args(argv)
    if args.what == "memory":
        report = memory(args.arch, args.images, args.batch_size, args.device, args.one_pass,
                        args.timeout, args.threads)
    else:
        import torch
        torch.set_num_threads(1)
        report = chunking(args.archs, args.batch_sizes)
    print(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()
