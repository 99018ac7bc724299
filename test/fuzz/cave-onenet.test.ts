// Fuzz slice (test/fuzz/targets.ts): CAVE publish and OneNET upload types 1/3/4/5 — the
// all-or-nothing decoders — and the CAVE/OneNET read query strings, 10,000 mutated inputs each.
// Long run: npm run fuzz.
import { describe } from 'vitest';
import { fuzzSlice } from './slice.js';

describe('CAVE and OneNET decoders under mutated input', () => {
  fuzzSlice('cave-publish');
  fuzzSlice('onenet-type1');
  fuzzSlice('onenet-type3');
  fuzzSlice('onenet-type4');
  fuzzSlice('onenet-type5');
  fuzzSlice('read-query-strings');
});
