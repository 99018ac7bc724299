// Block payload encode/decode (docs/format/block.md §Payload): series definitions, series runs,
// and the columns — timestamps, kinds, then values by kind — LZ4-compressed as one payload.
// Pure: bytes in, bytes out. Writers and compaction build `BlockColumns`; readers get them back.
import { ByteReader, ByteWriter } from '../codec/bytes.js';
import { codecsWriteVersion, type CodecsVersion } from '../codec/codecs-version.js';
import { decodeFloats, encodeFloats, type FloatEncodingMode } from '../codec/floats.js';
import { decodeInts, encodeInts } from '../codec/ints.js';
import { lz4Compress, lz4Decompress } from '../codec/lz4.js';
import { decodeStrings, encodeStrings } from '../codec/strings.js';
import { decodeTimestamps, encodeTimestamps } from '../codec/timestamps.js';
import { decodeSeriesKey, encodeSeriesKey } from '../catalog/series-key.js';
import { ValueKind, type SeriesKey } from '../types.js';
import {
  BLOCK_FLAG_BATCH_CONTINUES,
  BLOCK_FLAG_LZ4,
  BLOCK_FLAG_RUN_COLUMNS,
  BLOCK_HEADER_BYTES,
  alignUp,
  decodeBlockHeader,
  encodeBlockHeader,
  verifyBlock,
  type BlockHeader,
} from './format.js';

/** Kinds column modes (docs/format/block.md §Kinds column). */
const KINDS_UNIFORM = 0;
const KINDS_PER_POINT = 1;
/** Run counts and run TTLs column modes (docs/format/block.md §Runs, run columns layout). */
const RUN_COLUMN_UNIFORM = 0;
const RUN_COLUMN_PER_RUN = 1;

/**
 * A block's points in stored order: grouped in runs, one run per series, each run's points in
 * non-decreasing timestamp order with equal timestamps in write order (so the last of equal
 * timestamps is the newest). Value columns are per point and sparse by kind, as in WriteBatch.
 */
export interface BlockColumns {
  readonly pointCount: number;
  readonly runCount: number;
  /** Segment-local series ref of each run; a series appears in at most one run per block. */
  readonly runRefs: Uint32Array;
  readonly runPointCounts: Uint32Array;
  /** Time-to-live of each run's points in seconds, 0 = none. */
  readonly runTtlSeconds: Uint32Array;
  readonly timestampsMs: Float64Array;
  readonly kinds: Uint8Array;
  readonly floats: Float64Array;
  readonly ints: BigInt64Array;
  readonly texts: readonly (string | undefined)[];
}

export interface DecodedBlock extends BlockColumns {
  readonly header: BlockHeader;
  readonly newSeries: readonly SeriesKey[];
}

export interface BlockMeta {
  readonly firstNewSeriesRef: number;
  readonly sequence: number;
  readonly writtenAtMs: number;
  /** True when more blocks of the same batch follow (BLOCK_FLAG_BATCH_CONTINUES). */
  readonly batchContinues: boolean;
}

const EMPTY_INTS = new BigInt64Array(0);

/**
 * Grow-only encoding scratch shared by every BlockEncoder of the thread (a module instance is
 * per thread): the payload being built and the gathered float and int columns of a mixed-kind
 * block. Each is filled and consumed within one BlockEncoder.encode call, which never yields or
 * re-enters, so encoders cannot interleave on them.
 *
 * Why module-owned rather than per encoder: they grow to the largest block seen. Per encoder, a
 * fresh shard writer grew them again on its first blocks, on grow paths the warm-up's encoder
 * had taken only in its first calls, before V8 kept feedback for them, so the compiled
 * functions were thrown away at the first client body ("Insufficient type feedback for
 * construct" at `new Float64Array(n)` in encodeValues, "… for generic named access" in
 * ByteWriter.ensure under encodeSeriesKey; `--trace-deopt` during the peers workload, decision
 * 0017). Shared, they grow during the warm-up and the shard's writer finds them grown; only a
 * block larger than any of the warm-up's still grows them, once.
 *
 * The payload starts small (4 KiB) on purpose: it then first grows after a few dozen series
 * definitions of the warm-up's first block, so ByteWriter.ensure's grow path has run (and V8 has
 * its feedback) before encodeSeriesKey and the other writers that inline it are compiled.
 * Starting at 64 KiB, the first grow came hundreds of keys in, while encodeSeriesKey was being
 * compiled, and that code met the grow path unfed at the first client block that outgrew the
 * warm-up's (about every second run, same trace).
 */
