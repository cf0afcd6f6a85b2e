"""Every Prometheus metric of the collector, defined once and read from the components at scrape time.

Components keep plain integer counters (an increment on the hot path costs nanoseconds; a
``prometheus_client.Counter`` takes a lock); this module turns their ``statistics()`` into metric families
when Prometheus scrapes. The two latency histograms are the exception: ``LatencyHistogram.observe`` is
called once per batch, never per event.

Series (all prefixed ``divolte_``):

    http_requests_total{endpoint,status}      requests answered by the collector's own endpoints
    http_refused_total{reason}                requests refused by the protocol (slow, too large, malformed)
    events_accepted_total                     events taken into the intake (each got its 200/204)
    events_processed_total                    events parsed and mapped
    events_corrupt_total, events_duplicate_total
    events_discarded_total{mapping}           dropped on purpose (discard(), discard_corrupted/duplicates)
    events_dropped_total{reason}              lost: intake_full, an incomplete request's reason, mapping_error,
                                              processing_error (an unexpected exception on that one event)
    queue_depth{queue}, queue_capacity{queue} intake and each sink's queue
    sink_records_written_total{sink}, sink_retries_total{sink}, sink_records_lost_total{sink,reason}
    sink_records_dead_lettered_total{sink,reason}  refused for good (e.g. message_too_large), kept in the
                                              sink's dead-letter folder; lost ones: reason dead_letter_failed
    sink_healthy{sink}, spool_bytes{sink}, spool_records_total{sink,direction}
    sink_failing_seconds{sink}                how long the sink has been failing (0 when it writes)
    task_failures_total{task}                 unexpected exceptions a supervised task survived (sink:<name>,
                                              spool:<name>, processor, s3-upload:<name>, gcs-upload:<name>,
                                              kafka-probe:<name>, kafka-connect, kafka-producer:<name>, geoip-reload,
                                              metrics);
                                              see collector.supervise
    sink_upload_backlog_files{sink}, sink_upload_backlog_bytes{sink}, sink_uploaded_bytes_total{sink},
    sink_failed_uploads_total{sink}           S3 and GCS sinks: files waiting on local disk, uploads
    batch_duration_seconds (histogram)        processing time of one batch of events
    sink_write_duration_seconds{sink} (histogram)
    user_agent_cache_hits_total, user_agent_cache_misses_total, user_agent_cache_entries
    geoip_database_age_seconds                since the GeoIP database in use was loaded
    ready                                     1 when /ready answers 200
    inspector_enabled                         1 when the event inspector (/inspect) keeps recent events

A scrape never fails as a whole: a group of series whose statistics raise is left out of that scrape, and
the exception is reported as a failure of the task ``metrics``.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from typing import Protocol

from prometheus_client import ProcessCollector
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import CollectorRegistry

from collector.counters import HttpCounts, RefusalCounts
from collector.enrich.geo import GeoDatabase
from collector.enrich.useragent import UserAgentParser
from collector.inspect.recorder import Inspector
from collector.pipeline.intake import Intake
from collector.pipeline.process import Processor
from collector.pipeline.topology import Topology
from collector.protocol.browser_event import DROP_REASONS as BROWSER_DROP_REASONS
from collector.protocol.json_event import DROP_REASONS as JSON_DROP_REASONS
from collector.sinks.uploads import UploadingSink
from collector.supervise import TASK_FAILURES, failure

PREFIX = "divolte_"


class Observed(Protocol):
    """What the metrics read of a running collector (``app.Collector`` is one), at scrape time.

    A protocol, so that this module depends on the components it reads, not on the application that
    builds them (which imports this module to serve ``/metrics``)."""

    @property
    def http(self) -> HttpCounts: ...
    @property
    def refusals(self) -> RefusalCounts: ...
    @property
    def intake(self) -> Intake: ...
    @property
    def processor(self) -> Processor: ...
    @property
    def topology(self) -> Topology: ...
    @property
    def user_agents(self) -> UserAgentParser: ...
    @property
    def geo(self) -> GeoDatabase | None: ...
    @property
    def ready(self) -> bool: ...
    @property
    def inspector(self) -> Inspector | None: ...


def _counter(name: str, doc: str, labels: Iterable[str] = ()) -> CounterMetricFamily:
    return CounterMetricFamily(PREFIX + name, doc, labels=list(labels))


def _gauge(name: str, doc: str, labels: Iterable[str] = ()) -> GaugeMetricFamily:
    return GaugeMetricFamily(PREFIX + name, doc, labels=list(labels))


class CollectorMetrics:
    """A ``prometheus_client`` collector over one running collector.

    Scrapes may run in another thread (``metrics.port``): dictionaries are copied (atomic under the GIL)
    before they are iterated, since the event loop may add keys meanwhile."""

    def __init__(self, collector: Observed) -> None:
        self.collector = collector

    def describe(self) -> list[Metric]:
        return []  # families are created at scrape time; nothing to pre-register

    def collect(self) -> Iterator[Metric]:
        for group in (self._http, self._events, self._queues_and_sinks, self._enrichment, self._supervision):
            try:
                families = list(group())
            except Exception as exc:  # a scrape must not die with one component's statistics
                failure("metrics", exc, f"could not export {group.__name__.lstrip('_')}")
                continue
            yield from families

    def _supervision(self) -> Iterator[Metric]:
        failures = _counter("task_failures", "Unexpected exceptions a supervised task survived.", ["task"])
        for task, count in sorted(TASK_FAILURES.copy().items()):
            failures.add_metric([task], count)
        yield failures

    def _http(self) -> Iterator[Metric]:
        requests = _counter("http_requests", "Requests answered, by endpoint and status.", ["endpoint", "status"])
        for (endpoint, status), count in sorted(self.collector.http.counts.copy().items()):
            requests.add_metric([endpoint, str(status)], count)
        yield requests
        refused = _counter("http_refused", "Requests refused by the HTTP protocol layer, by reason.", ["reason"])
        for reason, count in sorted(self.collector.refusals.counts.copy().items()):
            refused.add_metric([reason], count)
        yield refused

    def _events(self) -> Iterator[Metric]:
        intake = self.collector.intake.statistics()
        processor = self.collector.processor.statistics()
        yield CounterMetricFamily(PREFIX + "events_accepted", "Events taken into the intake.", value=intake.accepted)
        yield CounterMetricFamily(PREFIX + "events_processed", "Events parsed and mapped.", value=processor.processed)
        yield CounterMetricFamily(PREFIX + "events_corrupt", "Events with a wrong checksum.", value=processor.corrupt)
        yield CounterMetricFamily(PREFIX + "events_duplicate", "Events seen before.", value=processor.duplicates)
        discarded = _counter("events_discarded", "Events a mapping dropped on purpose.", ["mapping"])
        for mapping, count in sorted(processor.discarded.items()):
            discarded.add_metric([mapping], count)
        yield discarded
        dropped = _counter("events_dropped", "Events lost, by reason.", ["reason"])
        dropped.add_metric(["intake_full"], intake.dropped)
        counts = processor.dropped
        for reason in sorted(
            {*BROWSER_DROP_REASONS, *JSON_DROP_REASONS, "privacy_opt_out", "processing_error", *counts}
        ):
            dropped.add_metric([reason], counts.get(reason, 0))
        dropped.add_metric(["mapping_error"], sum(processor.mapping_errors.values()))
        yield dropped
        batches = HistogramMetricFamily(PREFIX + "batch_duration_seconds", "Time to process one batch of events.")
        histogram = self.collector.processor.batch_latency
        batches.add_metric([], histogram.cumulative(), histogram.total)
        yield batches

    def _queues_and_sinks(self) -> Iterator[Metric]:
        intake = self.collector.intake.statistics()
        depth = _gauge("queue_depth", "Items waiting in a queue.", ["queue"])
        capacity = _gauge("queue_capacity", "Capacity of a queue.", ["queue"])
        depth.add_metric(["intake"], intake.queued)
        capacity.add_metric(["intake"], intake.capacity)
        written = _counter("sink_records_written", "Records a sink has written.", ["sink"])
        retries = _counter("sink_retries", "Failed sink writes that were retried.", ["sink"])
        lost = _counter("sink_records_lost", "Records a sink lost, by reason.", ["sink", "reason"])
        dead_lettered = _counter(
            "sink_records_dead_lettered",
            "Records refused for good, kept in the dead-letter folder.",
            ["sink", "reason"],
        )
        healthy = _gauge("sink_healthy", "1 when the sink's last write succeeded.", ["sink"])
        failing = _gauge("sink_failing_seconds", "How long the sink has been failing (0: it writes).", ["sink"])
        spool_bytes = _gauge("spool_bytes", "Bytes waiting in a sink's disk spool.", ["sink"])
        spool_records = _counter("spool_records", "Records written to or replayed from a spool.", ["sink", "direction"])
        latency = HistogramMetricFamily(
            PREFIX + "sink_write_duration_seconds", "Time to write one batch to a sink.", labels=["sink"]
        )
        backlog_files = _gauge("sink_upload_backlog_files", "Complete files waiting for upload (S3, GCS).", ["sink"])
        backlog_bytes = _gauge("sink_upload_backlog_bytes", "Local disk held by files waiting for upload.", ["sink"])
        uploaded = _counter("sink_uploaded_bytes", "Bytes uploaded (S3, GCS).", ["sink"])
        failed_uploads = _counter("sink_failed_uploads", "Upload attempts that failed and are retried.", ["sink"])
        for name, runner in sorted(self.collector.topology.sinks.items()):
            stats = runner.statistics()
            depth.add_metric([f"sink:{name}"], stats.queued)
            capacity.add_metric([f"sink:{name}"], stats.capacity)
            written.add_metric([name], stats.written)
            retries.add_metric([name], stats.retries)
            lost.add_metric([name, "queue_full"], stats.dropped_queue_full)
            lost.add_metric([name, "spool_full"], stats.dropped_spool_full)
            lost.add_metric([name, "error"], stats.lost_errors)
            if runner.dead_letters is not None:
                dead = runner.dead_letters.statistics()
                lost.add_metric([name, "dead_letter_failed"], dead.dropped)
                for reason, count in sorted(dead.stored.items()):
                    dead_lettered.add_metric([name, reason], count)
            healthy.add_metric([name], 1.0 if stats.healthy else 0.0)
            failing.add_metric([name], stats.failing_seconds)
            spool_bytes.add_metric([name], stats.spooled_bytes)
            spool_records.add_metric([name, "in"], stats.spool_appended)
            spool_records.add_metric([name, "out"], stats.spool_replayed)
            histogram = runner.write_latency
            latency.add_metric([name], histogram.cumulative(), histogram.total)
            sink = runner.sink
            if isinstance(sink, UploadingSink):
                backlog_files.add_metric([name], sink.backlog_files)
                backlog_bytes.add_metric([name], sink.backlog_bytes)
                uploaded.add_metric([name], sink.uploaded_bytes)
                failed_uploads.add_metric([name], sink.failed_uploads)
        yield from (
            depth,
            capacity,
            written,
            retries,
            lost,
            dead_lettered,
            healthy,
            failing,
            spool_bytes,
            spool_records,
        )
        yield latency
        yield from (backlog_files, backlog_bytes, uploaded, failed_uploads)
        yield GaugeMetricFamily(
            PREFIX + "ready", "1 when /ready answers 200.", value=1.0 if self.collector.ready else 0.0
        )
        yield GaugeMetricFamily(
            PREFIX + "inspector_enabled",
            "1 when the event inspector (/inspect) keeps recent events, with their personal data, in memory.",
            value=0.0 if self.collector.inspector is None else 1.0,
        )

    def _enrichment(self) -> Iterator[Metric]:
        cache = self.collector.user_agents.cache_info()
        yield CounterMetricFamily(PREFIX + "user_agent_cache_hits", "User-agent cache hits.", value=cache.hits)
        yield CounterMetricFamily(PREFIX + "user_agent_cache_misses", "User-agent cache misses.", value=cache.misses)
        yield GaugeMetricFamily(PREFIX + "user_agent_cache_entries", "User agents cached.", value=cache.currsize)
        geo = self.collector.geo
        if geo is not None:
            yield GaugeMetricFamily(
                PREFIX + "geoip_database_age_seconds",
                "Seconds since the GeoIP database in use was loaded.",
                value=time.time() - geo.loaded_at,
            )


def registry_for(collector: Observed) -> CollectorRegistry:
    """A registry with the collector's metrics and this process's CPU and memory."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(CollectorMetrics(collector))
    ProcessCollector(registry=registry)  # process_cpu_seconds_total, process_resident_memory_bytes, ...
    return registry
