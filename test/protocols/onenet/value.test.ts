// Values as uploaded: literal-keeping JSON, how each kind is stored, and how it prints back.
import { describe, expect, it } from 'vitest';
import { ValueKind } from '../../../engine/index.js';
import { formatDouble, parseLiteralJson, storedValueOf, stringifyLiteralJson, valueJson } from '../../../src/protocols/onenet/value.js';

const roundTrip = (text: string): string => {
  const v = storedValueOf(parseLiteralJson(new TextEncoder().encode(text)));
  return valueJson(v.kind, v.kind === ValueKind.Float64 ? v.float : 0, v.kind === ValueKind.Int64 ? v.int : 0n, 'text' in v ? v.text : undefined);
};

describe('OneNET values', () => {
  it('print back exactly as uploaded, whatever the JSON kind', () => {
    for (const text of ['0', '-7', '9007199254740993', '-9223372036854775808', '99999999999999999999', '1.0', '22.5', '-0.0', '"a\\"b"', '""', '{"a":1.50,"b":{"c":[1e5,null]}}', '[]', 'true', 'false', 'null', '1e400']) {
      expect(roundTrip(text), text).toBe(text);
    }
  });
  it('prints doubles as doubles', () => {
    expect(formatDouble(1)).toBe('1.0');
    expect(formatDouble(1e21)).toBe('1e+21');
    expect(formatDouble(0.1)).toBe('0.1');
    expect(formatDouble(-0)).toBe('-0.0');
    expect(formatDouble(Number.NaN)).toBe('null');
    expect(roundTrip('1e3')).toBe('1000.0');
  });
  it('stringifies without spaces, keys escaped', () => {
    expect(stringifyLiteralJson(parseLiteralJson(new TextEncoder().encode('{ "a b" : [ 1 , 2.0 ] , "\\u00e9" : "x" }')))).toBe('{"a b":[1,2.0],"é":"x"}');
  });
});
