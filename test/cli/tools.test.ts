// The data tools as a user runs them: `node dist/src/main.js inspect|export|import …` against
// temporary data directories and a copy of the committed v1 fixture, over real files, pipes and
// gzip; exit codes, stdout/stderr and the bytes on disk. (Each process start costs about a second
// on a busy machine, so the many smaller cases run in-process in tools-cases.test.ts.)
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tmp.js';
import { KAIROS_INPUT, OPENTSDB_INPUT, copyFixture, flipByte, snapshot, strata } from './tools-helpers.js';

describe('strata import → strata export', () => {
  it('KairosDB JSON round trips from a plain file and from gzip on stdin, values exactly as stored', () => {
    const dir = tempDir();
    const file = path.join(dir, 'in.json');
    fs.writeFileSync(file, KAIROS_INPUT);
    for (const [what, args, input] of [
      ['plain-file', [file], undefined],
      ['gzip-stdin', ['-', '--format', 'kairosdb'], zlib.gzipSync(KAIROS_INPUT)],
    ] as const) {
      const data = path.join(dir, what);
      const imported = strata(['import', '--data-dir', data, ...args], input);
      expect(imported.code, `${what}: ${imported.stderr}`).toBe(0);
      expect(imported.stderr).toMatch(/^strata: imported 15 point\(s\) \(kairosdb\) into shard 0 of .* in [\d.]+ s \(\d+ points\/s\)\n$/);
      const exported = strata(['export', '--data-dir', data, '--metric', 'rt.cpu']);
      expect(exported.code).toBe(0);
      expect(exported.stderr).toBe('strata: exported 15 point(s) of 3 series\n');
      expect(exported.stdout, what).toBe(KAIROS_INPUT);
    }
  });

  it('OpenTSDB lines round trip from plain stdin and from a gzip file', () => {
    const dir = tempDir();
    const gz = path.join(dir, 'in.txt.gz');
    fs.writeFileSync(gz, zlib.gzipSync(OPENTSDB_INPUT));
    for (const [what, args, input] of [
      ['plain-stdin', ['--format', 'opentsdb'], OPENTSDB_INPUT],
      ['gzip-file', [gz], undefined],
    ] as const) {
      const data = path.join(dir, what);
      const imported = strata(['import', '--data-dir', data, ...args], input);
      expect(imported.code, `${what}: ${imported.stderr}`).toBe(0);
      expect(imported.stderr).toContain('imported 7 point(s) (opentsdb) into shard 0');
      const exported = strata(['export', '--data-dir', data, '--metric', 'rt.cpu', '--format', 'opentsdb']);
      expect(exported.code).toBe(0);
      expect(exported.stdout, what).toBe(OPENTSDB_INPUT);
    }
  });
});

describe('strata inspect', () => {
  it('prints every shard and segment of the v1 fixture with totals, verifies it, and changes nothing', () => {
    const data = copyFixture();
    const before = snapshot(data);
    const r = strata(['inspect', '--data-dir', data, '--verify']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /shard 0 \(no writer running\)\n {2}SEQ +KIND +STATE +BYTES +BLOCKS +POINTS +SERIES +FIRST +LAST +BYTES\/POINT\n {2}1 +ingest +sealed +768 +2 +27 +7 +1969-12-31T23:59:58\.000Z +1970-01-01T00:00:03\.000Z +19\.56\n {2}2 +ingest +active +16384 +4 +65545 +5 /,
    );
    expect(r.stdout).toMatch(/\n {2}2 +compacted +sealed +272 +1 +2 +1 +1969-12-31T00:00:00\.000Z +1969-12-31T23:59:59\.999Z +56\.00\n/);
    expect(r.stdout).toContain('total: 5 shard(s), 15 segment(s), 39288 bytes, 22 block(s), 136294 point(s), 33 series, 1969-12-31T00:00:00.000Z .. 1970-01-04T00:00:00.003Z, 0.05 bytes/point');
    expect(r.stdout).toContain('verify: 22 block(s) read and checksummed, no damage');
    expect(snapshot(data)).toEqual(before);
  });

  it('--verify exits 1 and names shard, file and offset once a byte inside a block flips', () => {
    const data = copyFixture();
    // Sealed segment 0/1: blocks at 64 (400 bytes) and 464 (docs/format/segment.md, worked
    // example). A payload byte of the second block.
    flipByte(path.join(data, 'shards/0/0000000000000001.seg'), 464 + 72 + 5);
    const before = snapshot(data);
    const r = strata(['inspect', '--data-dir', data, '--verify']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('DAMAGE: shard 0 shards/0/0000000000000001.seg offset 464: block: block CRC mismatch\n');
    expect(r.stdout).toContain('verify: 22 block(s) read; 1 damaged place(s)');
    expect(snapshot(data)).toEqual(before);
  });
});

describe('usage', () => {
  it('bad arguments: a clear message, the usage line, exit 2; --help: exit 0', () => {
    const bad = strata(['export', '--data-dir', tempDir(), '--metric', 'm', '--format', 'csv']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe(
      'strata: --format must be kairosdb or opentsdb, got "csv"\n' +
        'Usage: strata export --metric NAME [--tag KEY=VALUE …] [--start TIME] [--end TIME] [--format kairosdb|opentsdb] [--out FILE] [--data-dir DIR]\n' +
        'Run strata export --help for details.\n',
    );
    const help = strata(['import', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: strata import \[FILE\|-\]/);
  });
});
