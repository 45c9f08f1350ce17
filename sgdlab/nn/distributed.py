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
seeds belong to the unit, not to the rank. The units exchange their arrays through files on
a shared file system, never through these collectives, which carry small objects only (the
decision to run, a few hundred bytes): a rank waiting for another's unit waits on the file
system, not in a collective. So every collective keeps torch's default timeout (see
:func:`torch.distributed.init_process_group`), and with it the detection of a hung rank
(NCCL's watchdog); rank 0 writes the result.

Importing this module does not import torch (each function imports it when called).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass

from .. import _validate as validate

__all__ = ["Context", "SINGLE", "launched", "init", "current", "barrier", "gather", "all_gather",
           "share", "shutdown"]

_ENV = ("RANK", "WORLD_SIZE", "LOCAL_RANK")


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
    if not dist.is_initialized():  # torch's default timeout: no collective waits for a unit
        dist.init_process_group(backend)
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
    """``obj`` of every rank (small and picklable: JSON-able values, paths), on rank 0.

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
    """``obj`` of every rank (small and picklable), on every rank: ``[obj of rank 0, obj of
    rank 1, ...]``."""
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
