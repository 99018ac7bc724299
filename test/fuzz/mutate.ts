// The fuzzers' mutators: valid seed documents in, structured-but-broken inputs out. Three layers,
// combined at random: a JSON tree mutator (wrong types, missing/extra/duplicate/renamed members,
// huge and odd number literals, unicode, deep nesting, grown arrays), a word mutator for line
// and query-string protocols, and a byte mutator (bit flips, truncation, insertion of structural
// characters and dictionary tokens, invalid UTF-8, duplicated slices). Everything draws from an
// Rng, so an input is a pure function of (seed, target, index).
import type { Rng } from './rng.js';

// ------------------------------------------------------------------------------ JSON tree

/** A JSON document as a mutable tree; objects keep order and may repeat keys; scalars keep their literal text. */
export type JNode = { t: 'o'; e: [string, JNode][] } | { t: 'a'; e: JNode[] } | { t: 'r'; s: string };

export function toTree(v: unknown): JNode {
  if (Array.isArray(v)) return { t: 'a', e: v.map(toTree) };
  if (v !== null && typeof v === 'object') return { t: 'o', e: Object.entries(v).map(([k, x]) => [k, toTree(x)]) };
  return { t: 'r', s: JSON.stringify(v) ?? 'null' };
}

export function serialize(n: JNode, rng: Rng | null = null): string {
  const parts: string[] = [];
  const ws = rng !== null && rng.chance(0.1) ? rng.pick([' ', '\n', '\t', '\r\n', '  ']) : '';
  const walk = (x: JNode): void => {
    if (x.t === 'r') parts.push(x.s);
    else if (x.t === 'a') {
      parts.push('[');
      x.e.forEach((c, i) => {
        if (i > 0) parts.push(',', ws);
        walk(c);
      });
      parts.push(']');
    } else {
      parts.push('{', ws);
      x.e.forEach(([k, c], i) => {
        if (i > 0) parts.push(',', ws);
        parts.push(JSON.stringify(k), ':', ws);
        walk(c);
      });
      parts.push(ws, '}');
    }
  };
  walk(n);
  return parts.join('');
}

/** Number literals that stress lossless parsing, range checks and the float/long split. */
export const NUMBER_LITERALS = [
  '0', '-0', '1', '-1', '0.0', '-0.0', '1.0', '1e5', '1E5', '1e-5', '2.5E-3', '0.1', '41.5', '-3.25e2',
  '9007199254740991', '9007199254740992', '9007199254740993', '-9007199254740993',
  '9223372036854775807', '9223372036854775808', '-9223372036854775808', '-9223372036854775809',
  '18446744073709551616', '123456789012345678901234567890', '1' + '0'.repeat(400),
  '4294967295', '4294967296', '9999999999999', '10000000000000', '99999999999999', '95617584000', '95617584001',
  '1125899906842624', '-1125899906842624', '1125899906842623', '1704067200', '1704067200123', '1413540000',
  '1e308', '1.7976931348623157e308', '1e309', '-1e309', '1e999', '5e-324', '4.9e-325', '2.2250738585072014e-308',
  '1e-400', '0.30000000000000004', '41.234567890123456', '4.1234567890123456789012', '1234567890123456', '1e23',
  '123456789.123456789e-9', '0e0', '0E-0', '1e+2', '-1E+400', '3.4028234663852886e38', '3.4028236e38',
];

/** Strings that stress names, tag values, times and numeric-string handling. */
export const STRING_LITERALS = [
  '', ' ', '  ', 'a', 'A', 'x y', 'host', 'value', 'metric', 'name', 'tags', 'timestamp', 'null', 'true', 'NaN', 'Infinity',
  '-Infinity', '+INF', '123', '-5', '1.5', '0.000000', '1e5', '0x10', '١٢٣', 'abc', 'é', '日本語', '😀', '\u0000', '\u001f',
  '\u007f', '\u2028', '\ufeff', '\ud800', '\udfff', '\ud83d', '"', '\\', '/', '=', ':', ',', ';', '{', '}', '[', ']',
  'a=b', 'k=v=w', 'strata:rollup', 'CAVE-account', 'CAVE-cluster', 'device_id', '_aggregate', 'kairos_opt.ttl',
  '2015-03-22T22:31:12', '2015-03-22 22:31:12', '2015-02-30T25:61:61', '2015-03-22T22:31:12.123', '9999-12-31T23:59:59',
  '0000-01-01T00:00:00', '-271821-04-20T00:00:00', '2014-10-17T10:00:00.000Z', '1h-ago', 'now', '1m-avg', '0all-sum',
  'sum', 'avg', 'long', 'double', 'string', 'complex-number', '1h', 'SUM', 'x'.repeat(127), 'x'.repeat(128), 'x'.repeat(1025),
];

