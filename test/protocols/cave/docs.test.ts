// Keeps docs/api/cave.md in step with the code: every text CAVE clients can receive, every
// aggregator, the limits and the configuration flag appear in the doc as the code has them.
import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../../src/config.js';
import { CAVE_INTERNAL_ERROR_MESSAGE, CAVE_INVALID_JSON_MESSAGE, CAVE_NOT_JSON_MESSAGE } from '../../../src/protocols/cave/envelope.js';
import { MISSING_HOST_MESSAGE } from '../../../src/protocols/cave/host.js';
import {
  CAVE_INSANE_METRIC_MESSAGE,
  CAVE_MAX_SECONDS,
  CAVE_MAX_STRING_CHARS,
  CAVE_MAX_TAGS,
  CAVE_TIMESTAMP_RANGE_MESSAGE,
  CAVE_VALUE_RANGE_MESSAGE,
} from '../../../src/protocols/cave/publish.js';
import { CAVE_AGGREGATORS, CAVE_MAX_POINTS, CAVE_UNKNOWN_METRIC_MESSAGE } from '../../../src/protocols/cave/query.js';

describe('docs/api/cave.md', () => {
  const doc = fs.readFileSync('docs/api/cave.md', 'utf8');

  it('quotes every answer text', () => {
    for (const text of [
      CAVE_INTERNAL_ERROR_MESSAGE,
      CAVE_INVALID_JSON_MESSAGE,
      CAVE_NOT_JSON_MESSAGE,
      MISSING_HOST_MESSAGE,
      CAVE_INSANE_METRIC_MESSAGE,
      CAVE_TIMESTAMP_RANGE_MESSAGE,
      CAVE_VALUE_RANGE_MESSAGE,
      CAVE_UNKNOWN_METRIC_MESSAGE,
      'Invalid hostname format',
      "Required parameter 'metric' is missing.",
      "Parameter 'tags' has invalid value",
      'Basic realm="Restricted"',
    ]) {
      expect(doc).toContain(text);
    }
  });

  it('names every aggregator, the limits and the option', () => {
    for (const a of CAVE_AGGREGATORS) expect(doc).toContain(`\`${a}\``);
    expect(doc).toContain(String(CAVE_MAX_POINTS));
    expect(doc).toContain(String(CAVE_MAX_SECONDS));
    expect(doc).toContain(`${CAVE_MAX_STRING_CHARS}+ characters, or more than ${CAVE_MAX_TAGS} tags`);
    expect(doc).toContain('--cave-max-body-bytes');
    expect(doc).toContain('STRATA_CAVE_MAX_BODY_BYTES');
    expect(doc).toContain(`(default ${defaultConfig('/').caveMaxBodyBytes})`);
  });
});