const payloadScratch = new ByteWriter(1 << 12);
let floatScratch = new Float64Array(1024);
let intScratch = new BigInt64Array(1024);

/**
 * Encodes blocks; reuses its own and the module's scratch (see payloadScratch) across blocks so
 * the hot path allocates no per-point garbage. Not shareable between threads or re-entrant.
 */
export class BlockEncoder {
  private header = new Uint8Array(BLOCK_HEADER_BYTES);
  private stringIdx: number[] = [];
  private jsonIdx: number[] = [];

  /**
   * `mode`: 'fast' for ingest, 'dense' for compaction. `codecsVersion` bounds the encodings
   * 'dense' may write (docs/format/codecs.md §Version history); by default, this thread's
   * codecsWriteVersion() when the encoder is made.
   */
  constructor(
    private readonly mode: FloatEncodingMode,
    private readonly codecsVersion: CodecsVersion = codecsWriteVersion(),
  ) {}

  /**
   * Encodes a whole block (header + stored payload + zero padding) into a fresh Uint8Array the
   * caller owns. `newSeries` are the series this block defines, taking refs
   * meta.firstNewSeriesRef, +1, …
   */
  encode(cols: BlockColumns, newSeries: readonly SeriesKey[], meta: BlockMeta): Uint8Array {
    const n = cols.pointCount;
    const w = payloadScratch;
    w.reset();
    for (const key of newSeries) encodeSeriesKey(w, key);
    const runColumns = this.codecsVersion >= 3;
    if (runColumns) encodeRunColumns(w, cols);
    else {
      for (let r = 0; r < cols.runCount; r++) {
        w.varuint(cols.runRefs[r]!);
        w.varuint(cols.runPointCounts[r]!);
        w.varuint(cols.runTtlSeconds[r]!);
      }
    }
    encodeTimestamps(w, cols.timestampsMs, 0, n);

    let minTs = Infinity;
    let maxTs = -Infinity;
    const ts = cols.timestampsMs;
    for (let i = 0; i < n; i++) {
      const t = ts[i]!;
      if (t < minTs) minTs = t;
      if (t > maxTs) maxTs = t;
    }
    if (n === 0) minTs = maxTs = 0;

    // Kinds: one byte when the block is all one kind (the common case), else a byte per point.
    const kinds = cols.kinds;
    const first = n > 0 ? kinds[0]! : ValueKind.Float64;
    let uniform = true;
    for (let i = 1; i < n; i++) {
      if (kinds[i] !== first) {
        uniform = false;
        break;
      }
    }
    if (uniform) {
      w.u8(KINDS_UNIFORM);
      w.u8(first);
    } else {
      w.u8(KINDS_PER_POINT);
      w.raw(kinds.subarray(0, n));
    }
    this.encodeValues(w, cols, uniform ? first : -1);

    const raw = w.bytes();
    const stored = lz4Compress(raw);
    const blockBytes = alignUp(BLOCK_HEADER_BYTES + stored.length);
    const out = new Uint8Array(blockBytes);
    out.set(stored, BLOCK_HEADER_BYTES);
    encodeBlockHeader(
      out,
      {
        flags: BLOCK_FLAG_LZ4 | (runColumns ? BLOCK_FLAG_RUN_COLUMNS : 0) | (meta.batchContinues ? BLOCK_FLAG_BATCH_CONTINUES : 0),
        blockBytes,
        payloadStoredBytes: stored.length,
        payloadRawBytes: raw.length,
        pointCount: n,
        runCount: cols.runCount,
        newSeriesCount: newSeries.length,
        firstNewSeriesRef: meta.firstNewSeriesRef,
        minTimestampMs: minTs,
        maxTimestampMs: maxTs,
        sequence: meta.sequence,
        writtenAtMs: meta.writtenAtMs,
      },
      out.subarray(BLOCK_HEADER_BYTES),
    );
    return out;
  }

