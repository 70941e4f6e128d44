import { Injectable } from '@nestjs/common';
import { Counter, Histogram } from 'prom-client';
import { MetricsService } from '../metrics/metrics.service';

/** Prometheus metrics of `POST /ingest`, on the application's registry. */
@Injectable()
export class IngestMetrics {
  /** Requests by HTTP status and outcome (`stored`, `duplicate`, `skipped-<reason>`, `rejected`). */
  readonly requests: Counter<'status' | 'outcome'>;
  /** Request body bytes read, by outcome. */
  readonly bytes: Counter<'outcome'>;
  /** CPU nanoseconds stored from pushes. */
  readonly cpuNanoseconds: Counter;
  /** Time from the first body byte read to the commit, for stored profiles. */
  readonly processing: Histogram;
  /** Stored pushes in which a label key had more values than `labels.maxValuesPerKey` (the rest went to `__other__`). */
  readonly cappedLabelKeys: Counter<'key'>;

  constructor(metrics: MetricsService) {
    const registers = [metrics.registry];
    this.requests = new Counter({
      name: 'flamebill_ingest_requests_total',
      help: 'Pushes to /ingest by HTTP status and outcome.',
      labelNames: ['status', 'outcome'] as const,
      registers,
    });
    this.bytes = new Counter({
      name: 'flamebill_ingest_bytes_total',
      help: 'Bytes of push bodies read, by outcome.',
      labelNames: ['outcome'] as const,
      registers,
    });
    this.cpuNanoseconds = new Counter({
      name: 'flamebill_ingest_cpu_nanoseconds_total',
      help: 'CPU nanoseconds in stored pushes.',
      registers,
    });
    this.cappedLabelKeys = new Counter({
      name: 'flamebill_ingest_label_values_folded_total',
      help: 'Stored pushes in which a label key had more values than labels.maxValuesPerKey: its less costly values were folded into __other__.',
      labelNames: ['key'] as const,
      registers,
    });
    this.processing = new Histogram({
      name: 'flamebill_ingest_processing_seconds',
      help: 'Reading, folding and committing one push, in seconds.',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers,
    });
  }
}
