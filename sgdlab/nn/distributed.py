"""Many processes, GPUs and machines through ``torchrun``: the process group and its few
collectives.

``torchrun --nproc_per_node=N [--nnodes=M ...] -m sgdlab run EXPERIMENT ...`` starts N x M
copies of the same command, each with the environment variables ``RANK``, ``WORLD_SIZE``,
``LOCAL_RANK``, ``MASTER_ADDR`` and ``MASTER_PORT``. :func:`init` reads them and joins the
process group (NCCL on GPUs, each rank on ``cuda:LOCAL_RANK``; gloo on the CPU); without them
it is a world of one process and every collective is the identity, so the same code runs
alone or under ``torchrun``.

The experiments (:mod:`sgdlab.nn.experiments`) cut their work into named *units* (trials,
probe epochs, member groups, restart epochs) and give unit ``i`` of a phase to rank
``i mod world_size`` (:func:`share`). Which rank runs a unit never changes its numbers: the
seeds belong to the unit, not to the rank. After each phase the ranks exchange their units'
arrays (:func:`all_gather`); rank 0 writes the result.

Importing this module does not import torch (each function imports it when called).
"""

from __future__ import annotations

import datetime
import math
import os
import sys
from dataclasses import dataclass

from .. import _validate as validate

__all__ = ["TIMEOUT_MINUTES", "TIMEOUT_ENV", "timeout_minutes", "Context", "SINGLE",
           "launched", "init", "current", "barrier", "gather", "all_gather", "share",
           "shutdown"]

_ENV = ("RANK", "WORLD_SIZE", "LOCAL_RANK")
TIMEOUT_MINUTES = 30 * 24 * 60
"""The default longest wait of one collective (30 days; the environment variable
:data:`TIMEOUT_ENV`, in hours, overrides it: :func:`timeout_minutes`). Ranks with no unit
left in a phase wait for the slowest; rank 0 trains the whole neighbourhood run alone (72.7 h
at the paper's scale, README) while the others wait."""
TIMEOUT_ENV = "SGDLAB_DIST_TIMEOUT_H"
"""The environment variable that sets the longest wait of one collective, in hours."""


def timeout_minutes():
    """The longest wait of one collective, in minutes: ``$SGDLAB_DIST_TIMEOUT_H`` hours when
    set, else :data:`TIMEOUT_MINUTES`."""
    text = os.environ.get(TIMEOUT_ENV, "").strip()
    if not text:
        return float(TIMEOUT_MINUTES)
    try:
        hours = float(text)
    except ValueError:
        hours = math.nan
    if not (math.isfinite(hours) and hours > 0):
        validate.fail(TIMEOUT_ENV, "a number of hours > 0", text)
    return hours * 60


@dataclass(frozen=True)
class Context:
    """Where this process stands in the run.

    Attributes
    ----------
    rank, world_size, local_rank : int
        Rank among all processes, their number, rank on this machine.
    backend : str or None
        ``"nccl"`` or ``"gloo"`` under ``torchrun``; None for a single process.
    """

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    backend: str | None = None

    @property
    def main(self):
        """True on rank 0 (the one that writes the result)."""
        return self.rank == 0


SINGLE = Context()
"""The context of a process started without ``torchrun``."""


def launched():
    """Whether this process was started by ``torchrun`` (its environment variables are set)."""
    return all(name in os.environ for name in _ENV) and int(os.environ["WORLD_SIZE"]) > 1


def init(device="cpu"):
    """Join the process group that ``torchrun`` set up, or return :data:`SINGLE`.

    Parameters
    ----------
    device : {"cpu", "cuda"}
        ``"cuda"``: NCCL, and this process uses ``cuda:LOCAL_RANK`` (so ``"cuda"`` in the
        rest of the run means that GPU). ``"cpu"``: gloo.

    Returns
    -------
    Context
    """
    validate.choice("device", device, ("cpu", "cuda"))
    if not launched():
        return SINGLE
    import torch
    import torch.distributed as dist

    local_rank = int(os.environ["LOCAL_RANK"])
    backend = "gloo"
    if device == "cuda":
        torch.cuda.set_device(local_rank)
        backend = "nccl"
    if not dist.is_initialized():
        dist.init_process_group(backend,
                                timeout=datetime.timedelta(minutes=timeout_minutes()))
    return Context(rank=dist.get_rank(), world_size=dist.get_world_size(),
                   local_rank=local_rank, backend=backend)


def current():
    """This process's :class:`Context`, without joining anything.

    The process group's context when this process has joined one (:func:`init`); else, under
    ``torchrun``, the ranks its environment variables give, with ``backend`` None (not
    joined: every collective would fail, but the rank is known, e.g. for ``--plan``, which
    rank 0 alone computes); else :data:`SINGLE`. Imports torch only if it is imported already.

    Returns
    -------
    Context
    """
    if not launched():
        return SINGLE
    local_rank = int(os.environ["LOCAL_RANK"])
    if "torch.distributed" in sys.modules:
        import torch.distributed as dist

        if dist.is_available() and dist.is_initialized():
            return Context(rank=dist.get_rank(), world_size=dist.get_world_size(),
                           local_rank=local_rank, backend=str(dist.get_backend()))
    return Context(rank=int(os.environ["RANK"]), world_size=int(os.environ["WORLD_SIZE"]),
                   local_rank=local_rank)


def _active(context):
    if not isinstance(context, Context):
        validate.fail("context", "a distributed.Context", error=TypeError,
                      shown=type(context).__name__)
    return context.world_size > 1


def barrier(context):
    """Wait until every rank gets here (nothing to do in a single process)."""
    if _active(context):
        import torch.distributed as dist

        dist.barrier()


def gather(context, obj):
    """``obj`` of every rank (picklable: numpy arrays, JSON-able values), on rank 0.

    Returns
    -------
    list or None
        ``[obj of rank 0, obj of rank 1, ...]`` on rank 0, None on the others.
    """
    if not _active(context):
        return [obj]
    import torch.distributed as dist

    out = [None] * context.world_size if context.main else None
    dist.gather_object(obj, out, dst=0)
    return out


def all_gather(context, obj):
    """``obj`` of every rank, on every rank: ``[obj of rank 0, obj of rank 1, ...]``."""
    if not _active(context):
        return [obj]
    import torch.distributed as dist

    out = [None] * context.world_size
    dist.all_gather_object(out, obj)
    return out


def share(count, context):
    """The indices of the ``count`` units of a phase that this rank runs: ``i`` with
    ``i % world_size == rank`` (disjoint across ranks, together ``range(count)``)."""
    count = validate.integer("count", count, low=0)
    _active(context)
    return list(range(context.rank, count, context.world_size))


def shutdown(context, *, wait=True):
    """Leave the process group, if this process joined one; nothing to do otherwise (a
    single process, or ranks that never joined, as under ``--plan``).

    Parameters
    ----------
    context : Context
    wait : bool, default True
        Meet the other ranks at a last barrier first. False after an error: the other ranks
        may be waiting in another collective, or be gone, and would never meet this one.
    """
    wait = validate.flag("wait", wait)
    if _active(context):
        import torch.distributed as dist

        if dist.is_initialized():
            if wait:
                dist.barrier()
            dist.destroy_process_group()
