// A mergeable latency histogram in the manner of HdrHistogram: microsecond values in log-linear
// buckets (128 per power of two, so any recorded value is off by less than 1 %), counts in one
// Uint32Array that worker threads post back and the main thread adds up.

const SUB_BUCKET_BITS = 7;
const SUB_BUCKETS = 1 << SUB_BUCKET_BITS;
/** 2^38 µs is over three days: anything longer is clamped into the last bucket. */
const MAX_MAGNITUDE = 38;
export const HISTOGRAM_BUCKETS = (MAX_MAGNITUDE + 1) * SUB_BUCKETS;

export interface HistogramSnapshot {
  readonly counts: Uint32Array<ArrayBufferLike>;
  readonly maxMicros: number;
  readonly sumMicros: number;
}

export class LatencyHistogram {
  readonly counts: Uint32Array<ArrayBufferLike>;
  count = 0;
  maxMicros = 0;
  sumMicros = 0;

  constructor(counts: Uint32Array<ArrayBufferLike> = new Uint32Array(HISTOGRAM_BUCKETS)) {
    this.counts = counts;
    for (let i = 0; i < counts.length; i++) this.count += counts[i];
  }

  record(micros: number): void {
    const value = micros < 1 ? 1 : Math.round(micros);
    this.counts[bucketOf(value)]++;
    this.count++;
    this.sumMicros += value;
    if (value > this.maxMicros) this.maxMicros = value;
  }

  add(other: LatencyHistogram): void {
    for (let i = 0; i < this.counts.length; i++) this.counts[i] += other.counts[i];
    this.count += other.count;
    this.sumMicros += other.sumMicros;
    if (other.maxMicros > this.maxMicros) this.maxMicros = other.maxMicros;
  }

  /** The value at quantile q (0..1), in microseconds; the bucket's upper bound, capped at max. */
  percentile(q: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i];
      if (seen >= rank) return Math.min(upperBoundOf(i), this.maxMicros);
    }
    return this.maxMicros;
  }

  meanMicros(): number {
    return this.count === 0 ? 0 : this.sumMicros / this.count;
  }

  /** What a worker thread posts back (a Uint32Array survives structured clone). */
  snapshot(): HistogramSnapshot {
    return { counts: this.counts, maxMicros: this.maxMicros, sumMicros: this.sumMicros };
  }

  static from(snapshot: HistogramSnapshot): LatencyHistogram {
    const histogram = new LatencyHistogram(snapshot.counts);
    histogram.maxMicros = snapshot.maxMicros;
    histogram.sumMicros = snapshot.sumMicros;
    return histogram;
  }
}

function bucketOf(value: number): number {
  if (value < SUB_BUCKETS) return value;
  const magnitude = Math.min(31 - Math.clz32(value) - SUB_BUCKET_BITS + 1, MAX_MAGNITUDE);
  const sub = Math.min(Math.floor(value / 2 ** (magnitude - 1)), 2 * SUB_BUCKETS - 1) - SUB_BUCKETS;
  return magnitude * SUB_BUCKETS + sub;
}

function upperBoundOf(bucket: number): number {
  if (bucket < SUB_BUCKETS) return bucket;
  const magnitude = Math.floor(bucket / SUB_BUCKETS);
  const sub = bucket % SUB_BUCKETS;
  return (sub + SUB_BUCKETS + 1) * 2 ** (magnitude - 1) - 1;
}
