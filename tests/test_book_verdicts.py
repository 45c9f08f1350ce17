"""Three-valued verdicts (sgdlab.book.verdicts): each says "no" on data where its claim is
false, and "can't tell" where the data cannot decide."""

import pytest

from sgdlab import theory
from sgdlab.book import verdicts as v


def test_judge_and_reasons():
    assert v.judge(True) == v.Verdict("yes") and v.judge(False) == v.Verdict("no")
    undecided = v.judge(True, cant_tell=v.CANNOT_FAIL)
    assert not undecided.told and str(undecided) == "can't tell: cannot fail at these settings"
    with pytest.raises(ValueError, match="value must be one of"):
        v.Verdict("maybe")
    with pytest.raises(ValueError, match="reason must be"):
        v.Verdict("yes", "because")
    with pytest.raises(ValueError, match="reason must be"):
        v.Verdict("can't tell")


def test_share_at_most_says_yes_no_and_cant_tell():
    # Section 5.3's case: 0 of 180 cannot resolve a share of 5.83e-6 (3/n is about 1.7%)
    small = v.share_at_most(0, 180, 5.83e-6)
    assert small.value == "can't tell" and "1.65%" in small.reason
    assert v.share_at_most(0, 1000, 0.01).value == "yes"       # bound 0.3% <= 1%
    assert v.share_at_most(30, 100, 0.1).value == "no"         # the claim is false here
    # at the edges of the bounds: exactly where the Clopper-Pearson bound crosses the limit
    upper = theory.binomial_upper_bound(3, 200)
    assert v.share_at_most(3, 200, upper).value == "yes"
    assert v.share_at_most(3, 200, upper * 0.999).value == "can't tell"


def test_share_at_least_mirrors_at_most():
    assert v.share_at_least(1000, 1000, 0.99).value == "yes"
    assert v.share_at_least(50, 100, 0.9).value == "no"
    tell = v.share_at_least(90, 100, 0.9)
    assert tell.value == "can't tell" and "lower bound" in tell.reason
    with pytest.raises(ValueError, match="count"):
        v.share_at_least(101, 100, 0.5)


def test_rows_tally_and_tables():
    rows = [v.row("a", "1", True), v.row("b", "2", v.judge(0, cant_tell=v.TOO_FEW),
                                         source="ours"), v.row("c", "3", False)]
    assert v.tally(rows) == {"yes": 1, "no": 1, "can't tell": 1}
    assert v.tally_phrase(rows[:1]) == "1 yes, 0 no and 0 can't tell"
    paper, ours = v.split(rows)
    assert [r["claim"] for r in paper] == ["a", "c"] and [r["claim"] for r in ours] == ["b"]
    text = v.markdown(rows).data
    assert "| b | 2 | can't tell: too few samples to resolve the share |" in text
    with pytest.raises(ValueError, match="source must be one of"):
        v.row("d", "4", True, source="mine")


def test_plain_writes_inline_math_in_letters():
    assert v.plain("Step 3: stays within $\\delta$ (5/9)") == "Step 3: stays within δ (5/9)"
    assert v.plain("$\\nabla f(x^*) \\ne 0$: holds") == "∇f(x*) ≠ 0: holds"
    assert v.plain("mean at $T_1$ below $2b/\\lambda$") == "mean at T1 below 2b/λ"
    assert v.plain("no math") == "no math"
