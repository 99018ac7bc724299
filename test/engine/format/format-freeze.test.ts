// Format freeze: today's encoders, given the same input, write byte-identical files to the
// committed v1 fixture (test/fixtures/format-v1/). A failure here means the on-disk format
// changed: bump the version, document it in docs/format/, and add a new fixture — never
// regenerate format-v1. Each shard is re-encoded with the codecs version it was written with
// (FIXTURE_CODECS_VERSION_BY_SHARD): newer dense encodings must not change older shards' bytes.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BlockEncoder, decodeBlock } from '../../../engine/segment/block.js';
import { SegmentKind, decodeSegmentHeader, encodeSegmentHeader } from '../../../engine/segment/format.js';
import { bufferSource, encodeFooterAndTrailer } from '../../../engine/segment/segment-index.js';
import { openSegment } from '../../../engine/segment/segment-file.js';
import { decodeTombstones, encodeTombstone } from '../../../engine/segment/tombstones.js';
import { FIXTURE_CODECS_VERSION_BY_SHARD, writeFormatV1Fixture } from '../../fixtures/format-v1-data.js';
import { tempDir } from '../../helpers/tmp.js';

const FIXTURE = fileURLToPath(new URL('../../fixtures/format-v1/', import.meta.url));

function filesUnder(dir: string, prefix = ''): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? filesUnder(path.join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`]))
    .sort();
}

const SEGMENTS = filesUnder(FIXTURE).filter((f) => f.endsWith('.seg'));

/** First differing offset of two byte strings, or -1; makes a failure point at the byte. */
function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

describe('format freeze (v1)', () => {
  it('writing the fixture\'s data set again gives the same files, byte for byte', () => {
    const dir = tempDir('strata-format-freeze-');
    writeFormatV1Fixture(dir);
    expect(filesUnder(dir)).toEqual(filesUnder(FIXTURE));
    for (const rel of filesUnder(FIXTURE)) {
      const want = fs.readFileSync(path.join(FIXTURE, rel));
      const got = fs.readFileSync(path.join(dir, rel));
      expect(firstDifference(got, want), `${rel}: first differing byte`).toBe(-1);
    }
  });

  for (const rel of SEGMENTS) {
    it(`re-encoding every structure of ${rel} from its decoded contents gives the same bytes`, () => {
      const bytes = new Uint8Array(fs.readFileSync(path.join(FIXTURE, rel)));
      const header = decodeSegmentHeader(bytes);
      if (typeof header === 'string') throw new Error(header);
      const again = new Uint8Array(64);
      encodeSegmentHeader(again, header);
      expect(firstDifference(again, bytes.subarray(0, 64)), 'segment header').toBe(-1);

      const opened = openSegment(rel, bufferSource(bytes));
      if (!opened.ok) throw new Error(opened.reason);
      const index = opened.index;
      const codecsVersion = FIXTURE_CODECS_VERSION_BY_SHARD[header.shardId];
      if (codecsVersion === undefined) throw new Error(`no codecs version recorded for shard ${header.shardId}`);
      const encoder = new BlockEncoder(header.kind === SegmentKind.Compacted ? 'dense' : 'fast', codecsVersion);
      expect(index.blocks.length).toBeGreaterThan(0);
      index.blocks.forEach((entry, i) => {
        const stored = bytes.subarray(entry.offset, entry.offset + entry.blockBytes);
        const block = decodeBlock(stored, stored.length);
        const reencoded = encoder.encode(block, block.newSeries, {
          firstNewSeriesRef: block.header.firstNewSeriesRef,
          sequence: block.header.sequence,
          writtenAtMs: block.header.writtenAtMs,
          batchContinues: (block.header.flags & 0x02) !== 0,
        });
        expect(firstDifference(reencoded, stored), `block ${i} at ${entry.offset}`).toBe(-1);
      });

      if (index.sealed) {
        const footerOffset = index.endOffset;
        const tail = encodeFooterAndTrailer(index, footerOffset);
        expect(footerOffset + tail.length).toBe(bytes.length);
        expect(firstDifference(tail, bytes.subarray(footerOffset)), 'footer + trailer').toBe(-1);
      }
    });
  }

  it('re-encoding the tombstones gives the same log', () => {
    const bytes = new Uint8Array(fs.readFileSync(path.join(FIXTURE, 'tombstones.log')));
    const { tombstones, validBytes } = decodeTombstones(bytes);
    expect(validBytes).toBe(bytes.length);
    const again = Buffer.concat(tombstones.map((t) => encodeTombstone(t)));
    expect(firstDifference(again, bytes)).toBe(-1);
  });
});
