// Merging a scan: collects the points of wanted series from many blocks, drops what TTL,
// retention and tombstones hide, and resolves duplicates — last write wins per (series,
// timestamp), "last" meaning the newest block by (writtenAtMs, shardId, block sequence) and then
// the later point within a block (docs/decisions/0003-last-write-wins.md). Pure; no I/O.
import type { SeriesId, SeriesKey } from '../types.js';

/** A series' points in time order, one per timestamp; value columns are sparse by kind. */
export interface SeriesPoints {
  readonly id: SeriesId;
  readonly key: SeriesKey;
  readonly length: number;
  readonly timestampsMs: Float64Array;
  readonly kinds: Uint8Array;
  readonly floats: Float64Array;
  readonly ints: BigInt64Array;
  readonly texts: readonly (string | undefined)[];
}

/** Collects candidate points of one series, with what orders duplicates. */
export class PointAccumulator {
  readonly ts: number[] = [];
  readonly writtenAt: number[] = [];
  /** shardId * 2^40 + block sequence: unique per block, orders blocks written in the same ms. */
  readonly blockRank: number[] = [];
  readonly kinds: number[] = [];
  readonly floats: number[] = [];
  readonly ints: bigint[] = [];
  readonly texts: (string | undefined)[] = [];
  private hasInts = false;
  private hasTexts = false;

  push(t: number, writtenAt: number, blockRank: number, kind: number, f: number, i: bigint | undefined, text: string | undefined): void {
    this.ts.push(t);
    this.writtenAt.push(writtenAt);
    this.blockRank.push(blockRank);
    this.kinds.push(kind);
    this.floats.push(f);
    this.ints.push(i ?? 0n);
    this.texts.push(text);
    if (i !== undefined) this.hasInts = true;
    if (text !== undefined) this.hasTexts = true;
  }

  /** Sorts by time, keeps the newest write of each timestamp. Push order breaks full ties. */
  finish(id: SeriesId, key: SeriesKey): SeriesPoints {
    const n = this.ts.length;
    const order = new Uint32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    const ts = this.ts;
    let strictlyIncreasing = true;
    for (let i = 1; i < n; i++) {
      if (ts[i]! <= ts[i - 1]!) {
        strictlyIncreasing = false;
        break;
      }
    }
    if (!strictlyIncreasing) {
      const wt = this.writtenAt;
      const rank = this.blockRank;
      order.sort((a, b) => ts[a]! - ts[b]! || wt[a]! - wt[b]! || rank[a]! - rank[b]! || a - b);
    }
    // Keep the last of each run of equal timestamps.
    const keep: number[] = [];
    for (let j = 0; j < n; j++) {
      const i = order[j]!;
      if (j + 1 < n && ts[order[j + 1]!] === ts[i]) continue;
      keep.push(i);
    }
    const m = keep.length;
    const out = {
      id,
      key,
      length: m,
      timestampsMs: new Float64Array(m),
      kinds: new Uint8Array(m),
      floats: new Float64Array(m),
      ints: this.hasInts ? new BigInt64Array(m) : new BigInt64Array(0),
      texts: this.hasTexts ? new Array<string | undefined>(m) : [],
    };
    for (let j = 0; j < m; j++) {
      const i = keep[j]!;
      out.timestampsMs[j] = ts[i]!;
      out.kinds[j] = this.kinds[i]!;
      out.floats[j] = this.floats[i]!;
      if (this.hasInts) out.ints[j] = this.ints[i]!;
      if (this.hasTexts) out.texts[j] = this.texts[i];
    }
    return out;
  }
}

export const BLOCK_RANK_SHARD_FACTOR = 2 ** 40;
