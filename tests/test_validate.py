"""sgdlab._validate: one signature, one message style ("NAME must be ..., got VALUE")."""

import numpy as np
import pytest

from sgdlab import _validate as v


@pytest.mark.parametrize("call, error, message", [
    (lambda: v.real("lr", -1.0, above=0), ValueError, "lr must be a finite number > 0, got -1.0"),
    (lambda: v.real("lr", "a", above=0), TypeError, "lr must be a finite number > 0, got 'a'"),
    (lambda: v.real("lr", float("nan")), ValueError, "lr must be a finite number, got nan"),
    (lambda: v.real("lr", True), TypeError, "lr must be a finite number, got True"),
    (lambda: v.integer("steps", 2.0, low=0), TypeError, "steps must be an integer >= 0, got 2.0"),
    (lambda: v.integer("k", 0, low=1, allow_none=True), ValueError,
     "k must be an integer >= 1 or None, got 0"),
    (lambda: v.seed("seed", 2**63), ValueError, "seed must be an integer >= 0 and < 9.22337e+18"),
    (lambda: v.choice("arch", "vgg", ("resnet",)), ValueError,
     "arch must be one of ('resnet',), got 'vgg'"),
    (lambda: v.flag("resume", 1), TypeError, "resume must be True or False, got 1"),
    (lambda: v.points("x0", np.zeros((3, 2)), 1), ValueError,
     "x0 must be of shape (n, 1) for this 1-dimensional landscape, got shape (3, 2)"),
    (lambda: v.points("x0", [], 1), ValueError, "x0 must be at least one point, got an empty"),
    (lambda: v.points("x0", [np.inf], 1), ValueError, "x0 must be finite, got 1 non-finite"),
])
def test_messages_name_the_argument_and_the_value(call, error, message):
    with pytest.raises(error) as info:
        call()
    assert str(info.value).startswith(message)


def test_valid_values_come_back_converted():
    assert v.real("lr", 1) == 1.0 and isinstance(v.real("lr", 1), float)
    assert v.integer("steps", np.int64(3), low=0) == 3
    assert v.integer("k", None, allow_none=True) is None
    assert v.real("x", 0.0, low=0.0) == 0.0
    with pytest.raises(ValueError):
        v.real("x", 0.0, above=0.0)
    pts = v.points("x", [1.0, 2.0], 1)
    assert pts.shape == (2, 1) and pts.flags.c_contiguous and pts.dtype == np.float64
    source = np.zeros((2, 1))
    assert v.points("x", source, 1) is not source  # a copy: the runners work in place
