// Keeps docs/api/opentsdb.md in step with the choices the OpenTSDB decoders and endpoints make.
import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { OPENTSDB_DISCOVERY_DECISIONS } from '../../../src/protocols/opentsdb/discovery.js';
import { OPENTSDB_PUT_DECISIONS } from '../../../src/protocols/opentsdb/put.js';
import { OPENTSDB_TELNET_DECISIONS } from '../../../src/protocols/opentsdb/telnet-commands.js';

describe('docs/api/opentsdb.md', () => {
  const doc = fs.readFileSync('docs/api/opentsdb.md', 'utf8');
  it('lists every put/rollup decision word for word', () => {
    for (const decision of OPENTSDB_PUT_DECISIONS) expect(doc).toContain(`- ${decision}`);
  });

  it('lists every discovery and line-port decision word for word', () => {
    for (const decision of [...OPENTSDB_DISCOVERY_DECISIONS, ...OPENTSDB_TELNET_DECISIONS]) expect(doc).toContain(`- ${decision}`);
  });
});
