// The data tools' many smaller cases, run in-process through runTool (what main.ts calls for
// `strata inspect|export|import`): the same argument parsing, files, engine, decoders and exit
// codes as the spawned CLI in tools.test.ts, without a process start per case.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import * as zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ShardWriter, shardDirectory } from '../../engine/index.js';
import { floatLiteral, openTsdbTimestamp } from '../../src/cli/tools/export.js';
import { tempDir } from '../helpers/tmp.js';
import { KAIROS_INPUT, OPENTSDB_INPUT, copyFixture, flipByte, snapshot, strataInProcess as run } from './tools-helpers.js';

describe('import → export', () => {
  it('KairosDB JSON from a gzip file round trips; --out writes a file', async () => {
    const dir = tempDir();
    const gz = path.join(dir, 'in.json.gz');
    fs.writeFileSync(gz, zlib.gzipSync(KAIROS_INPUT));
    const data = path.join(dir, 'data');
    expect((await run(['import', '--data-dir', data, gz])).code).toBe(0);
    const out = path.join(dir, 'out.json');
    const r = await run(['export', '--data-dir', data, '--metric', 'rt.cpu', '--out', out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`strata: exported 15 point(s) of 3 series to ${out}\n`);
    expect(fs.readFileSync(out, 'utf8')).toBe(KAIROS_INPUT);
  });

  it('OpenTSDB lines from gzip on stdin round trip (format from the first byte)', async () => {
    const data = path.join(tempDir(), 'data');
    const imported = await run(['import', '--data-dir', data], zlib.gzipSync(OPENTSDB_INPUT));
    expect(imported.stderr).toContain('imported 7 point(s) (opentsdb)');
    expect((await run(['export', '--data-dir', data, '--metric', 'rt.cpu', '--format', 'opentsdb'])).stdout).toBe(OPENTSDB_INPUT);
  });

  it('KairosDB → OpenTSDB lines: strings and times OpenTSDB cannot read are left out and counted; the lines import back', async () => {
    const dir = tempDir();
    const data = path.join(dir, 'data');
    expect((await run(['import', '--data-dir', data, '-'], KAIROS_INPUT)).code).toBe(0);
    const r = await run(['export', '--data-dir', data, '--metric', 'rt.cpu', '--format', 'opentsdb']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(
      'strata: exported 10 point(s) of 3 series; left out 3 string/JSON point(s) (OpenTSDB lines carry numbers only), ' +
        '2 point(s) with timestamps OpenTSDB cannot read (≤ 0, or milliseconds before 1970-02-19T17:02:47.296Z)\n',
    );
    expect(r.stdout).toBe(
      [
        'rt.cpu 1700000000 1 dc=eu host=a',
        'rt.cpu 1700000001 2.5 dc=eu host=a',
        'rt.cpu 1700000002 -0.0 dc=eu host=a',
        'rt.cpu 1700000003 9223372036854775807 dc=eu host=a',
        'rt.cpu 1700000004 -9223372036854775808 dc=eu host=a',
        'rt.cpu 1700000005 2.0 dc=eu host=a',
        'rt.cpu 1700000006 1e+300 dc=eu host=a',
        'rt.cpu 1700000007 0.1 dc=eu host=a',
        'rt.cpu 1700000000123 5e-324 host=b',
        'rt.cpu 1700000000 42 host=c',
        '',
      ].join('\n'),
    );
    const again = path.join(dir, 'again');
    expect((await run(['import', '--data-dir', again, '--format', 'opentsdb'], r.stdout)).code).toBe(0);
    expect((await run(['export', '--data-dir', again, '--metric', 'rt.cpu', '--format', 'opentsdb'])).stdout).toBe(r.stdout);
  });

  it('number and timestamp forms', () => {
    expect([2, -0, 0, 0.1, 1e21, 1e-7, -2.5].map(floatLiteral)).toEqual(['2.0', '-0.0', '0.0', '0.1', '1e+21', '1e-7', '-2.5']);
    expect([0, -1000, 1000, 1500, 4294967295000, 4294967296000, 4294967295, 4294967296, 9999999999999, 10000000000000].map(openTsdbTimestamp)).toEqual([
      undefined,
      undefined,
      '1',
      undefined,
      '4294967295',
      '4294967296000',
      undefined,
      '4294967296',
      '9999999999999',
      undefined,
    ]);
  });
});

describe('export selection', () => {
  it('by tags (a key given twice matches either value) and an inclusive time range in ms or ISO 8601', async () => {
    const data = path.join(tempDir(), 'data');
    const input = [
      'sel.m 1700000000 1 host=a dc=eu',
      'sel.m 1700000060 2 host=a dc=eu',
      'sel.m 1700000120 3 host=a dc=eu',
      'sel.m 1700000060 20 host=b dc=eu',
      'sel.m 1700000060 200 host=c dc=us',
      'other 1700000060 9 host=a dc=eu',
      '',
    ].join('\n');
    expect((await run(['import', '--data-dir', data, '-'], input)).code).toBe(0);
    const byHost = await run(['export', '--data-dir', data, '--metric', 'sel.m', '--tag', 'host=a', '--format', 'opentsdb']);
    expect(byHost.stdout).toBe('sel.m 1700000000 1 dc=eu host=a\nsel.m 1700000060 2 dc=eu host=a\nsel.m 1700000120 3 dc=eu host=a\n');
    const range = await run(['export', '--data-dir', data, '--metric', 'sel.m', '--start', '2023-11-14T22:13:21Z', '--end', '1700000060000', '--format', 'opentsdb']);
    expect(range.code).toBe(0);
    expect(range.stdout).toBe('sel.m 1700000060 2 dc=eu host=a\nsel.m 1700000060 20 dc=eu host=b\nsel.m 1700000060 200 dc=us host=c\n');
    const either = await run(['export', '--data-dir', data, '--metric', 'sel.m', '--tag', 'host=b', '--tag', 'host=c', '--start', '1700000060000', '--end', '1700000060000']);
    expect(JSON.parse(either.stdout)).toEqual([
      { name: 'sel.m', tags: { dc: 'eu', host: 'b' }, datapoints: [[1700000060000, 20]] },
      { name: 'sel.m', tags: { dc: 'us', host: 'c' }, datapoints: [[1700000060000, 200]] },
    ]);
    const both = await run(['export', '--data-dir', data, '--metric', 'sel.m', '--tag', 'host=a', '--tag', 'dc=us']);
    expect(both.stdout).toBe('[]\n');
    const none = await run(['export', '--data-dir', data, '--metric', 'nothing']);
    expect(none.code).toBe(0);
    expect(none.stdout).toBe('[]\n');
    expect(none.stderr).toBe('strata: exported 0 point(s) of 0 series\n');
  });

  it('exports every series of a metric with more series than one scan takes, in order', async () => {
    const data = path.join(tempDir(), 'data');
    const lines: string[] = [];
    for (let h = 0; h < 300; h++) {
      const host = `h${String(h).padStart(3, '0')}`;
      for (let i = 0; i < 3; i++) lines.push(`many.m ${1700000000 + i} ${h * 10 + i} host=${host}`);
    }
    const input = `${lines.join('\n')}\n`;
    expect((await run(['import', '--data-dir', data, '-'], input)).code).toBe(0);
    const r = await run(['export', '--data-dir', data, '--metric', 'many.m', '--format', 'opentsdb']);
    expect(r.stderr).toBe('strata: exported 900 point(s) of 300 series\n');
    expect(r.stdout).toBe(input);
  });

  it('refuses a directory without shards/ and creates nothing there', async () => {
    const dir = tempDir();
    const r = await run(['export', '--data-dir', path.join(dir, 'none'), '--metric', 'm']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^strata: no data directory at .*none/);
    expect(fs.readdirSync(dir)).toEqual([]);
  });
});

describe('inspect', () => {
  it('--json: every segment of the v1 fixture with its figures, and totals', async () => {
    const data = copyFixture();
    const before = snapshot(data);
    const r = await run(['inspect', '--data-dir', data, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { verified: boolean; shards: { shard: number; writerPid: number | null; quarantined: number; tmpFiles: number; segments: Record<string, unknown>[] }[]; totals: Record<string, unknown>; damage: unknown[]; warnings: unknown[] };
    expect(report.verified).toBe(false);
    expect(report.shards.map((s) => [s.shard, s.segments.length, s.writerPid, s.quarantined, s.tmpFiles])).toEqual([
      [0, 2, null, 0, 0],
      [1, 3, null, 0, 0],
      [2, 4, null, 0, 0],
      [3, 3, null, 0, 0],
      [4, 3, null, 0, 0],
    ]);
    expect(report.shards[0]!.segments).toEqual([
      { shard: 0, file: 'shards/0/0000000000000001.seg', sequence: 1, kind: 'ingest', state: 'sealed', fileBytes: 768, blocks: 2, points: 27, series: 7, blockBytes: 528, bytesPerPoint: 528 / 27, minTimestampMs: -2000, maxTimestampMs: 3000 },
      expect.objectContaining({ sequence: 2, kind: 'ingest', state: 'active', fileBytes: 16384, blocks: 4, points: 65545, series: 5 }),
    ]);
    expect(report.shards[1]!.segments[0]).toMatchObject({ sequence: 2, kind: 'compacted', state: 'sealed', points: 2, compaction: { outputIndex: 0, outputCount: 3, sourceSequences: [1] } });
    expect(report.totals).toMatchObject({ shards: 5, segments: 15, blocks: 22, points: 136294, series: 33, fileBytes: 39288, blocksVerified: 0 });
    expect(report.damage).toEqual([]);
    expect(report.warnings).toEqual([]);
    expect(snapshot(data)).toEqual(before);
  });

  it('a damaged sealed block is found only by --verify (a read of the block)', async () => {
    const data = copyFixture();
    flipByte(path.join(data, 'shards/0/0000000000000001.seg'), 64 + 72 + 10);
    expect((await run(['inspect', '--data-dir', data])).code).toBe(0);
    const r = await run(['inspect', '--data-dir', data, '--verify', '--json']);
    expect(r.code).toBe(1);
    expect((JSON.parse(r.stdout) as { damage: unknown[] }).damage).toEqual([{ shard: 0, file: 'shards/0/0000000000000001.seg', offset: 64, problem: 'block: block CRC mismatch' }]);
  });

  it('finds a damaged block of an active segment (good blocks after it), a damaged footer, a damaged trailer and header', async () => {
    const data = copyFixture();
    flipByte(path.join(data, 'shards/0/0000000000000002.seg'), 64 + 72 + 3);
    // Compacted 1/3 (504 bytes): the trailer is its last 16 bytes; flip its CRC.
    flipByte(path.join(data, 'shards/1/0000000000000003.seg'), 504 - 2);
    // Sealed ingest 4/3: the trailer names the footer; flip a byte of the footer's payload.
    const seg = path.join(data, 'shards/4/0000000000000003.seg');
    const bytes = fs.readFileSync(seg);
    const footerOffset = bytes.readUInt32LE(bytes.length - 12);
    flipByte(seg, footerOffset + 30);
    // Compacted 2/4: its header CRC.
    flipByte(path.join(data, 'shards/2/0000000000000004.seg'), 61);
    const before = snapshot(data);
    const r = await run(['inspect', '--data-dir', data]);
    expect(r.code).toBe(1);
    const lines = r.stdout.split('\n').filter((l) => l.startsWith('DAMAGE'));
    expect(lines).toEqual([
      expect.stringMatching(/^DAMAGE: shard 0 shards\/0\/0000000000000002\.seg offset 64: block: block CRC mismatch \(whole blocks follow at offset \d+: damaged in place\)$/),
      'DAMAGE: shard 1 shards/1/0000000000000003.seg offset 488: trailer does not check out: the segment was sealed, its footer is not reachable',
      'DAMAGE: shard 2 shards/2/0000000000000004.seg offset 0: segment header: segment header CRC mismatch (the writer moves this file to quarantine when it opens the shard)',
      `DAMAGE: shard 4 shards/4/0000000000000003.seg offset ${footerOffset}: footer: footer CRC mismatch (blocks were walked instead)`,
    ]);
    expect(r.stdout).toContain('4 damaged place(s) found without reading every block; run with --verify for a full check');
    expect(snapshot(data)).toEqual(before);
  });

  it('a torn tail of the active segment is a warning, not damage', async () => {
    const data = copyFixture();
    // The active segment 4/4: corrupt its last block (the walk finds nothing whole after it).
    const seg = path.join(data, 'shards/4/0000000000000004.seg');
    const r0 = JSON.parse((await run(['inspect', '--data-dir', data, '--json'])).stdout) as { shards: { segments: { blockBytes: number }[] }[] };
    const end = 64 + r0.shards[4]!.segments[2]!.blockBytes;
    // Find the last block's offset by walking block headers (blockBytes at +8).
    const bytes = fs.readFileSync(seg);
    let offset = 64;
    let last = 64;
    while (offset < end) {
      last = offset;
      offset += bytes.readUInt32LE(offset + 8);
    }
    flipByte(seg, last + 72 + 1);
    const r = await run(['inspect', '--data-dir', data, '--verify']);
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toContain(`warning: shards/4/0000000000000004.seg: torn tail at offset ${last}: block CRC mismatch`);
  });

  it('a seal cut short (footer written, file not yet cut) is a warning, not damage', async () => {
    const data = copyFixture();
    // Sealed 0/1 is 768 bytes of its 16 384-byte capacity, its footer at 592: grow it back to the
    // capacity with zeros, as it was before the seal's ftruncate.
    fs.truncateSync(path.join(data, 'shards/0/0000000000000001.seg'), 16384);
    const r = await run(['inspect', '--data-dir', data, '--verify']);
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toContain('warning: shards/0/0000000000000001.seg: a footer at offset 592 but no trailer at the end: a seal cut short');
    expect(r.stdout).toMatch(/\n {2}1 +ingest +unsealed +16384 +2 +27 +7 /);
  });

  it('refuses a directory without shards/ (exit 1)', async () => {
    const r = await run(['inspect', '--data-dir', path.join(tempDir(), 'nope')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^strata: no data directory at /);
  });
});

describe('import', () => {
  it('OpenTSDB: stores the good lines, lists rejected ones with their line numbers and the server\'s replies, exits 1', async () => {
    const data = path.join(tempDir(), 'data');
    const input = ['rej.m 1700000000 1 host=a', 'rej.m 1700000001 x host=a', '', 'rej.m 1700000002 3', 'rej.m 1700000003 4 host=a'].join('\r\n');
    const r = await run(['import', '--data-dir', data, '-'], input);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('imported 2 point(s) (opentsdb)');
    expect(r.stderr).toContain('strata: rejected 2 line(s); the first:\n  line 2: put: invalid value: Invalid character \'x\' in x\n  line 4: put: illegal argument: not enough arguments (need least 4, got 3)\n');
    expect((await run(['export', '--data-dir', data, '--metric', 'rej.m', '--format', 'opentsdb'])).stdout).toBe('rej.m 1700000000 1 host=a\nrej.m 1700000003 4 host=a\n');
  });

  it('KairosDB: the decoder\'s own messages; a syntax error keeps the objects before it', async () => {
    const data = path.join(tempDir(), 'data');
    const r = await run(['import', '--data-dir', data, '-'], '[{"name":"k","tags":{"h":"a"},"datapoints":[[1,1],[2,"abc","long"]]},{"name":"","tags":{"h":"a"},"datapoints":[[1,1]]},{"name":"k2","tags":{"h":"a"},"datapoints":[[1,');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('imported 1 point(s) (kairosdb)');
    expect(r.stderr).toContain('metric[0](name=k).datapoints[1].value is not a valid long.');
    expect(r.stderr).toContain('metric[1].name may not be empty.');
  });

  it('takes a free existing shard when another writer holds the lower ones; refuses when it holds all', async () => {
    const data = path.join(tempDir(), 'data');
    const held = ShardWriter.open({ dir: shardDirectory(data, 0), shardId: 0, segmentBytes: 65536 });
    try {
      ShardWriter.open({ dir: shardDirectory(data, 1), shardId: 1, segmentBytes: 65536 }).close();
      const r = await run(['import', '--data-dir', data, '-'], 'free.m 1700000000 1 host=a\n');
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain('into shard 1 of');
      const held1 = ShardWriter.open({ dir: shardDirectory(data, 1), shardId: 1, segmentBytes: 65536 });
      try {
        const refused = await run(['import', '--data-dir', data, '-'], 'free.m 1700000001 1 host=a\n');
        expect(refused.code).toBe(1);
        expect(refused.stderr).toContain(`strata: every shard of ${data} is held by a running writer`);
      } finally {
        held1.close();
      }
    } finally {
      held.close();
    }
  });

  it('--progress prints points so far and points/s once a second while the input is slow', async () => {
    const data = path.join(tempDir(), 'data');
    const stdin = new PassThrough();
    stdin.write('prog.m 1700000000 1 host=a\n');
    setTimeout(() => stdin.end('prog.m 1700000001 2 host=a\n'), 1500);
    const r = await run(['import', '--data-dir', data, '--progress', '-'], stdin);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^strata: \d+ points imported, \d+ points\/s\nstrata: imported 2 point\(s\) \(opentsdb\)/);
    const quiet = await run(['import', '--data-dir', data, '-'], 'prog.m 1700000002 3 host=a\n');
    expect(quiet.stderr).not.toContain('points imported,');
  });

  it('refuses input that starts as gzip but is not', async () => {
    const data = path.join(tempDir(), 'data');
    const r = await run(['import', '--data-dir', data, '-'], Buffer.from([0x1f, 0x8b, 0x00, 0x01, 0x02]));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^strata: the input is not valid gzip: /);
  });

  it('a missing input file fails (exit 1) naming it, before any shard is claimed', async () => {
    const data = path.join(tempDir(), 'data');
    const r = await run(['import', '--data-dir', data, path.join(data, 'missing.json')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^strata: ENOENT.*missing\.json/);
    expect(fs.existsSync(data)).toBe(false);
  });
});

describe('usage', () => {
  it('--help of each tool: usage, options, exit status; exit 0', async () => {
    for (const tool of ['inspect', 'export', 'import']) {
      const r = await run([tool, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^Usage: strata ${tool} `));
      expect(r.stdout).toContain('--data-dir DIR');
      expect(r.stdout).toContain('Exit status:');
    }
  });

  it('bad arguments: a clear message, the usage line, exit 2', async () => {
    const data = tempDir();
    const cases: [string[], string][] = [
      [['export', '--data-dir', data], '--metric NAME is required'],
      [['export', '--data-dir', data, '--metric', 'm', '--format', 'csv'], '--format must be kairosdb or opentsdb, got "csv"'],
      [['export', '--data-dir', data, '--metric', 'm', '--start', 'yesterday'], '--start must be milliseconds since the epoch or an ISO 8601 time'],
      [['export', '--data-dir', data, '--metric', 'm', '--start', '10', '--end', '5'], '--end is before --start'],
      [['export', '--data-dir', data, '--metric', 'm', '--tag', 'host'], '--tag must be KEY=VALUE, got "host"'],
      [['export', '--data-dir', data, '--metric'], "Option '--metric <value>' argument missing"],
      [['inspect', '--data-dir', data, '--bogus'], "Unknown option '--bogus'"],
      [['inspect', '--data-dir', data, 'extra'], 'unexpected argument "extra"'],
      [['import', '--data-dir', data, 'a', 'b'], 'unexpected argument "b"'],
      [['import', '--data-dir', data, '--format', 'xml'], '--format must be kairosdb or opentsdb, got "xml"'],
      [['import', '--data-dir', data, '--segment-bytes', 'big'], '--segment-bytes: segment-bytes must be a non-negative integer, got "big"'],
    ];
    for (const [args, message] of cases) {
      const r = await run(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toContain(`strata: ${message}`);
      expect(r.stderr).toContain(`\nUsage: strata ${args[0]} `);
      expect(r.stderr).toContain(`Run strata ${args[0]} --help for details.`);
    }
  });
});
