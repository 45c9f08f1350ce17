"""Command line: ``python -m sgdlab run EXPERIMENT [options]`` (see ``--help``).

Runs one Section 5 experiment of :mod:`sgdlab.nn.experiments` and writes its results folder
(``result.npz`` + ``result.json``, and every training run's checkpoints) to ``--out``. The
book's chapters plot such a folder instead of their own book-scale run when it is present.
The same command runs under ``torchrun`` (:mod:`sgdlab.nn.distributed`; rank 0 prints and
writes), and ``--plan`` prints an estimate of the run's time, memory and disk instead
(:mod:`sgdlab.nn.plan`).
"""

import argparse
import dataclasses
import json
import sys

from .nn import distributed, experiments

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

examples:
  python -m sgdlab run trajectory --out results/trajectory
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
                     help="which experiment ('all': the four, with --plan only)")
    run.add_argument("--scale", choices=experiments.SCALES, default="book",
                     help="preset of every knob: 'book' (digits, small nets, 2-core CPU "
                          "minutes), 'paper' (the paper's settings: CIFAR, 300 epochs, a GPU), "
                          "'tiny' (seconds, for tests); default: book")
    for option in _options():
        run.add_argument("--" + option.name.replace("_", "-"), type=_type(option),
                         choices=option.metadata["choices"], help=option.metadata["help"])
    run.add_argument("--out", help="results folder (created; resumable; shared by all ranks "
                                   "under torchrun); required unless --plan")
    run.add_argument("--resume", action="store_true",
                     help="continue an interrupted run in --out from its checkpoints")
    run.add_argument("--quiet", action="store_true", help="no progress bars")
    run.add_argument("--plan", action="store_true",
                     help="time a few training steps and probe gradients on --device and the "
                          "data, and print the whole run's estimated wall-clock, peak memory "
                          "and disk (per phase and in total) instead of running it")
    run.add_argument("--ranks", type=int, default=None,
                     help="with --plan: the number of processes to plan for (default: the "
                          "torchrun world size, 1 without torchrun)")
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
    result = experiments.run(args.experiment, scale=args.scale, out=args.out,
                             resume=args.resume, progress=not args.quiet, **options)
    if distributed.current().main:  # under torchrun, rank 0 prints
        print(json.dumps({"out": args.out, "world_size": result["world_size"],
                          "config": result["config"], "summary": result["summary"]},
                         indent=2))
    return 0


def main(argv=None):
    """Entry point; returns the process exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    options = {name: getattr(args, name) for name in experiments.OPTIONS}
    failed = True
    try:
        status = (_plan if args.plan else _run)(args, options, parser)
        failed = False
        return status
    except (ValueError, FileNotFoundError, FileExistsError, RuntimeError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    finally:  # after an error the other ranks may never reach a last barrier
        distributed.shutdown(distributed.current(), wait=not failed)


if __name__ == "__main__":
    sys.exit(main())
