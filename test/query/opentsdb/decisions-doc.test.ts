// Keeps docs/api/opentsdb-query.md in step with the choices /api/query makes.
import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { OPENTSDB_QUERY_DECISIONS } from '../../../src/query/opentsdb/index.js';

describe('docs/api/opentsdb-query.md', () => {
  it('lists every /api/query decision word for word', () => {
    const doc = fs.readFileSync('docs/api/opentsdb-query.md', 'utf8');
    for (const decision of OPENTSDB_QUERY_DECISIONS) expect(doc).toContain(`- ${decision}`);
  });
});