function randomString(rng: Rng): string {
  if (rng.chance(0.6)) return rng.pick(STRING_LITERALS);
  const n = rng.chance(0.005) ? rng.range(60000, 70000) : rng.count(0.8, 40);
  const pools = ['abcxyz', 'AZ09._-/', ' \t\n\r"\\', 'éü日本€', '😀🎉', '\u0000\u0001\u001f', '\ud800\udc00\udbff'];
  let s = '';
  const pool = rng.pick(pools);
  for (let i = 0; i < n && s.length < n; i++) s += [...pool][rng.int([...pool].length)]!;
  return s;
}

function deepNesting(rng: Rng): string {
  const depth = rng.chance(0.1) ? rng.range(5000, 25000) : rng.range(10, 600);
  const open = rng.pick(['[', '{"a":', '[{"a":']);
  const close = open === '[' ? ']' : open === '{"a":' ? '}' : '}]';
  const closed = rng.chance(0.8);
  return open.repeat(depth) + '1' + (closed ? close.repeat(depth) : '');
}

/** A random JSON value literal (any type; sometimes not JSON at all). */
export function randomLiteral(rng: Rng, dictionary: readonly string[]): string {
  switch (rng.int(10)) {
    case 0:
    case 1:
    case 2:
      return rng.pick(NUMBER_LITERALS);
    case 3:
    case 4:
      return JSON.stringify(rng.chance(0.5) ? rng.pick(dictionary) : randomString(rng));
    case 5:
      return rng.pick(['true', 'false', 'null', '[]', '{}', '[null]', '[[]]', '{"":""}', '[1,2,3]', '{"a":"b"}', '""']);
    case 6:
      return JSON.stringify(rng.pick(NUMBER_LITERALS)); // numeric string
    case 7:
      return deepNesting(rng);
    case 8:
      return rng.pick(['NaN', '-Infinity', 'undefined', "'x'", '01', '1.', '.5', '+1', '-', '1e', '0x1F', 'tru', 'nul', '"\\u12"', '"\\x"', '"a\nb"', '[,]', '[1,]', '{,}']);
    default:
      return JSON.stringify(randomString(rng));
  }
}

interface Slot {
  parent: JNode & { t: 'o' | 'a' };
  index: number;
}

/** Every (container, index) pair of the tree, i.e. every replaceable node but the root. */
function slots(root: JNode): Slot[] {
  const out: Slot[] = [];
  const walk = (n: JNode): void => {
    if (n.t === 'r') return;
    for (let i = 0; i < n.e.length; i++) {
      out.push({ parent: n, index: i });
      const c = n.t === 'o' ? n.e[i]![1] : n.e[i]!;
      walk(c);
    }
  };
  walk(root);
  return out;
}

function containers(root: JNode): (JNode & { t: 'o' | 'a' })[] {
  const out: (JNode & { t: 'o' | 'a' })[] = [];
  const walk = (n: JNode): void => {
    if (n.t === 'r') return;
    out.push(n);
    for (const c of n.e) walk(n.t === 'o' ? (c as [string, JNode])[1] : (c as JNode));
  };
  walk(root);
  return out;
}

const get = (s: Slot): JNode => (s.parent.t === 'o' ? s.parent.e[s.index]![1] : s.parent.e[s.index]!);
const set = (s: Slot, v: JNode): void => {
  if (s.parent.t === 'o') s.parent.e[s.index]![1] = v;
  else s.parent.e[s.index] = v;
};

function clone(n: JNode): JNode {
  if (n.t === 'r') return { t: 'r', s: n.s };
  if (n.t === 'a') return { t: 'a', e: n.e.map(clone) };
  return { t: 'o', e: n.e.map(([k, v]) => [k, clone(v)]) };
}

function size(n: JNode): number {
  if (n.t === 'r') return 1;
  let s = 1;
  for (const c of n.e) s += size(n.t === 'o' ? (c as [string, JNode])[1] : (c as JNode));
  return s;
}

