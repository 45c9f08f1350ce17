"""Three-valued verdicts: a check of a claim says "yes", "no", or "can't tell" and why.

A row says "yes" only where the same test, fed data on which the claim is false, says "no".
Where the data cannot decide (too few samples to resolve a share, a bound that cannot fail at
the settings used, a threshold measured on another network) the verdict is "can't tell" with
its reason, and every tally counts it apart from yes and no.

A ledger row is a dict with ``claim``, ``measured`` and ``verdict`` (a :class:`Verdict`), and
``source``: ``"paper"`` for a claim of the paper, ``"ours"`` for a check of our own; the two
kinds go in separate tables (:func:`split`).
"""

import re
from dataclasses import dataclass

from .. import _validate as validate
from .. import theory
from . import tables

__all__ = ["YES", "NO", "CANT_TELL", "TOO_FEW", "CANNOT_FAIL", "OTHER_NETWORK", "Verdict",
           "judge", "share_at_most", "share_at_least", "row", "split", "tally", "tally_phrase",
           "markdown", "plain"]

YES, NO, CANT_TELL = "yes", "no", "can't tell"
VALUES = (YES, NO, CANT_TELL)
SOURCES = ("paper", "ours")

TOO_FEW = "too few samples to resolve the share"
CANNOT_FAIL = "cannot fail at these settings"
OTHER_NETWORK = "the threshold was measured on another network"


@dataclass(frozen=True)
class Verdict:
    """One verdict: ``value`` is ``"yes"``, ``"no"`` or ``"can't tell"``; ``reason`` says why
    a "can't tell" could not decide (empty for yes and no)."""

    value: str
    reason: str = ""

    def __post_init__(self):
        if self.value not in VALUES:
            validate.fail("value", f"one of {VALUES}", self.value)
        if (self.value == CANT_TELL) != bool(self.reason):
            validate.fail("reason", "a reason exactly when the verdict is \"can't tell\"",
                          self.reason)

    @property
    def told(self):
        """Whether the check decided (yes or no)."""
        return self.value != CANT_TELL

    def __str__(self):
        return f"{CANT_TELL}: {self.reason}" if self.value == CANT_TELL else self.value


def judge(ok, *, cant_tell=""):
    """The verdict of a computed agreement ``ok`` (a NumPy bool is fine), or "can't tell"
    with the reason ``cant_tell`` where that is given (a non-empty string)."""
    if cant_tell:
        return Verdict(CANT_TELL, cant_tell)
    return Verdict(YES if bool(ok) else NO)


def share_at_most(count, total, limit, *, level=0.95):
    """Verdict on "the share of events is at most ``limit``" from ``count`` events among
    ``total`` draws, by one-sided Clopper-Pearson bounds at ``level`` (Lemma 6's counting):
    "yes" when the upper bound is at most ``limit``, "no" when the lower bound is above it,
    "can't tell" (``TOO_FEW``) otherwise."""
    limit = validate.real("limit", limit, low=0.0, high=1.0)
    upper = theory.binomial_upper_bound(count, total, level=level)
    lower = 1.0 - theory.binomial_upper_bound(total - count, total, level=level)
    if upper <= limit:
        return Verdict(YES)
    if lower > limit:
        return Verdict(NO)
    return Verdict(CANT_TELL, f"{TOO_FEW} (the {tables.percent(level, 2)} bound "
                              f"{tables.percent(upper)} is above {tables.percent(limit)})")


def share_at_least(count, total, limit, *, level=0.95):
    """Verdict on "the share of events is at least ``limit``": :func:`share_at_most` on the
    complementary events."""
    limit = validate.real("limit", limit, low=0.0, high=1.0)
    total = validate.integer("total", total, low=1)
    count = validate.integer("count", count, low=0, high=total)
    flipped = share_at_most(total - count, total, 1.0 - limit, level=level)
    if flipped.told:
        return flipped
    lower = 1.0 - theory.binomial_upper_bound(total - count, total, level=level)
    return Verdict(CANT_TELL, f"{TOO_FEW} (the {tables.percent(level, 2)} lower bound "
                              f"{tables.percent(lower)} is below {tables.percent(limit)})")


def row(claim, measured, verdict, *, source="paper", **extra):
    """One ledger row; ``verdict`` is a :class:`Verdict` or a bool (judged yes/no)."""
    if source not in SOURCES:
        validate.fail("source", f"one of {SOURCES}", source)
    if not isinstance(verdict, Verdict):
        verdict = judge(verdict)
    return {"claim": claim, "measured": measured, "verdict": verdict, "source": source,
            **extra}


def split(rows):
    """The rows of the paper's claims and of our own checks, in two lists (order kept)."""
    rows = list(rows)
    return ([r for r in rows if r["source"] == "paper"],
            [r for r in rows if r["source"] == "ours"])


def tally(rows):
    """Counts of each verdict value among ``rows`` (ledger rows or verdicts), every value
    present: ``{"yes": 7, "no": 1, "can't tell": 2}``."""
    counts = dict.fromkeys(VALUES, 0)
    for r in rows:
        verdict = r["verdict"] if isinstance(r, dict) else r
        counts[verdict.value] += 1
    return counts


def tally_phrase(rows):
    """The tally in words, every value named: ``"7 yes, 1 no and 2 can't tell"``."""
    counts = tally(rows)
    return tables.joined(f"{tables.number(counts[v])} {v}" for v in VALUES)


def markdown(rows, columns=("claim", "measured", "verdict"), *, align=None):
    """Ledger rows as a Markdown table (:func:`sgdlab.book.tables.markdown_table`), each
    verdict in words with its reason."""
    rows = [{**r, "verdict": str(r["verdict"])} for r in rows]
    return tables.markdown_table(rows, columns, align=align or "l" * len(columns))


_TEX = {"\\nabla ": "∇", "\\delta": "δ", "\\lambda": "λ", "\\mu": "μ", "\\eta": "η", "\\nabla": "∇",
        "\\ne": "≠", "\\le": "≤", "\\ge": "≥", "\\omega": "ω", "\\|": "‖", "^*": "*"}


def plain(text):
    """A claim's name for prose glued as plain text: its inline ``$...$`` math written with
    Unicode letters (``"$c' > c$"`` -> ``"c' > c"``, ``"$\\delta$"`` -> ``"δ"``)."""
    def unmath(match):
        inner = match.group(1)
        for tex, letter in sorted(_TEX.items(), key=lambda kv: -len(kv[0])):
            inner = inner.replace(tex, letter)
        return inner.replace("{", "").replace("}", "").replace("_", "")
    return re.sub(r"\$([^$]*)\$", unmath, text)
