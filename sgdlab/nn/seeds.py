"""The one derivation of seeds in :mod:`sgdlab.nn`: the user's seed, a named purpose, indices.

Every random draw of the PyTorch floor (a training run's batch order and augmentation, the
points of a probed ball, the runs of an experiment) takes its seed from :func:`derive`, never
from arithmetic on the user's seed (``seed + i`` collides with the run of seed ``seed + 1``;
``seed * 100_003 + t`` with another seed's ``t + 100_003``). Each use has its own
:class:`Purpose`, so two uses of one seed never share draws, and the indices number the
draws of one purpose (an epoch, a trial, a point). The seed depends on its arguments alone:
not on the rank, the thread count or the order of the calls, so a unit of work gets the same
seed wherever it runs (:mod:`sgdlab.nn.distributed`).

Numpy only: importing this module imports neither torch nor numba.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np

from .. import _validate as validate

__all__ = ["Purpose", "SEED_LIMIT", "derive"]

SEED_LIMIT = validate.SEED_LIMIT
"""Seeds in and out are integers in [0, 2**63), so a derived seed is a valid ``seed`` of
every function of the package (and of :meth:`torch.Generator.manual_seed`)."""


class Purpose(IntEnum):
    """What a derived seed is for (the values are part of the draws: never renumber them).

    The indices :func:`derive` takes after each purpose are given in brackets.
    """

    BATCHES = 1
    """Mini-batch order of one epoch of a training run
    (:func:`sgdlab.nn.train.epoch_batches`) [epoch]."""
    AUGMENT = 2
    """Random crops and flips of one epoch (:func:`sgdlab.nn.data.augmentation`) [epoch]."""
    BALL_POINT = 3
    """One random point of a probed ball (:func:`sgdlab.nn.probe.neighbourhood_points`)
    [point index]."""
    TRIAL = 4
    """Training run of trial ``i`` of an experiment (:mod:`sgdlab.nn.experiments`); trial 0
    is also the one run of ``neighbourhood``, the shared epochs of ``allpairs`` and the base
    run of ``spectrum`` [trial]."""
    BALL = 5
    """The points of the ball around epoch ``t`` of ``neighbourhood`` [epoch]."""
    MEMBER = 6
    """Member ``m`` of ``allpairs``, trained on from the shared point [member]."""
    RESTART = 7
    """The continuation from epoch ``s`` of ``spectrum`` at the small step size [epoch]."""
    NOISE = 8
    """The mini-batches whose gradients sample the noise at epoch ``t`` of ``noise`` [epoch]."""
    LANCZOS = 9
    """The start vector of the Lanczos iteration at a probed point of ``noise`` or ``gd``
    [epoch] or [run, epoch]."""
    MODEL_NOISE = 10
    """The paper's model noise (uniform in a ball) at epoch ``t`` of ``noise`` [epoch]."""
    TRACE = 11
    """The Rademacher vectors of Hutchinson's trace at a point of ``gd`` [run, epoch]."""


def derive(seed, purpose, *indices):
    """The seed of draw ``indices`` of ``purpose`` under the user's ``seed``.

    The integers ``(seed, purpose, len(indices), *indices)`` are written as 32-bit words
    (two words each for ``seed`` and every index, one for ``purpose`` and for the count, so
    that two different argument lists never give the same words), hashed by
    :class:`numpy.random.SeedSequence`, and the first 64-bit word of its state, shifted right
    by one bit, is the result. Different arguments give independent-looking seeds (equal
    ones with chance about :math:`2^{-63}`); the same arguments always give the same seed.

    Parameters
    ----------
    seed : int
        The user's seed, in [0, 2**63).
    purpose : Purpose
        What the seed is for (an int is refused: name the purpose).
    *indices : int
        Which draw of that purpose, each in [0, 2**63) (an epoch, a trial, a point ...).

    Returns
    -------
    int
        A seed in [0, 2**63), for :meth:`torch.Generator.manual_seed`, ``TrainConfig.seed``
        or another :func:`derive`.

    Raises
    ------
    TypeError, ValueError
        A bad argument, with a message that names it.

    Examples
    --------
    >>> from sgdlab.nn.seeds import Purpose, derive
    >>> derive(0, Purpose.TRIAL, 1) == derive(0, Purpose.TRIAL, 1)
    True
    >>> derive(0, Purpose.TRIAL, 1) != derive(1, Purpose.TRIAL, 0)
    True
    """
    seed = validate.seed("seed", seed)
    if not isinstance(purpose, Purpose):
        validate.fail("purpose", "a member of sgdlab.nn.seeds.Purpose (e.g. Purpose.TRIAL)",
                      purpose, TypeError)
    indices = [validate.seed(f"indices[{k}]", i) for k, i in enumerate(indices)]
    words = [seed & 0xFFFFFFFF, seed >> 32, int(purpose), len(indices)]
    for i in indices:
        words += [i & 0xFFFFFFFF, i >> 32]
    state = np.random.SeedSequence(np.array(words, dtype=np.uint32)).generate_state(1, np.uint64)
    return int(state[0] >> np.uint64(1))
