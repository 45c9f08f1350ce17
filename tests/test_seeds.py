"""The one seed derivation of sgdlab.nn (sgdlab.nn.seeds): distinct, stable, in range, used."""

import itertools
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sgdlab.nn.seeds import SEED_LIMIT, Purpose, derive

NN = Path(__file__).resolve().parents[1] / "sgdlab" / "nn"


def test_same_inputs_give_the_same_seed_in_another_process():
    here = [derive(7, Purpose.TRIAL, 3), derive(2**62, Purpose.BALL_POINT, 5, 9)]
    code = ("from sgdlab.nn.seeds import Purpose, derive; "
            "print(derive(7, Purpose.TRIAL, 3), derive(2**62, Purpose.BALL_POINT, 5, 9))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert [int(v) for v in out.stdout.split()] == here
    assert derive(np.int64(7), Purpose.TRIAL, np.uint8(3)) == here[0]  # numpy integers too


def test_distinct_purposes_indices_and_seeds_give_distinct_seeds():
    seeds = (0, 1, 2, 2**32, 2**32 + 1, SEED_LIMIT - 1)
    indices = ((), (0,), (1,), (2**32,), (0, 0), (0, 1), (1, 0), (0, 2**32), (2**32, 0))
    inputs = list(itertools.product(seeds, Purpose, indices))
    derived = {derive(s, p, *i) for s, p, i in inputs}
    assert len(derived) == len(inputs)
    # the idioms it replaces collided: seed + i against seed + 1, and seed * 100_003 + t
    assert derive(0, Purpose.TRIAL, 1) != derive(1, Purpose.TRIAL, 0)
    assert derive(0, Purpose.BALL, 100_003) != derive(1, Purpose.BALL, 0)
    # trailing zeros and the split of a big number into words are not lost
    assert derive(0, Purpose.TRIAL) != derive(0, Purpose.TRIAL, 0)
    assert derive(2**32, Purpose.TRIAL) != derive(0, Purpose.TRIAL, 1)


def test_seeds_fit_torch_and_every_seed_argument():
    import torch

    derived = [derive(s, p, i) for s in (0, 1, SEED_LIMIT - 1) for p in Purpose
               for i in range(50)]
    assert all(isinstance(v, int) and 0 <= v < SEED_LIMIT for v in derived)
    assert SEED_LIMIT == 2**63
    # spread over the whole range: the top bit of the 63 is set about half the time
    assert 0.3 < np.mean([v >= 2**62 for v in derived]) < 0.7
    for value in (min(derived), max(derived)):
        assert torch.Generator().manual_seed(value).initial_seed() == value
    assert derive(max(derived), Purpose.TRIAL, max(derived)) < SEED_LIMIT  # chains


def test_purposes_are_stable():
    """The values are part of the draws: renumbering a purpose changes every result."""
    assert {p.name: p.value for p in Purpose} == {
        "BATCHES": 1, "AUGMENT": 2, "BALL_POINT": 3, "TRIAL": 4, "BALL": 5, "MEMBER": 6,
        "RESTART": 7, "NOISE": 8, "LANCZOS": 9, "MODEL_NOISE": 10, "TRACE": 11}


@pytest.mark.parametrize("args, error, message", [
    ((-1, Purpose.TRIAL), ValueError, r"seed must be an integer >= 0 and < .*, got -1"),
    ((2**63, Purpose.TRIAL), ValueError, rf"seed must be an integer >= 0 .*, got {2**63}"),
    ((1.0, Purpose.TRIAL), TypeError, r"seed must be an integer .*, got 1\.0"),
    ((True, Purpose.TRIAL), TypeError, r"seed must be an integer .*, got True"),
    ((0, 4), TypeError, r"purpose must be a member of sgdlab\.nn\.seeds\.Purpose .*, got 4"),
    ((0, "TRIAL"), TypeError, r"purpose must be a member of .*, got 'TRIAL'"),
    ((0, Purpose.TRIAL, -1), ValueError, r"indices\[0\] must be an integer >= 0 .*, got -1"),
    ((0, Purpose.TRIAL, 1, "2"), TypeError, r"indices\[1\] must be an integer .*, got '2'"),
])
def test_bad_arguments_are_named(args, error, message):
    with pytest.raises(error, match=message):
        derive(*args)


ARITHMETIC = {"+", "-", "*", "/", "//", "%", "**", "^", "|", "&", "<<", ">>"}


def _old_idioms(source):
    """The seed idioms :func:`derive` replaces in the code of ``source`` (strings, docstrings
    and comments left out): ``SeedSequence``, and arithmetic on a name that says seed
    (``seed + i``, ``cfg.seed * 100_003 + t``, ``1000 + seed``)."""
    import io
    import tokenize

    words = []  # names (dotted ones joined) and operators, in order
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.NAME and words and words[-1] == "." and len(words) > 1:
            words[-2:] = [words[-2] + "." + tok.string]
        elif tok.type in (tokenize.NAME, tokenize.OP, tokenize.NUMBER):
            words.append(tok.string)
    found = [w for w in words if "SeedSequence" in w]
    for a, b in zip(words, words[1:]):
        if ("seed" in a.lower() and b in ARITHMETIC) or (a in ARITHMETIC
                                                          and "seed" in b.lower()):
            found.append(f"{a} {b}")
    return found


def test_no_other_seed_idiom_remains_in_sgdlab_nn():
    """Every derived seed of sgdlab.nn comes from sgdlab.nn.seeds.derive."""
    bad = {path.name: _old_idioms(path.read_text()) for path in sorted(NN.glob("*.py"))
           if path.name != "seeds.py"}
    assert not any(bad.values()), bad
    assert "np.random.SeedSequence" in _old_idioms((NN / "seeds.py").read_text())  # the one


def test_the_idiom_check_catches_the_old_idioms():
    old = ('"""Doc: seed + 1 is fine here."""\n'
           "a = cfg.seed * 100_003 + t\nb = dict(seed=cfg.seed + i, other=1000 + seed)\n"
           "c = np.random.SeedSequence([seed, index])  # seed + 1\n"
           "d = validate.seed('seed', seed)\ne = derive(cfg.seed, Purpose.BALL, t)\n")
    assert _old_idioms(old) == ["np.random.SeedSequence", "cfg.seed *", "cfg.seed +",
                                "+ seed"]
