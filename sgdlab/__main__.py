"""Command line: ``python -m sgdlab run EXPERIMENT [options]`` (see ``--help``).

Runs one Section 5 experiment of :mod:`sgdlab.nn.experiments` and writes its results folder
(``result.npz`` + ``result.json``, and every training run's checkpoints) to ``--out``. The
book's chapters plot such a folder instead of their own book-scale run when it is present.
"""

import argparse
import dataclasses
import json
import sys

from .nn import experiments

_EPILOG = """\
experiments:
  trajectory     Figure 5a/5c: <-grad f(x_t), x_T - x_t> at every epoch of every trial, and
                 the mini-batch gradient norms and step lengths seen in training (Section 5.1)
  neighbourhood  Figure 5b: the same at --k random points of the ball of radius --rho around
                 every --probe-every'th epoch, with Hoeffding's confidence (Section 5.2)
  allpairs       Section 5.3: --shared-epochs shared, then --members seeds trained as one
                 ensemble; every epoch of every member against every final solution
  spectrum       Figure 6: from --starts epochs of an lr-0.1 run, --continue-epochs more at
                 --small-lr; loss of each minimum, distance from init, one-point convexity

examples:
  python -m sgdlab run trajectory --out results/trajectory
  python -m sgdlab run trajectory --scale paper --dataset cifar10 --data-dir ~/data \\
      --arch resnet34 --device cuda --out results/paper/trajectory-cifar10-resnet34
  python -m sgdlab run spectrum --scale paper --dataset cifar100 --data-dir ~/data \\
      --device cuda --out results/paper/spectrum-cifar100-resnet --resume
"""


def _options():
    """The fields of ExperimentConfig offered as options (``--data-dir`` for ``data_dir``)."""
    return [f for f in dataclasses.fields(experiments.ExperimentConfig)
            if f.name in experiments.OPTIONS]


def _type(option):
    """``int``, ``float`` or ``str`` from the field's annotation (``"int | None"`` -> int)."""
    return {"int": int, "float": float, "str": str}[option.type.split("|")[0].strip()]


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
    run.add_argument("experiment", choices=experiments.EXPERIMENTS, help="which experiment")
    run.add_argument("--scale", choices=experiments.SCALES, default="book",
                     help="preset of every knob: 'book' (digits, small nets, 2-core CPU "
                          "minutes), 'paper' (the paper's settings: CIFAR, 300 epochs, a GPU), "
                          "'tiny' (seconds, for tests); default: book")
    for option in _options():
        run.add_argument("--" + option.name.replace("_", "-"), type=_type(option),
                         choices=option.metadata["choices"], help=option.metadata["help"])
    run.add_argument("--out", required=True, help="results folder (created; resumable)")
    run.add_argument("--resume", action="store_true",
                     help="continue an interrupted run in --out from its checkpoints")
    run.add_argument("--quiet", action="store_true", help="no progress bars")
    return parser


def main(argv=None):
    """Entry point; returns the process exit status."""
    args = build_parser().parse_args(argv)
    options = {name: getattr(args, name) for name in experiments.OPTIONS}
    try:
        result = experiments.run(args.experiment, scale=args.scale, out=args.out,
                                 resume=args.resume, progress=not args.quiet, **options)
    except (ValueError, FileNotFoundError, FileExistsError, RuntimeError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(json.dumps({"out": args.out, "config": result["config"],
                      "summary": result["summary"]}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