/** One structural mutation of the tree, in place (the root may be replaced: the new root is returned). */
export function mutateTree(root: JNode, rng: Rng, dictionary: readonly string[]): JNode {
  const all = slots(root);
  if (all.length === 0 || rng.chance(0.03)) return { t: 'r', s: randomLiteral(rng, dictionary) };
  const slot = rng.pick(all);
  switch (rng.int(11)) {
    case 0:
    case 1:
    case 2: // replace a value by any literal (wrong type, odd number, unicode, deep nesting)
      set(slot, { t: 'r', s: randomLiteral(rng, dictionary) });
      break;
    case 3: // delete a member or element
      slot.parent.e.splice(slot.index, 1);
      break;
    case 4: {
      // add a member (dictionary key) or element
      const c = rng.pick(containers(root));
      const v: JNode = rng.chance(0.5) ? { t: 'r', s: randomLiteral(rng, dictionary) } : clone(get(slot));
      if (c.t === 'o') c.e.splice(rng.int(c.e.length + 1), 0, [rng.chance(0.8) ? rng.pick(dictionary) : randomString(rng), v]);
      else c.e.splice(rng.int(c.e.length + 1), 0, v);
      break;
    }
    case 5: // duplicate a member or element (repeated keys)
      if (slot.parent.t === 'o') slot.parent.e.splice(slot.index, 0, [slot.parent.e[slot.index]![0], clone(get(slot))]);
      else slot.parent.e.splice(slot.index, 0, clone(get(slot)));
      break;
    case 6: // rename a key
      if (slot.parent.t === 'o') {
        const k = slot.parent.e[slot.index]![0];
        slot.parent.e[slot.index]![0] = rng.pick([rng.pick(dictionary), k.toUpperCase(), '', ` ${k}`, k + k, randomString(rng)]);
      } else set(slot, { t: 'r', s: randomLiteral(rng, dictionary) });
      break;
    case 7: // wrap in an array or an object
      set(slot, rng.chance(0.5) ? { t: 'a', e: [get(slot)] } : { t: 'o', e: [[rng.pick(dictionary), get(slot)]] });
      break;
    case 8: {
      // swap two elements / members of one container
      const c = slot.parent;
      if (c.e.length > 1) {
        const j = rng.int(c.e.length);
        const tmp = c.e[slot.index]!;
        c.e[slot.index] = c.e[j]!;
        c.e[j] = tmp as never;
      }
      break;
    }
    case 9: {
      // grow an array: repeat its elements (bounded)
      const arrays = containers(root).filter((c) => c.t === 'a');
      if (arrays.length > 0 && size(root) < 1000 && serialize(root).length < 32_768) {
        const a = rng.pick(arrays) as JNode & { t: 'a' };
        const times = rng.range(2, 40);
        const copy = a.e.slice();
        for (let i = 1; i < times && a.e.length < 500; i++) for (const x of copy) a.e.push(clone(x));
      }
      break;
    }
    default: // replace by a copy of another node (types from elsewhere in the document)
      set(slot, clone(get(rng.pick(all))));
      break;
  }
  return root;
}

// ------------------------------------------------------------------------------ bytes

const enc = new TextEncoder();
const STRUCTURAL = [...'{}[],:"\\ \n\t\r=0-.eE+'].map((c) => c.charCodeAt(0));
const BAD_UTF8 = [[0xff], [0xfe], [0xc0, 0x80], [0xc3], [0xe2, 0x82], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0x80], [0xef, 0xbb, 0xbf]];

/** One byte-level mutation. `dictionary` tokens are inserted as UTF-8. */
export function mutateBytes(b: Uint8Array, rng: Rng, dictionary: readonly string[]): Uint8Array {
  const n = b.length;
  const at = rng.int(n + 1);
  const splice = (start: number, del: number, ins: Uint8Array | readonly number[]): Uint8Array => {
    const out = new Uint8Array(n - del + ins.length);
    out.set(b.subarray(0, start), 0);
    out.set(ins, start);
    out.set(b.subarray(start + del), start + ins.length);
    return out;
  };
  switch (rng.int(10)) {
    case 0: {
      if (n === 0) return splice(0, 0, [rng.int(256)]);
      const out = b.slice();
      const i = rng.int(n);
      out[i] = rng.chance(0.5) ? out[i]! ^ (1 << rng.int(8)) : rng.int(256);
      return out;
    }
    case 1:
      return b.slice(0, rng.int(n + 1)); // truncate
    case 2:
      return splice(at, 0, Array.from({ length: rng.count(0.4, 8) }, () => rng.pick(STRUCTURAL)));
    case 3:
      return splice(at, 0, enc.encode(rng.pick(dictionary)));
    case 4:
      return splice(at, Math.min(n - at, rng.count(0.7, 64)), []); // delete a range
    case 5: {
      const from = rng.int(n + 1);
      const len = Math.min(n - from, rng.count(0.8, 200));
      return splice(at, 0, b.slice(from, from + len)); // duplicate a slice
    }
    case 6:
      return splice(at, 0, rng.pick(BAD_UTF8));
    case 7:
      return splice(at, 0, enc.encode(rng.pick(['é', '日', '😀', '\u2028', '\u0000', '\ufeff', '\r\n', '\n', '\r', '  '])));
    case 8:
      return splice(at, 0, [rng.int(256)]);
    default:
      return splice(at, 0, enc.encode(rng.pick(NUMBER_LITERALS)));
  }
}

