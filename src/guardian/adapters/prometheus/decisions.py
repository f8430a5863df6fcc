"""Decision counters and histograms cheap enough for the hot path, exported at scrape time.

prometheus_client's own counters take a lock per increment (about 1 µs on a loaded machine,
more than the rest of a decision's bookkeeping). Decisions are answered on the event loop, one
at a time, so these are plain integers with a single writer: a decision costs a dictionary
look-up and an integer increment; a call, one ``bisect`` into its histogram's bounds. A scrape
reads them without the writer stopping; a histogram's count is the sum of its buckets, so the
two always agree (its sum may lag a bucket by one observation).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator, Sequence

from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric

from guardian.policy.model import Decision
from guardian.policy.vocabulary import Outcome, ReasonCode

_NO_REASON = ReasonCode.INTERNAL_ERROR


class LoopHistogram:
    """A histogram written by one thread (the event loop), read by scrapes."""

    __slots__ = ("bounds", "counts", "total")

    def __init__(self, bounds: Sequence[float]) -> None:
        self.bounds = tuple(bounds)
        self.counts = [0] * (len(self.bounds) + 1)
        self.total = 0.0

    def observe(self, value: float) -> None:
        self.counts[bisect_left(self.bounds, value)] += 1
        self.total += value

    def buckets(self) -> list[tuple[str, float]]:
        counts, cumulative, out = list(self.counts), 0, []
        for bound, count in zip(self.bounds, counts, strict=False):
            cumulative += count
            out.append((repr(float(bound)), float(cumulative)))
        out.append(("+Inf", float(sum(counts))))
        return out


class DecisionCounts:
    """Decisions by (outcome, deciding reason), the latency of each call, the size of batches."""

    def __init__(self, seconds: Sequence[float], sizes: Sequence[float]) -> None:
        self.by_reason: dict[tuple[Outcome, ReasonCode], int] = {
            (Outcome.PERMIT if code is ReasonCode.PERMITTED else Outcome.DENY, code): 0
            for code in ReasonCode}
        self.single_seconds = LoopHistogram(seconds)
        self.batch_seconds = LoopHistogram(seconds)
        self.batch_size = LoopHistogram(sizes)

    def decided(self, decisions: Sequence[Decision], seconds: float, *, batch: bool) -> None:
        by_reason = self.by_reason
        for d in decisions:
            key = (d.outcome, d.reasons[0].code if d.reasons else _NO_REASON)
            by_reason[key] = by_reason.get(key, 0) + 1
        if batch:
            self.batch_seconds.observe(seconds)
            self.batch_size.observe(len(decisions))
        else:  # inlined: the most frequent call
            h = self.single_seconds
            h.counts[bisect_left(h.bounds, seconds)] += 1
            h.total += seconds

    def collect(self) -> Iterator[Metric]:
        family = CounterMetricFamily(
            "guardian_decisions", "Decisions answered, by outcome and deciding (first) reason.",
            labels=("outcome", "reason"))
        for (outcome, reason), count in sorted(self.by_reason.copy().items()):
            family.add_metric((outcome.value, reason.value), float(count))
        yield family
        latency = HistogramMetricFamily(
            "guardian_decision_seconds", "Time to answer one decision call (single or batch), "
            "from the pipeline's start to its events being durable.", labels=("endpoint",))
        for endpoint, histogram in (("single", self.single_seconds),
                                    ("batch", self.batch_seconds)):
            latency.add_metric((endpoint,), histogram.buckets(), histogram.total)
        yield latency
        sizes = HistogramMetricFamily("guardian_decision_batch_size",
                                      "Requests per call of /v1/decisions:batch.",
                                      buckets=self.batch_size.buckets(),
                                      sum_value=self.batch_size.total)
        yield sizes
