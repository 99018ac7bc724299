// Shared by the OpenTSDB protocol tests: run a body through a decoder (whole or in chunks) and
// read back what reached the sink in a readable form.
import { ValueKind, type WriteBatch } from '../../../engine/index.js';
import type { OpenTsdbDecodeResult, OpenTsdbRequestOptions } from '../../../src/protocols/opentsdb/body.js';
import { OpenTsdbPutDecoder, type OpenTsdbDecoderOptions } from '../../../src/protocols/opentsdb/put.js';
import { OpenTsdbRollupDecoder } from '../../../src/protocols/opentsdb/rollup.js';

export const enc = new TextEncoder();

export interface StoredPoint {
  /** `metric{k=v,…}` with keys sorted. */
  readonly series: string;
  readonly t: number;
  /** 'f' float64, 'i' int64. */
  readonly kind: 'f' | 'i' | 's';
  readonly value: number | bigint | string;
}

export function seriesText(s: { metric: string; tags: Readonly<Record<string, string>> }): string {
  const keys = Object.keys(s.tags).sort();
  return `${s.metric}{${keys.map((k) => `${k}=${s.tags[k]!}`).join(',')}}`;
}

export function collect(points: StoredPoint[], batches?: number[]): (b: WriteBatch) => void {
  return (b) => {
    batches?.push(b.length);
    for (let i = 0; i < b.length; i++) {
      const k = b.kinds[i]!;
      points.push({
        series: seriesText(b.series[b.seriesIndex[i]!]!),
        t: b.timestampsMs[i]!,
        kind: k === ValueKind.Float64 ? 'f' : k === ValueKind.Int64 ? 'i' : 's',
        value: k === ValueKind.Float64 ? b.floats[i]! : k === ValueKind.Int64 ? b.ints[i]! : b.texts[i]!,
      });
    }
  };
}

export interface Decoded {
  readonly result: OpenTsdbDecodeResult;
  readonly points: StoredPoint[];
  readonly batches: number[];
}

/** Decodes `body` (a string, bytes, or chunks) with a fresh put (or rollup) decoder. */
export function decode(
  body: string | Uint8Array | readonly Uint8Array[],
  options: OpenTsdbDecoderOptions & { rollup?: boolean; request?: OpenTsdbRequestOptions } = {},
): Decoded {
  const points: StoredPoint[] = [];
  const batches: number[] = [];
  const decoder = options.rollup === true ? new OpenTsdbRollupDecoder(collect(points, batches), options) : new OpenTsdbPutDecoder(collect(points, batches), options);
  if (options.request !== undefined) decoder.begin(options.request);
  const chunks = typeof body === 'string' ? [enc.encode(body)] : body instanceof Uint8Array ? [body] : body;
  for (const c of chunks) decoder.write(c);
  return { result: decoder.end(), points, batches };
}

/** `bytes` cut at the given (sorted, deduplicated) offsets. */
export function splitAt(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const c of [...new Set(cuts)].sort((a, b) => a - b)) {
    if (c <= prev || c >= bytes.length) continue;
    out.push(bytes.slice(prev, c));
    prev = c;
  }
  out.push(bytes.slice(prev));
  return out;
}

/** The single details entry's error of a one-point body. */
export function onlyError(r: Decoded): string {
  expectSingle(r);
  return r.result.errors[0]!.error;
}

function expectSingle(r: Decoded): void {
  if (r.result.bodyError !== null) throw new Error(`body error: ${JSON.stringify(r.result.bodyError)}`);
  if (r.result.errors.length !== 1) throw new Error(`expected one error, got ${JSON.stringify(r.result.errors)}`);
}