// ------------------------------------------------------------------------------ documents

/**
 * Largest input: 256 KiB, past every endpoint's usual body size, so a long run does not spend its
 * time on (or get stuck generating) multi-megabyte documents that repeated growth can build.
 * Longer ones are cut, which is one more truncation.
 */
export const MAX_INPUT_BYTES = 256 * 1024;

function capped(bytes: Uint8Array): Uint8Array {
  return bytes.length > MAX_INPUT_BYTES ? bytes.slice(0, MAX_INPUT_BYTES) : bytes;
}

export interface JsonMutationOptions {
  /** Keys and strings of the protocol (field names, aggregator names, …). */
  readonly dictionary: readonly string[];
}

/**
 * A mutated JSON document from `seeds`: ~8% a seed as is, ~50% tree mutations only, ~25% tree
 * then byte mutations, the rest byte mutations only. 1–5 mutations, small counts likely.
 */
export function mutateJsonSeed(seeds: readonly unknown[], rng: Rng, options: JsonMutationOptions): Uint8Array {
  const seed = rng.pick(seeds);
  let tree = toTree(seed);
  const mode = rng.int(100);
  if (mode < 8) return enc.encode(serialize(tree, rng));
  if (mode < 83) {
    const k = rng.count(0.5, 5);
    for (let i = 0; i < k; i++) tree = mutateTree(tree, rng, options.dictionary);
  }
  let bytes: Uint8Array = enc.encode(serialize(tree, rng));
  if (mode >= 58) {
    const k = rng.count(0.45, 5);
    for (let i = 0; i < k; i++) bytes = mutateBytes(bytes, rng, options.dictionary);
  }
  return capped(bytes);
}

/**
 * A mutated text (line protocol, query string): word-level mutations (replace, insert, delete,
 * duplicate, split, join words; words from the dictionary or odd numbers/strings), then
 * sometimes byte mutations.
 */
export function mutateText(seed: string, rng: Rng, dictionary: readonly string[], separators: readonly string[]): Uint8Array {
  const sepRe = new RegExp(`(${separators.map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})`);
  const parts = seed.split(sepRe); // words at even indexes, separators at odd ones
  const k = rng.count(0.5, 5);
  const wordAt = (): number => 2 * rng.int(Math.ceil(parts.length / 2));
  const word = (): string =>
    rng.pick([rng.pick(dictionary), rng.pick(NUMBER_LITERALS), rng.pick(STRING_LITERALS), randomString(rng), '', rng.pick(NUMBER_LITERALS).slice(0, rng.range(1, 6))]);
  for (let i = 0; i < k && rng.int(100) < 85; i++) {
    const w = wordAt();
    switch (rng.int(7)) {
      case 0:
      case 1:
        parts[w] = word();
        break;
      case 2:
        parts.splice(w, 0, word(), rng.pick(separators));
        break;
      case 3:
        parts.splice(w, 2);
        break;
      case 4:
        parts.splice(w, 0, parts[w] ?? '', rng.pick(separators));
        break;
      case 5:
        parts[w] = (parts[w] ?? '') + rng.pick(separators) + word(); // a separator inside a word
        break;
      default:
        if (w + 2 < parts.length) parts.splice(w, 3, (parts[w] ?? '') + (parts[w + 2] ?? '')); // join two words
        break;
    }
  }
  let bytes: Uint8Array = enc.encode(parts.join(''));
  if (rng.chance(0.35)) {
    const m = rng.count(0.4, 4);
    for (let i = 0; i < m; i++) bytes = mutateBytes(bytes, rng, dictionary);
  }
  return capped(bytes);
}

/** Random cut points for feeding `length` bytes in chunks (empty: whole). */
export function randomCuts(rng: Rng, length: number): number[] {
  if (length < 2 || rng.chance(0.3)) return [];
  const k = rng.count(0.6, 12);
  return Array.from({ length: k }, () => rng.int(length));
}

/** `bytes` cut at `cuts` (unsorted, duplicates allowed): the decoders' tests' own splitter. */
export { splitAt } from '../protocols/opentsdb/helpers.js';
