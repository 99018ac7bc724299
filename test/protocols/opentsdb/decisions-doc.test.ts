// Keeps docs/api/opentsdb.md in step with the choices the OpenTSDB decoders make.
import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { OPENTSDB_PUT_DECISIONS } from '../../../src/protocols/opentsdb/put.js';

describe('docs/api/opentsdb.md', () => {
  it('lists every put/rollup decision word for word', () => {
    const doc = fs.readFileSync('docs/api/opentsdb.md', 'utf8');
    for (const decision of OPENTSDB_PUT_DECISIONS) expect(doc).toContain(`- ${decision}`);
  });
});
