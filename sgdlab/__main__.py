"""Command line: ``python -m sgdlab run EXPERIMENT [options]`` (see ``--help``).

Runs one Section 5 experiment of :mod:`sgdlab.nn.experiments` and writes its results folder
(``result.npz`` + ``result.json``) to ``--out``, its training runs to the runs folder
(``--runs``, default ``runs/`` next to ``--out``; :mod:`sgdlab.nn.runs`), where a later
experiment with the same training settings reuses them. The
book's chapters plot such a folder instead of their own book-scale run when it is present.
The same command runs under ``torchrun`` (:mod:`sgdlab.nn.distributed`; rank 0 prints and
writes), and ``--plan`` prints an estimate of the run's time, memory and disk instead
(:mod:`sgdlab.nn.plan`).

Errors: a bad option or a folder that holds another run is one line (``error: ...``, exit
status 2). Any other failure of the run itself (a ``RuntimeError``, e.g. CUDA's, NCCL's, or
an out-of-memory error) is one line too, but its full traceback goes to a log file that the
line names: ``--out``/``error.log`` (``error-rank{r}.log`` under ``torchrun``), or a temporary
file without ``--out`` (or when that folder cannot be written). Out of memory, the line names
the device, the memory torch asked for and the options that lower it. ``--debug`` raises
every error instead, with Python's traceback.
"""

import argparse
import dataclasses
import datetime
import json
import os
import re
import sys
import tempfile
import traceback
from pathlib import Path

from .nn import distributed, experiments, io

_EPILOG = """\
experiments:
  trajectory     Figure 5a/5c: <-grad f(x_t), x_T - x_t> at every epoch of every trial, and
                 the mini-batch gradient norms and step lengths seen in training (Section 5.1)
  neighbourhood  Figure 5b: the same at --k random points of the ball of radius --rho around
                 every --probe-every'th epoch, with Hoeffding's confidence (Section 5.2)
  allpairs       Section 5.3: --shared-epochs shared, then --members seeds trained as
                 ensembles of up to 10; every epoch of every member against every final one
  spectrum       Figure 6: from --starts epochs of an lr-0.1 run, --continue-epochs more at
                 --small-lr; loss of each minimum, distance from init, one-point convexity
  noise          ours: at every --probe-every'th epoch, --noise-batches samples of the real
                 mini-batch noise (norms, anisotropy, alignment with the Hessian) and the
                 paper's g, smoothed by it and by its model, in eq. (2) against f
  gd             ours: SGD at --sgd-batches and GD (--gd-steps, --gd-lrs) from the same
                 initialisations: losses, distances, the 5.1 probe, sharpness and trace

examples:
  python -m sgdlab run trajectory --out results/trajectory
  python -m sgdlab run neighbourhood --out results/neighbourhood   # reuses trial 0 of the
                 # trajectory from results/runs (the same training settings): trains nothing
  python -m sgdlab run all --scale paper --dataset cifar10 --data-dir ~/data --plan --ranks 8
  torchrun --standalone --nproc_per_node=4 -m sgdlab run neighbourhood --scale paper \\
      --dataset cifar10 --data-dir ~/data --probe-batch 1000 --out results/paper/nbhd
  python -m sgdlab run trajectory --scale paper --dataset cifar10 --data-dir ~/data \\
      --arch resnet34 --device cuda --out results/paper/trajectory-cifar10-resnet34
  python -m sgdlab run spectrum --scale paper --dataset cifar100 --data-dir ~/data \\
      --device cuda --out results/paper/spectrum-cifar100-resnet --resume
"""


def _options():
    """The fields of ExperimentConfig offered as options (``--data-dir`` for ``data_dir``)."""
    return [f for f in dataclasses.fields(experiments.ExperimentConfig)
            if f.name in experiments.OPTIONS]


def _flag(text):
    """A yes/no option's value: true/false, yes/no, on/off or 1/0."""
    value = {"true": True, "yes": True, "on": True, "1": True,
             "false": False, "no": False, "off": False, "0": False}.get(text.lower())
    if value is None:
        raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")
    return value


def _type(option):
    """``int``, ``float``, ``str`` or a yes/no from the field's annotation (``"int | None"``
    -> int)."""
    return {"int": int, "float": float, "str": str, "bool": _flag}[
        option.type.split("|")[0].strip()]


