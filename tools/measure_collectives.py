"""Bytes that ``python -m sgdlab run ...`` sends through torch's object collectives.

Run it under ``torchrun`` in place of ``-m sgdlab``::

    torchrun --standalone --nproc_per_node=2 tools/measure_collectives.py LOG -- \\
        run neighbourhood --scale tiny --out /tmp/nbhd --quiet

Every rank patches :func:`torch.distributed.all_gather_object`, ``gather_object``,
``broadcast_object_list`` and ``scatter_object_list`` to record the pickled size of what it
hands them (the object this rank sends; what it receives is the other ranks' objects), then
runs :func:`sgdlab.__main__.main` with the arguments after ``--`` and writes
``LOG.rank{R}.json``: ``{"rank", "status", "calls": [{"op", "bytes"}, ...]}``. It measures
torch's functions, not sgdlab's wrappers, so it measures any version of the package (the
tests use it; ``tests/test_distributed.py``).
"""

from __future__ import annotations

import json
import os
import pickle
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _patch(calls):
    import torch.distributed as dist

    def wrap(name, sent):
        real = getattr(dist, name)

        def measured(*args, **kwargs):
            calls.append({"op": name, "bytes": len(pickle.dumps(sent(*args, **kwargs)))})
            return real(*args, **kwargs)

        setattr(dist, name, measured)

    wrap("all_gather_object", lambda out, obj, *a, **k: obj)
    wrap("gather_object", lambda obj, *a, **k: obj)
    wrap("broadcast_object_list", lambda objects, *a, **k: objects)
    wrap("scatter_object_list", lambda out, objects, *a, **k: objects)


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if len(argv) < 2 or argv[1] != "--":
        print(__doc__, file=sys.stderr)
        return 2
    log, args = Path(argv[0]), argv[2:]
    sys.path.insert(0, os.getcwd())  # the sgdlab of the working folder (PYTHONPATH works too)
    calls = []
    _patch(calls)
    from sgdlab import __main__ as cli

    status = cli.main(args)
    rank = int(os.environ.get("RANK", "0"))
    Path(f"{log}.rank{rank}.json").write_text(json.dumps(
        {"rank": rank, "status": status, "calls": calls}, indent=1))
    return status


if __name__ == "__main__":
    sys.exit(main())
