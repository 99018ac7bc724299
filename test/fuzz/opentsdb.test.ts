// Fuzz slice (test/fuzz/targets.ts): OpenTSDB /api/put (fast path against the full path),
// /api/rollup and the /api/query parser (POST JSON, GET query string), 10,000 mutated inputs each.
// Long run: npm run fuzz.
import { describe } from 'vitest';
import { fuzzSlice } from './slice.js';

describe('OpenTSDB decoders under mutated input', () => {
  fuzzSlice('opentsdb-put');
  fuzzSlice('opentsdb-rollup');
  fuzzSlice('opentsdb-query-post');
  fuzzSlice('opentsdb-query-get');
});