def build_parser():
    parser = argparse.ArgumentParser(
        prog="python -m sgdlab",
        description="sgdlab: run the Section 5 experiments of Kleinberg, Li and Yuan (ICML "
                    "2018) and save their results.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = commands.add_parser(
        "run", help="run one experiment", epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Run one Section 5 experiment and write result.npz + result.json to --out. "
                    "Every option left out takes the value of the --scale preset.")
    run.add_argument("experiment", choices=experiments.EXPERIMENTS + ("all",),
                     help="which experiment ('all': every one, with --plan only)")
    run.add_argument("--scale", choices=experiments.SCALES, default="book",
                     help="preset of every knob: 'book' (digits, small nets, 2-core CPU "
                          "minutes), 'paper' (the paper's settings: CIFAR, 300 epochs, a GPU), "
                          "'tiny' (seconds, for tests); default: book")
    for option in _options():
        run.add_argument("--" + option.name.replace("_", "-"), type=_type(option),
                         choices=option.metadata["choices"], help=option.metadata["help"])
    run.add_argument("--out", help="results folder (created; resumable; shared by all ranks "
                                   "under torchrun); required unless --plan")
    run.add_argument("--runs", help="folder of the training runs, each stored once by the "
                                    "settings that determine it and reused by every "
                                    "experiment that needs it (shared by all ranks under "
                                    "torchrun); default: runs/ next to --out")
    run.add_argument("--resume", action="store_true",
                     help="continue an interrupted run in --out from its files (a folder of "
                          "another config is always refused)")
    run.add_argument("--quiet", action="store_true",
                     help="no progress bars, and no lines about the training runs reused, "
                          "trained or waited for")
    run.add_argument("--plan", action="store_true",
                     help="time a few training steps and probe gradients on --device and the "
                          "data, and print the whole run's estimated wall-clock, peak memory "
                          "and disk (per phase and in total) instead of running it")
    run.add_argument("--ranks", type=int, default=None,
                     help="with --plan: the number of processes to plan for (default: the "
                          "torchrun world size, 1 without torchrun)")
    run.add_argument("--debug", action="store_true",
                     help="on an error, raise it with Python's full traceback instead of "
                          "printing one line (without --debug, the traceback of a failed run "
                          "goes to --out/error.log, or a temporary file, named in the line)")
    return parser


def _plan(args, options, parser):
    from .nn import plan

    if not distributed.current().main:  # under torchrun, rank 0 plans for all
        return 0
    names = experiments.EXPERIMENTS if args.experiment == "all" else (args.experiment,)
    plans = [plan.estimate(name, scale=args.scale, ranks=args.ranks, **options)
             for name in names]
    print(plan.report(plans))
    return 0


def _run(args, options, parser):
    if args.experiment == "all":
        parser.error("'all' is for --plan only; run one experiment at a time")
    if args.ranks is not None:
        parser.error("--ranks is only for --plan")
    if args.out is None:
        parser.error("the following arguments are required: --out")
    result = experiments.run(args.experiment, scale=args.scale, out=args.out, runs=args.runs,
                             resume=args.resume, progress=not args.quiet, **options)
    if distributed.current().main:  # under torchrun, rank 0 prints
        print(json.dumps({"out": args.out, "world_size": result["world_size"],
                          "config": result["config"], "summary": result["summary"]},
                         indent=2))
    return 0


