// Keeps docs/api/kairosdb.md in step with the decisions the decoders make where KairosDB leaves
// a choice (each list lives next to the code that implements it), including the line port's
// OpenTSDB commands that KairosDB telnet users meet.
import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { KAIROS_INGEST_DECISIONS } from '../../../src/protocols/kairosdb/ingest.js';
import { TELNET_DECISIONS } from '../../../src/protocols/kairosdb/telnet.js';
import { OPENTSDB_TELNET_DECISIONS } from '../../../src/protocols/opentsdb/telnet-commands.js';

describe('docs/api/kairosdb.md', () => {
  const doc = fs.readFileSync('docs/api/kairosdb.md', 'utf8');
  it('lists every ingest and telnet decision word for word', () => {
    for (const decision of [...KAIROS_INGEST_DECISIONS, ...TELNET_DECISIONS, ...OPENTSDB_TELNET_DECISIONS]) expect(doc).toContain(`- ${decision}`);
  });
});
