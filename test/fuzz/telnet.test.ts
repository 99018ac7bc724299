// Fuzz slice (test/fuzz/targets.ts): the line port's decoder (createLinePortDecoder) on 10,000
// mutated bursts of put/putm/puts/rollup/version lines, cut at random burst boundaries.
// Long run: npm run fuzz.
import { describe } from 'vitest';
import { fuzzSlice } from './slice.js';

describe('line port decoder under mutated input', () => {
  fuzzSlice('telnet-line-port');
});