  private encodeValues(w: ByteWriter, cols: BlockColumns, uniformKind: number): void {
    const n = cols.pointCount;
    if (uniformKind === ValueKind.Float64) {
      // Fast path: the whole column is floats already in stored order; no gather needed.
      encodeFloats(w, cols.floats, 0, n, this.mode, this.codecsVersion);
      return;
    }
    if (uniformKind === ValueKind.Int64) {
      encodeInts(w, cols.ints, 0, n, this.mode);
      return;
    }
    this.stringIdx.length = 0;
    this.jsonIdx.length = 0;
    if (floatScratch.length < n) floatScratch = new Float64Array(n);
    if (intScratch.length < n) intScratch = new BigInt64Array(n);
    const floats = floatScratch;
    const ints = intScratch;
    const nf = gatherByKind(cols, n, floats, ints, this.stringIdx, this.jsonIdx);
    // Every point went to exactly one of the four (gatherByKind throws on any other kind).
    const ni = n - nf - this.stringIdx.length - this.jsonIdx.length;
    if (nf > 0) encodeFloats(w, floats, 0, nf, this.mode, this.codecsVersion);
    if (ni > 0) encodeInts(w, ints, 0, ni, this.mode);
    if (this.stringIdx.length > 0) encodeStrings(w, cols.texts, this.stringIdx, 0, this.stringIdx.length);
    if (this.jsonIdx.length > 0) encodeStrings(w, cols.texts, this.jsonIdx, 0, this.jsonIdx.length);
  }
}

/**
 * encodeValues' gather of a mixed-kind block: copies the float and the int points of cols[0, n)
 * to the front of `floats` and `ints`, in point order, pushes the indexes of string and JSON
 * points to `stringIdx` and `jsonIdx`, and returns the number of floats. RangeError on an unknown
 * kind. A function of its own so that nothing but the return follows the loop: V8 compiles this
 * loop on the stack (OSR, seen with `--trace-opt` during the peers workload), and OSR code made
 * during an early call is thrown away at any code after the loop that had not run yet, on every
 * later call that enters it — what encodeTimestamps' loop did (see deltaOfDeltaVarints in
 * codec/timestamps.ts; decision 0017).
 */
function gatherByKind(cols: BlockColumns, n: number, floats: Float64Array, ints: BigInt64Array, stringIdx: number[], jsonIdx: number[]): number {
  let nf = 0;
  let ni = 0;
  for (let i = 0; i < n; i++) {
    switch (cols.kinds[i]) {
      case ValueKind.Float64:
        floats[nf++] = cols.floats[i]!;
        break;
      case ValueKind.Int64:
        ints[ni++] = cols.ints[i]!;
        break;
      case ValueKind.String:
        stringIdx.push(i);
        break;
      case ValueKind.Json:
        jsonIdx.push(i);
        break;
      default:
        throw new RangeError(`unknown value kind ${cols.kinds[i]} at point ${i}`);
    }
  }
  return nf;
}

/**
 * Decodes the block at `bytes[0..]`. `file` and `fileOffset` only label errors. Throws RangeError
 * (with a reason) on any structural or checksum problem; callers wrap it as CorruptionError.
 */
