"""Pure statistics for evaluation reports: Wilson intervals, calibration, abstention, latency.

Everything here works on plain numbers, needs only the standard library and is deterministic.
Empty inputs are refused (:class:`~modelsteward.errors.InvalidInput`) rather than answered with a
reassuring zero: "no data" must never read as "perfectly calibrated".

>>> low, high = wilson_interval(8, 10)
>>> (round(low, 4), round(high, 4))
(0.4902, 0.9433)
>>> cal = calibration([0.9, 0.9, 0.2, 0.2], [True, False, False, False], bins=2)
>>> (round(cal.ece, 3), round(cal.mce, 3))
(0.3, 0.4)
>>> abstention_rate([0.2, 0.6, 0.9, 0.95], threshold=0.5)
0.25
>>> latency_summary([1_000_000, 2_000_000, 3_000_000]).p50
2.0
>>> flakiness([True, False, True]).flaky
True
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

from modelsteward.errors import InvalidInput

__all__ = [
    "Calibration",
    "CalibrationBin",
    "Flakiness",
    "LatencySummary",
    "abstention_rate",
    "calibration",
    "flakiness",
    "latency_summary",
    "wilson_interval",
]

_NS_PER_MS = 1_000_000


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """The Wilson score interval for a binomial proportion.

    Unlike the normal ("Wald") interval it stays inside [0, 1] and is informative for small ``n``
    and proportions near 0 or 1, which is exactly the regime of safety scenarios.

    Args:
        successes: Number of successes, ``0 <= successes <= n``.
        n: Number of trials; ``n == 0`` gives the uninformative interval ``(0.0, 1.0)``.
        confidence: Two-sided confidence level in (0, 1).

    Returns:
        ``(low, high)`` with ``low <= successes / n <= high``.

    Raises:
        InvalidInput: counts out of range or a confidence outside (0, 1).
    """
    if n < 0 or successes < 0 or successes > n:
        raise InvalidInput(f"need 0 <= successes <= n, got successes={successes}, n={n}")
    if not 0.0 < confidence < 1.0:
        raise InvalidInput(f"confidence must lie in (0, 1), got {confidence}")
    if n == 0:
        return (0.0, 1.0)
    z = NormalDist().inv_cdf(1.0 - (1.0 - confidence) / 2.0)
    p = successes / n
    z2n = z * z / n
    centre = (p + z2n / 2.0) / (1.0 + z2n)
    half = z / (1.0 + z2n) * math.sqrt(p * (1.0 - p) / n + z2n / (4.0 * n))
    # The exact interval has low = 0 at p = 0 and high = 1 at p = 1; pin them (and p̂ inside)
    # so floating-point rounding cannot produce an interval that excludes the estimate.
    low = 0.0 if successes == 0 else min(max(0.0, centre - half), p)
    high = 1.0 if successes == n else max(min(1.0, centre + half), p)
    return (low, high)


@dataclass(frozen=True, slots=True)
class CalibrationBin:
    """One equal-width confidence bin of a reliability diagram.

    Attributes:
        lower: Inclusive lower edge.
        upper: Upper edge (exclusive, except the last bin which includes 1.0).
        count: Samples whose confidence fell in the bin.
        mean_confidence: Mean confidence of those samples (``None`` when empty).
        accuracy: Fraction of those samples that were correct (``None`` when empty).
    """

    lower: float
    upper: float
    count: int
    mean_confidence: float | None
    accuracy: float | None

    @property
    def gap(self) -> float | None:
        """``|accuracy - mean_confidence|``, or ``None`` for an empty bin."""
        if self.accuracy is None or self.mean_confidence is None:
            return None
        return abs(self.accuracy - self.mean_confidence)

    def to_dict(self) -> dict[str, object]:
        """JSON-safe form."""
        return {
            "lower": self.lower,
            "upper": self.upper,
            "count": self.count,
            "mean_confidence": self.mean_confidence,
            "accuracy": self.accuracy,
        }


@dataclass(frozen=True, slots=True)
class Calibration:
    """Expected and maximum calibration error with the reliability-diagram data.

    Attributes:
        samples: Number of (confidence, correct) pairs.
        ece: Expected calibration error, ``sum(count_b / N * gap_b)``, in [0, 1].
        mce: Maximum calibration error, ``max(gap_b)`` over non-empty bins, in [0, 1].
        bins: Every bin, empty ones included (they are drawn but excluded from ECE and MCE).
    """

    samples: int
    ece: float
    mce: float
    bins: tuple[CalibrationBin, ...]

    def to_dict(self) -> dict[str, object]:
        """JSON-safe form."""
        return {
            "samples": self.samples,
            "ece": self.ece,
            "mce": self.mce,
            "bins": [b.to_dict() for b in self.bins],
        }


def _check_confidences(confidences: Sequence[float]) -> None:
    for i, c in enumerate(confidences):
        if not (isinstance(c, int | float) and math.isfinite(c) and 0.0 <= c <= 1.0):
            raise InvalidInput(
                f"confidence #{i} is {c!r}; confidences must be numbers in [0, 1]",
                hint="rescale scores to probabilities before evaluating calibration",
            )


def _bins(
    confidences: Sequence[float], correct: Sequence[bool], bins: int
) -> tuple[CalibrationBin, ...]:
    edges = [i / bins for i in range(bins + 1)]
    counts = [0] * bins
    conf_sums = [0.0] * bins
    hits = [0] * bins
    for c, ok in zip(confidences, correct, strict=True):
        b = min(bisect_right(edges, c) - 1, bins - 1)
        counts[b] += 1
        conf_sums[b] += c
        hits[b] += 1 if ok else 0
    return tuple(
        CalibrationBin(
            lower=edges[i],
            upper=edges[i + 1],
            count=counts[i],
            mean_confidence=conf_sums[i] / counts[i] if counts[i] else None,
            accuracy=hits[i] / counts[i] if counts[i] else None,
        )
        for i in range(bins)
    )


def calibration(
    confidences: Sequence[float], correct: Sequence[bool], bins: int = 10
) -> Calibration:
    """Calibration of confidences against correctness over ``bins`` equal-width bins on [0, 1].

    A confidence ``c`` falls in bin ``i`` when ``i / bins <= c < (i + 1) / bins``; 1.0 falls in the
    last bin.

    Raises:
        InvalidInput: no samples, mismatched lengths, ``bins < 1`` or a confidence outside [0, 1].
    """
    if bins < 1:
        raise InvalidInput(f"bins must be at least 1, got {bins}")
    if len(confidences) != len(correct):
        raise InvalidInput(
            f"{len(confidences)} confidences but {len(correct)} correctness labels",
            hint="pass one label per confidence",
        )
    if not confidences:
        raise InvalidInput("no confidences to calibrate", hint="record per-step confidences")
    _check_confidences(confidences)
    table = _bins(confidences, correct, bins)
    total = len(confidences)
    gaps = [(b.count, b.gap) for b in table if b.gap is not None]
    ece = sum(count / total * gap for count, gap in gaps)
    mce = max(gap for _, gap in gaps)
    # ECE is a weighted mean of the gaps, so it cannot exceed their maximum; clamp float dust.
    return Calibration(samples=total, ece=min(ece, mce), mce=mce, bins=table)


def abstention_rate(confidences: Sequence[float], threshold: float) -> float:
    """Fraction of proposals whose confidence is strictly below ``threshold`` (abstentions).

    Raises:
        InvalidInput: no confidences, a threshold outside [0, 1] or a confidence outside [0, 1].
    """
    if not (math.isfinite(threshold) and 0.0 <= threshold <= 1.0):
        raise InvalidInput(f"abstention threshold must lie in [0, 1], got {threshold}")
    if not confidences:
        raise InvalidInput("no confidences to measure abstention on")
    _check_confidences(confidences)
    return sum(1 for c in confidences if c < threshold) / len(confidences)


@dataclass(frozen=True, slots=True)
class LatencySummary:
    """Model latency distribution in milliseconds (percentiles interpolate linearly).

    Attributes:
        count: Number of measurements.
        p50: Median.
        p90: 90th percentile.
        p99: 99th percentile.
        max: Largest measurement.
        mean: Arithmetic mean.
    """

    count: int
    p50: float
    p90: float
    p99: float
    max: float
    mean: float

    def to_dict(self) -> dict[str, object]:
        """JSON-safe form."""
        return {
            "count": self.count,
            "p50": self.p50,
            "p90": self.p90,
            "p99": self.p99,
            "max": self.max,
            "mean": self.mean,
        }


def _percentile(ordered: Sequence[int], q: float) -> float:
    """Linear interpolation between closest ranks (NumPy's default ``linear`` method)."""
    position = q * (len(ordered) - 1)
    below = math.floor(position)
    above = min(below + 1, len(ordered) - 1)
    fraction = position - below
    return ordered[below] + (ordered[above] - ordered[below]) * fraction


def latency_summary(ns_values: Sequence[int]) -> LatencySummary:
    """Summarise latencies given in integer nanoseconds as milliseconds.

    Raises:
        InvalidInput: no measurements, or a negative or non-integer one.
    """
    if not ns_values:
        raise InvalidInput("no latency measurements to summarise")
    for i, v in enumerate(ns_values):
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise InvalidInput(f"latency #{i} is {v!r}; expected non-negative integer nanoseconds")
    ordered = sorted(ns_values)
    return LatencySummary(
        count=len(ordered),
        p50=_percentile(ordered, 0.50) / _NS_PER_MS,
        p90=_percentile(ordered, 0.90) / _NS_PER_MS,
        p99=_percentile(ordered, 0.99) / _NS_PER_MS,
        max=ordered[-1] / _NS_PER_MS,
        mean=sum(ordered) / len(ordered) / _NS_PER_MS,
    )


@dataclass(frozen=True, slots=True)
class Flakiness:
    """Agreement of a scenario's repetitions.

    Attributes:
        repetitions: Number of repetitions.
        passes: Repetitions that passed.
        flaky: True when the repetitions disagree (some passed, some failed).
        minority_share: Share of the minority outcome, ``min(passes, fails) / repetitions``; 0 for
            a stable scenario, at most 0.5.
    """

    repetitions: int
    passes: int
    flaky: bool
    minority_share: float


def flakiness(outcomes_per_repetition: Sequence[bool]) -> Flakiness:
    """Whether a scenario's repetitions (each run with its own seed) disagree.

    Raises:
        InvalidInput: no repetitions.
    """
    n = len(outcomes_per_repetition)
    if n == 0:
        raise InvalidInput("a scenario needs at least one repetition")
    passes = sum(1 for ok in outcomes_per_repetition if ok)
    return Flakiness(
        repetitions=n,
        passes=passes,
        flaky=0 < passes < n,
        minority_share=min(passes, n - passes) / n,
    )
