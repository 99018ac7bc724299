// A growable columnar list of data points, the unit every group-by and aggregator consumes and
// produces. Mirrors KairosDB's data point types: double, long (exact 64-bit), string, raw JSON and
// the null point `gaps` inserts. Owned by one query run; never shared across threads.

/** Kind of a point's value. Double and Long are KairosDB's "number" group, Text its "text" group. */
export const PointKind = {
  Double: 0,
  Long: 1,
  Text: 2,
  Json: 3,
  Null: 4,
} as const;
export type PointKind = (typeof PointKind)[keyof typeof PointKind];

const INITIAL_CAPACITY = 16;

export class Points {
  length = 0;
  /** Timestamps, ms. Not necessarily sorted: `order: desc` and aggregators may reorder. */
  ts: Float64Array;
  kind: Uint8Array;
  /**
   * The numeric value as a double (KairosDB getDoubleValue): the value for Double, the long
   * rounded to a double for Long, 0 for Text/Json/Null. For Long it is exact unless `big` has
   * the index.
   */
  num: Float64Array;
  /** Exact values of Long points whose magnitude exceeds 2^53, by index. Sparse. */
  big: Map<number, bigint> | undefined;
  /** The string (Text) or JSON text (Json) by index; undefined when no such point exists. */
  text: (string | undefined)[] | undefined;

  constructor(capacity = INITIAL_CAPACITY) {
    const c = Math.max(1, capacity);
    this.ts = new Float64Array(c);
    this.kind = new Uint8Array(c);
    this.num = new Float64Array(c);
  }

  private grow(): void {
    const c = this.ts.length * 2;
    const ts = new Float64Array(c);
    ts.set(this.ts);
    this.ts = ts;
    const kind = new Uint8Array(c);
    kind.set(this.kind);
    this.kind = kind;
    const num = new Float64Array(c);
    num.set(this.num);
    this.num = num;
  }

  pushDouble(t: number, value: number): void {
    if (this.length === this.ts.length) this.grow();
    const i = this.length++;
    this.ts[i] = t;
    this.kind[i] = PointKind.Double;
    this.num[i] = value;
  }

  /** A long given as a double that is an exact integer (|v| ≤ 2^53). */
  pushLongNumber(t: number, value: number): void {
    if (this.length === this.ts.length) this.grow();
    const i = this.length++;
    this.ts[i] = t;
    this.kind[i] = PointKind.Long;
    this.num[i] = value;
  }

  pushLong(t: number, value: bigint): void {
    const n = Number(value);
    if (Number.isSafeInteger(n)) {
      this.pushLongNumber(t, n);
      return;
    }
    this.pushLongNumber(t, n);
    (this.big ??= new Map()).set(this.length - 1, value);
  }

  pushText(t: number, kind: typeof PointKind.Text | typeof PointKind.Json, value: string): void {
    if (this.length === this.ts.length) this.grow();
    const i = this.length++;
    this.ts[i] = t;
    this.kind[i] = kind;
    this.num[i] = 0;
    (this.text ??= [])[i] = value;
  }

  pushNull(t: number): void {
    if (this.length === this.ts.length) this.grow();
    const i = this.length++;
    this.ts[i] = t;
    this.kind[i] = PointKind.Null;
    this.num[i] = 0;
  }

  /** Appends point `i` of `src` unchanged except for its timestamp (default: the same). */
  pushFrom(src: Points, i: number, t = src.ts[i]!): void {
    if (this.length === this.ts.length) this.grow();
    const j = this.length++;
    this.ts[j] = t;
    const kind = src.kind[i]!;
    this.kind[j] = kind;
    this.num[j] = src.num[i]!;
    if (kind === PointKind.Long) {
      const b = src.big?.get(i);
      if (b !== undefined) (this.big ??= new Map()).set(j, b);
    } else if (kind === PointKind.Text || kind === PointKind.Json) {
      (this.text ??= [])[j] = src.text![i]!;
    }
  }

  /** Exact value of Long point `i`. */
  longValue(i: number): bigint {
    return this.big?.get(i) ?? BigInt(this.num[i]!);
  }
}