export function decodeBlock(bytes: Uint8Array, limit: number): DecodedBlock {
  const header = decodeBlockHeader(bytes, limit);
  if (typeof header === 'string') throw new RangeError(header);
  if (!verifyBlock(bytes, header)) throw new RangeError('block CRC mismatch');
  const stored = bytes.subarray(BLOCK_HEADER_BYTES, BLOCK_HEADER_BYTES + header.payloadStoredBytes);
  const raw = header.flags & BLOCK_FLAG_LZ4 ? lz4Decompress(stored, header.payloadRawBytes) : stored;
  return decodePayload(header, raw);
}

function decodePayload(header: BlockHeader, raw: Uint8Array): DecodedBlock {
  const r = new ByteReader(raw);
  const n = header.pointCount;
  const newSeries: SeriesKey[] = [];
  for (let i = 0; i < header.newSeriesCount; i++) newSeries.push(decodeSeriesKey(r));
  const { runCount, runRefs, runPointCounts, runTtlSeconds } = decodeRuns(r, header);
  const timestampsMs = new Float64Array(n);
  decodeTimestamps(r, n, timestampsMs, 0);

  const kinds = new Uint8Array(n);
  const kindsMode = r.u8();
  let uniformKind = -1;
  if (kindsMode === KINDS_UNIFORM) {
    uniformKind = r.u8();
    kinds.fill(uniformKind);
  } else if (kindsMode === KINDS_PER_POINT) {
    kinds.set(r.raw(n));
  } else {
    throw new RangeError(`unknown kinds mode ${kindsMode}`);
  }

  let floats = new Float64Array(n);
  let ints = EMPTY_INTS;
  const texts: (string | undefined)[] = [];
  if (uniformKind === ValueKind.Float64) {
    decodeFloats(r, n, floats, 0);
  } else if (uniformKind === ValueKind.Int64) {
    ints = new BigInt64Array(n);
    decodeInts(r, n, ints, 0);
  } else {
    let nf = 0;
    let ni = 0;
    let ns = 0;
    let nj = 0;
    for (let i = 0; i < n; i++) {
      const k = kinds[i]!;
      if (k === ValueKind.Float64) nf++;
      else if (k === ValueKind.Int64) ni++;
      else if (k === ValueKind.String) ns++;
      else if (k === ValueKind.Json) nj++;
      else throw new RangeError(`unknown value kind ${k}`);
    }
    const fv = new Float64Array(nf);
    const iv = new BigInt64Array(ni);
    const sv: (string | undefined)[] = [];
    const jv: (string | undefined)[] = [];
    if (nf > 0) decodeFloats(r, nf, fv, 0);
    if (ni > 0) decodeInts(r, ni, iv, 0);
    if (ns > 0) decodeStrings(r, ns, sv, 0);
    if (nj > 0) decodeStrings(r, nj, jv, 0);
    if (ni > 0) ints = new BigInt64Array(n);
    if (ns + nj > 0) texts.length = n;
    let f = 0;
    let q = 0;
    let s = 0;
    let j = 0;
    for (let i = 0; i < n; i++) {
      const k = kinds[i]!;
      if (k === ValueKind.Float64) floats[i] = fv[f++]!;
      else if (k === ValueKind.Int64) ints[i] = iv[q++]!;
      else if (k === ValueKind.String) texts[i] = sv[s++];
      else texts[i] = jv[j++];
    }
    if (nf === 0) floats = new Float64Array(n);
  }
  if (r.remaining !== 0) throw new RangeError(`${r.remaining} unread payload bytes`);
  return {
    header,
    newSeries,
    pointCount: n,
    runCount,
    runRefs,
    runPointCounts,
    runTtlSeconds,
    timestampsMs,
    kinds,
    floats,
    ints,
    texts,
  };
}

