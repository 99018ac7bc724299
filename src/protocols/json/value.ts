// Builds plain JS values from JsonTokenizer tokens, resumable across chunks (explicit stack, no
// recursion). For consumers that do need a (small) document or sub-document as objects — the
// ingest decoders do not use it on their hot path. Numbers go through a caller-supplied function
// so literals can be kept (`1` vs `1.0`, int64 beyond 2^53). Pure; no I/O.
import {
  BEGIN_ARRAY,
  BEGIN_OBJECT,
  END,
  END_ARRAY,
  END_OBJECT,
  FALSE,
  JsonTokenizer,
  KEY,
  NEED_MORE,
  NULL,
  NUMBER,
  STRING,
  TRUE,
  type JsonTokenizerOptions,
} from './tokenizer.js';

/** Turns the tokenizer's current NUMBER token into a value; default: `tok.numberValue` (JSON.parse). */
export type NumberReviver = (tok: JsonTokenizer) => unknown;

const defaultNumber: NumberReviver = (tok) => tok.numberValue;

type Container = unknown[] | Record<string, unknown>;

/**
 * Reads one JSON value from the tokens of `tok`. Call `read()` after each `tok.feed`; it returns
 * `true` once the value is complete (then `value` holds it) and `false` when it needs more input.
 * Objects are plain objects with own data properties (`__proto__` included, as JSON.parse does);
 * duplicate keys: the last one wins. Syntax errors are the tokenizer's JsonSyntaxError.
 */
export class JsonValueBuilder {
  value: unknown = undefined;
  private readonly stack: Container[] = [];
  private readonly keys: (string | undefined)[] = [];
  private pendingKey: string | undefined;
  private done = false;

  constructor(
    private readonly tok: JsonTokenizer,
    private readonly number: NumberReviver = defaultNumber,
    /** Stop after the value instead of requiring the end of input (for values inside a larger document). */
    private readonly untilValueEnd = false,
  ) {}

  read(): boolean {
    if (this.done) return true;
    const tok = this.tok;
    for (;;) {
      const t = tok.next();
      let v: unknown;
      switch (t) {
        case NEED_MORE:
          return false;
        case END:
          this.done = true;
          return true;
        case KEY:
          this.pendingKey = tok.stringValue();
          continue;
        case BEGIN_OBJECT:
        case BEGIN_ARRAY: {
          const c: Container = t === BEGIN_ARRAY ? [] : {};
          this.attach(c);
          this.stack.push(c);
          this.keys.push(this.pendingKey);
          continue;
        }
        case END_OBJECT:
        case END_ARRAY: {
          const c = this.stack.pop()!;
          this.keys.pop();
          if (this.stack.length === 0) {
            this.value = c;
            if (this.untilValueEnd) {
              this.done = true;
              return true;
            }
          }
          continue;
        }
        case STRING:
          v = tok.stringValue();
          break;
        case NUMBER:
          v = this.number(tok);
          break;
        case TRUE:
          v = true;
          break;
        case FALSE:
          v = false;
          break;
        case NULL:
          v = null;
          break;
        default:
          throw new Error(`unexpected token ${t}`);
      }
      this.attach(v);
      if (this.stack.length === 0) {
        this.value = v;
        if (this.untilValueEnd) {
          this.done = true;
          return true;
        }
      }
    }
  }

  private attach(v: unknown): void {
    const top = this.stack[this.stack.length - 1];
    if (top === undefined) return;
    if (Array.isArray(top)) top.push(v);
    else {
      const k = this.pendingKey!;
      if (k === '__proto__') Object.defineProperty(top, k, { value: v, enumerable: true, writable: true, configurable: true });
      else top[k] = v;
    }
  }
}

/**
 * Parses a whole document given as chunks (any split) into JS values; throws JsonSyntaxError.
 * Equivalent to JSON.parse(Buffer.concat(chunks).toString('utf8')) with numbers from `number`.
 */
export function parseJsonChunks(chunks: readonly Uint8Array[], number: NumberReviver = defaultNumber, options: JsonTokenizerOptions = {}): unknown {
  const tok = new JsonTokenizer(options);
  const builder = new JsonValueBuilder(tok, number);
  for (let i = 0; i < chunks.length; i++) {
    tok.feed(chunks[i]!, i === chunks.length - 1);
    if (builder.read()) return builder.value;
  }
  if (chunks.length === 0) tok.feed(new Uint8Array(0), true);
  builder.read();
  return builder.value;
}