def main(argv=None):
    """Entry point; returns the process exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    options = {name: getattr(args, name) for name in experiments.OPTIONS}
    failed = True
    try:
        status = (_plan if args.plan else _run)(args, options, parser)
        failed = False
        return status
    except (ValueError, FileNotFoundError, FileExistsError) as err:
        if args.debug:
            raise
        print(f"error: {err}", file=sys.stderr)
        return 2
    except (RuntimeError, MemoryError) as err:  # torch.cuda.OutOfMemoryError is a RuntimeError
        if args.debug:
            raise
        print(_failure(err, args, options, _log(err, argv, args.out)), file=sys.stderr)
        return 2
    finally:  # after an error the other ranks may never reach a last barrier
        distributed.shutdown(distributed.current(), wait=not failed)


def _log(err, argv, out):
    """Write ``err``'s full traceback to ``out/error.log`` (``error-rank{r}.log`` under
    torchrun), or to a temporary file without ``out`` or when ``out`` cannot be written;
    return its path."""
    context = distributed.current()
    text = (f"python -m sgdlab {' '.join(argv)}\n"
            f"failed at {datetime.datetime.now().astimezone().isoformat(timespec='seconds')} "
            f"on rank {context.rank} of {context.world_size}\n\n"
            + "".join(traceback.format_exception(type(err), err, err.__traceback__)))
    if out is not None:
        name = "error.log" if context.world_size == 1 else f"error-rank{context.rank}.log"
        path = Path(out) / name
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            io.write_atomic(path, lambda f: f.write(text.encode()))
            return path
        except OSError:
            pass
    fd, path = tempfile.mkstemp(prefix="sgdlab-error-", suffix=".log")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    return Path(path)


def _failure(err, args, options, log):
    """The message of a failed run: out of memory, what and where, and the options that
    lower it; else the error's own message; then where its traceback is."""
    pointer = f"Full traceback in {log} (or rerun with --debug)."
    if not _out_of_memory(err):
        return f"error: {err}\n{pointer}"
    cfg = _config(args, options)
    message = str(err)
    where = _where(err)
    device = _oom_device(message, isinstance(err, MemoryError), cfg)
    head = f"error: out of memory on {device}" + (f" in {where}" if where else "")
    asked = re.search(r"tried to allocate ([\d.]+ ?[KMGTP]?i?B)\b", message, re.I)
    cpu_asked = re.search(r"tried to allocate (\d+) bytes", message, re.I)
    if asked:
        head += f": torch tried to allocate {asked.group(1)}"
    elif cpu_asked:
        head += f": torch tried to allocate {int(cpu_asked.group(1)) / 2**30:.2f} GiB"
    free = re.search(r"total capacity of ([\d.]+ ?\w+) of which ([\d.]+ ?\w+) is free",
                     message)
    if free:
        head += f" ({free.group(2)} of {free.group(1)} free)"
    lowers = _lowering_options(where, device, cfg)
    joined = lowers[0] if len(lowers) == 1 else ", ".join(lowers[:-1]) + " or " + lowers[-1]
    return f"{head}. Lower what a run holds at once with {joined}. {pointer}"


def _out_of_memory(err):
    if isinstance(err, MemoryError):
        return True
    torch = sys.modules.get("torch")
    oom = getattr(getattr(torch, "cuda", None), "OutOfMemoryError", None)
    if oom is not None and isinstance(err, oom):
        return True
    return bool(re.search(r"out of memory|not enough memory", str(err), re.I))


def _config(args, options):
    """The run's config (the preset with the options), or None if it cannot be made."""
    experiment = "trajectory" if args.experiment == "all" else args.experiment
    try:
        return experiments.config_for(experiment, args.scale, **options)
    except (ValueError, TypeError):
        return None


def _where(err):
    """"the probes" or "training" when the traceback passes through those modules."""
    files = [frame.filename.replace("\\", "/")
             for frame in traceback.extract_tb(err.__traceback__)]
    if any(f.endswith("sgdlab/nn/probe.py") for f in files):
        return "the probes"
    if any(f.endswith(("sgdlab/nn/train.py", "sgdlab/nn/grouped.py")) for f in files):
        return "training"
    return None


def _oom_device(message, python, cfg):
    """The device that ran out: the GPU torch names, the CPU for the CPU allocator's (or
    Python's) error, else the run's device (this rank's GPU under torchrun)."""
    gpu = re.search(r"\bGPU (\d+)\b", message)
    if gpu:
        return f"cuda:{gpu.group(1)}"
    if python or "CPUAllocator" in message:
        return "cpu"
    if cfg is None:
        return "the device"
    return f"cuda:{distributed.current().local_rank}" if cfg.device == "cuda" else cfg.device


_LOWERS = {
    "memory_gb": ("--memory-gb", "the probes' vmap budget in GiB",
                  lambda v: "a share of the free GPU memory" if v is None else f"{v:g}"),
    "probe_batch": ("--probe-batch", "training images per probe gradient chunk",
                    lambda v: "all of them in one pass" if v is None else f"{v}"),
    "batch_size": ("--batch-size", "training mini-batch", str),
}
"""The options that lower a run's memory: (option, what it sets, its value now as text)."""


def _lowering_options(where, device, cfg):
    """The options that lower the memory of ``where`` (all of them where unknown), each with
    its value now. ``--memory-gb`` only on a GPU: on a CPU the probes loop over points."""
    names = {"the probes": ("memory_gb", "probe_batch"), "training": ("batch_size",)}.get(
        where, ("memory_gb", "probe_batch", "batch_size"))
    texts = []
    for name in names:
        if name == "memory_gb" and not device.startswith("cuda"):
            continue
        option, what, now = _LOWERS[name]
        texts.append(f"{option} ({what}" + ("" if cfg is None
                                            else f"; now {now(getattr(cfg, name))}") + ")")
    return texts


if __name__ == "__main__":
    sys.exit(main())