/**
 * The runs section in the run columns layout (codecs version 3, docs/format/block.md §Runs): refs
 * as zig-zag deltas from "previous ref + 1", then counts, then TTLs, each a uniform value or one
 * per run. An ingest block lists its series in definition order, so refs step by one and counts
 * and TTLs are mostly uniform: the section becomes a run of zero bytes that LZ4 all but removes.
 * The v1 layout (ref, count, ttl per run) gave LZ4 a 4-byte pattern that never repeats, which it
 * compressed not at all and slowly (lz4-napi: ~150 MB/s on such input against ~650 MB/s on the
 * float column). Bench: bench/append.bench.ts "append: 5,000 series × 1 point".
 */
function encodeRunColumns(w: ByteWriter, cols: BlockColumns): void {
  const runCount = cols.runCount;
  let previous = -1;
  for (let r = 0; r < runCount; r++) {
    const ref = cols.runRefs[r]!;
    w.varint(ref - previous - 1);
    previous = ref;
  }
  encodeRunColumn(w, cols.runPointCounts, runCount);
  encodeRunColumn(w, cols.runTtlSeconds, runCount);
}

function encodeRunColumn(w: ByteWriter, values: Uint32Array, runCount: number): void {
  const first = runCount > 0 ? values[0]! : 0;
  let uniform = true;
  for (let r = 1; r < runCount && uniform; r++) uniform = values[r] === first;
  if (uniform) {
    w.u8(RUN_COLUMN_UNIFORM);
    w.varuint(first);
    return;
  }
  w.u8(RUN_COLUMN_PER_RUN);
  w.varuints(values.subarray(0, runCount));
}

/**
 * Reads the runs section at the reader's position in either layout (the header's
 * BLOCK_FLAG_RUN_COLUMNS says which) and checks that the counts add up to the header's
 * pointCount. Throws RangeError with a reason.
 */
export function decodeRuns(
  r: ByteReader,
  header: BlockHeader,
): { runCount: number; runRefs: Uint32Array; runPointCounts: Uint32Array; runTtlSeconds: Uint32Array } {
  const runCount = header.runCount;
  const runRefs = new Uint32Array(runCount);
  const runPointCounts = new Uint32Array(runCount);
  const runTtlSeconds = new Uint32Array(runCount);
  if (header.flags & BLOCK_FLAG_RUN_COLUMNS) decodeRunColumns(r, runRefs, runPointCounts, runTtlSeconds);
  else {
    for (let i = 0; i < runCount; i++) {
      runRefs[i] = r.varuint();
      runPointCounts[i] = r.varuint();
      runTtlSeconds[i] = r.varuint();
    }
  }
  let total = 0;
  for (let i = 0; i < runCount; i++) total += runPointCounts[i]!;
  if (total !== header.pointCount) throw new RangeError(`runs hold ${total} points, header says ${header.pointCount}`);
  return { runCount, runRefs, runPointCounts, runTtlSeconds };
}

function decodeRunColumns(r: ByteReader, refs: Uint32Array, counts: Uint32Array, ttls: Uint32Array): void {
  let previous = -1;
  for (let i = 0; i < refs.length; i++) {
    const ref = previous + 1 + r.varint();
    if (ref < 0 || ref > 0xffffffff) throw new RangeError(`run ${i}: ref ${ref} out of range`);
    refs[i] = ref;
    previous = ref;
  }
  decodeRunColumn(r, counts, 'counts');
  decodeRunColumn(r, ttls, 'TTLs');
}

function decodeRunColumn(r: ByteReader, out: Uint32Array, what: string): void {
  const mode = r.u8();
  if (mode === RUN_COLUMN_UNIFORM) {
    const v = r.varuint();
    if (v > 0xffffffff) throw new RangeError(`run ${what}: ${v} out of range`);
    out.fill(v);
  } else if (mode === RUN_COLUMN_PER_RUN) {
    for (let i = 0; i < out.length; i++) {
      const v = r.varuint();
      if (v > 0xffffffff) throw new RangeError(`run ${what} ${i}: ${v} out of range`);
      out[i] = v;
    }
  } else {
    throw new RangeError(`unknown run ${what} mode ${mode}`);
  }
}
