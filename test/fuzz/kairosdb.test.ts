// Fuzz slice (test/fuzz/targets.ts): the KairosDB ingest decoder and query parser on 10,000
// mutated documents each. Long run: npm run fuzz.
import { describe } from 'vitest';
import { fuzzSlice } from './slice.js';

describe('KairosDB decoders under mutated input', () => {
  fuzzSlice('kairosdb-ingest');
  fuzzSlice('kairosdb-query');
});
