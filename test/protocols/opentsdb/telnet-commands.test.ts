// OpenTSDB's telnet commands (protocols.md §2.6) registered on the line-protocol decoder: its own
// `put` (PutDataPointRpc, replacing the KairosDB built-in) and `rollup` (RollupDataPointRpc) — the
// words, the stored identity, and the error replies word for word.
import { describe, expect, it } from 'vitest';
import { BatchBuilder } from '../../../src/protocols/batch-builder.js';
import type { TelnetDecodeResult } from '../../../src/protocols/kairosdb/telnet.js';
import { OpenTsdbPointWriter } from '../../../src/protocols/opentsdb/datapoint.js';
import { strataBuildInfo } from '../../../src/protocols/opentsdb/discovery.js';
import { createLinePortDecoder, openTsdbVersionLines, putCommand, registerOpenTsdbTelnetCommands } from '../../../src/protocols/opentsdb/telnet-commands.js';
import { collect, enc, type StoredPoint } from './helpers.js';

const BUILD = strataBuildInfo('1.2.3');
const VERSION_LINES = 'net.opentsdb.tools 1.2.3 built at revision  (UNKNOWN)\nBuilt on 1970/01/01 00:00:00 +0000 by @:';

function setup(options: Parameters<typeof registerOpenTsdbTelnetCommands>[1] = {}): { points: StoredPoint[]; run: (text: string) => TelnetDecodeResult } {
  const points: StoredPoint[] = [];
  const decoder = createLinePortDecoder(collect(points), { ...options, build: BUILD });
  return { points, run: (text) => decoder.decode(enc.encode(text)) };
}

describe('telnet rollup', () => {
  it('stores rollups, rolled-up pre-aggregates and pre-aggregates without replying', () => {
    const { points, run } = setup();
    const r = run(
      [
        'rollup 1h-sum sys.cpu 1365465600 42 host=a',
        'rollup 1h-SUM:max sys.cpu 1365465600 4.5 host=a',
        'rollup sum sys.cpu 1365465600 7 host=a dc=x',
        'rollup 1m-count sys.cpu 1365465600 3 host=a host=a',
        '',
      ].join('\r\n'),
    );
    expect(r).toMatchObject({ replies: '', points: 4, close: false });
    expect(points).toEqual([
      { series: 'sys.cpu{host=a,strata:rollup=1h:sum}', t: 1365465600000, kind: 'i', value: 42n },
      { series: 'sys.cpu{_aggregate=MAX,host=a,strata:rollup=1h:sum}', t: 1365465600000, kind: 'f', value: 4.5 },
      { series: 'sys.cpu{_aggregate=SUM,dc=x,host=a,strata:rollup=preagg}', t: 1365465600000, kind: 'i', value: 7n },
      { series: 'sys.cpu{host=a,strata:rollup=1m:count}', t: 1365465600000, kind: 'i', value: 3n },
    ]);
  });

  it('error replies, word for word', () => {
    const { points, run } = setup();
    const lines: [string, string][] = [
      ['rollup 1h-sum m 1', 'rollup: illegal argument: not enough arguments (need least 7, got 3)'],
      ['rollup 1h-sum m 1 1', 'rollup: illegal argument: not enough arguments (need least 7, got 4)'],
      ['rollup 1h-sum m -5 1 host=a', 'rollup: illegal argument: invalid timestamp: -5'],
      ['rollup 1h-sum m 12x 1 host=a', "rollup: invalid value: Invalid character 'x' in 12x"],
      ['rollup 1h-sum m 1365465600.5 1 host=a', 'rollup: illegal argument: bad timestamp=13654656005 when trying to add value=[1]/0 to metric=m, tags={host=a}'],
      ['rollup 1h-sum m 1 1 host', 'rollup: illegal argument: invalid tag: host'],
      ['rollup 1h-sum m 1 1 host=a=b', 'rollup: illegal argument: invalid tag: host=a=b'],
      ['rollup 1h-sum m 1 1 host=a host=b', 'rollup: illegal argument: duplicate tag: host=b, tags={host=a}'],
      ['rollup 1h-sum m 1 abc host=a', "rollup: invalid value: Invalid character 'a' in abc"],
      ['rollup 1h-sum m 1 1.2.3 host=a', 'rollup: invalid value: multiple points'],
      ['rollup 1h-sum m 1 1.5x host=a', 'rollup: invalid value: For input string: "1.5x"'],
      ['rollup 1h-sum m 1 1e999 host=a', 'rollup: illegal argument: value is NaN or Infinite: Infinity for metric=m timestamp=1'],
      ['rollup 1x-sum m 1 1 host=a', 'rollup: No such rollup: No rollups configured for the interval: 1x'],
      ['rollup -sum m 1 1 host=a', 'rollup: HBase error: Interval cannot be null for a non-group by point'],
      ['rollup 1h- m 1 1 host=a', 'rollup: illegal argument: Aggregator cannot be null or empty'],
      ['rollup 1h-avg m 1 1 host=a', 'rollup: illegal argument: Derived rollup aggregations are not allowed AVG with metric m {host=a}'],
      ['rollup foo:bar m 1 1 host=a', 'rollup: illegal argument: Invalid group by aggregator bar with metric m {_aggregate=BAR, host=a}'],
      ['rollup dev m 1 1 host=a', 'rollup: illegal argument: Derived group by aggregations are not allowed dev with metric m {_aggregate=DEV, host=a}'],
      ['rollup 1h-sum m# 1 1 host=a', 'rollup: illegal argument: Invalid metric name ("m#"): illegal character: #'],
      ['rollup 1h-sum m 1 1 strata:rollup=x', 'rollup: illegal argument: Invalid tag name ("strata:rollup"): illegal character: :'],
    ];
    const r = run(lines.map((l) => `${l[0]}\n`).join(''));
    expect(r.replies).toBe(lines.map((l) => `${l[1]}\n`).join(''));
    expect(r.points).toBe(0);
    expect(points).toEqual([]);
  });

  it('honours maxTags, rollupIntervals and blockDerivedRollups', () => {
    const { points, run } = setup({ maxTags: 1, rollupIntervals: ['1m'], blockDerivedRollups: false });
    expect(run('rollup 1h-sum m 1 1 host=a\n').replies).toBe('rollup: No such rollup: No rollups configured for the interval: 1h\n');
    expect(run('rollup 1m-sum m 1 1 host=a dc=b\n').replies).toBe('rollup: illegal argument: Too many tags: 2 maximum allowed: 1, tags: {host=a, dc=b}\n');
    expect(run('rollup 1m-avg m 1 1 host=a\n')).toMatchObject({ replies: '', points: 1 });
    expect(points.map((p) => p.series)).toEqual(['m{host=a,strata:rollup=1m:avg}']);
  });

  it('lives beside put, version and help', () => {
    const { points, run } = setup();
    const r = run('put m 1 1 host=a\nrollup 1h-sum m 1 1 host=a\nversion\nhelp\n');
    expect(points.map((p) => p.series)).toEqual(['m{host=a}', 'm{host=a,strata:rollup=1h:sum}']);
    expect(r.replies).toBe(`${VERSION_LINES}\navailable commands: put putm puts version exit help rollup \n`);
  });
});

describe("OpenTSDB's own put on the line decoder", () => {
  it('stores as OpenTSDB does and answers its errors; putm and puts keep KairosDB\'s rules', () => {
    const { points, run } = setup();
    const lines: [string, string][] = [
      ['put m 1364410924 1', 'put: illegal argument: not enough arguments (need least 4, got 3)'],
      ['put', 'put: illegal argument: not enough arguments (need least 4, got 0)'],
      ['put m 1364410924 1 host', 'put: illegal argument: invalid tag: host'],
      ['put m 1364410924 1 host=a=b', 'put: illegal argument: invalid tag: host=a=b'],
      ['put m 1364410924 1 host=a=', 'put: illegal argument: invalid tag: host=a='],
      ['put m 1364410924 1 host=a host=b', 'put: illegal argument: duplicate tag: host=b, tags={host=a}'],
      ['put m 1364410924 1 a=1 b=1 c=1 d=1 e=1 f=1 g=1 h=1 i=1', 'put: illegal argument: Too many tags: 9 maximum allowed: 8, tags: {a=1, b=1, c=1, d=1, e=1, f=1, g=1, h=1, i=1}'],
      ['put m#1 1364410924 1 host=a', 'put: illegal argument: Invalid metric name ("m#1"): illegal character: #'],
      ['put m 1364410924 1 host=web#1', 'put: illegal argument: Invalid tag value ("web#1"): illegal character: #'],
      ['put m -5 1 host=a', 'put: illegal argument: invalid timestamp: -5'],
      ['put m 1364410924 notanum host=a', "put: invalid value: Invalid character 'n' in notanum"],
      ['put m 1364410924 1 strata:rollup=1h:sum', 'put: illegal argument: Invalid tag name ("strata:rollup"): illegal character: :'],
      ['bogus', "unknown command: bogus.  Try `help'."],
    ];
    const r = run(lines.map((l) => `${l[0]}\n`).join(''));
    expect(r.replies).toBe(lines.map((l) => `${l[1]}\n`).join(''));
    expect(points).toEqual([]);
    const ok = run('put sys.cpu 1364410924 42 host=a\r\nput sys.cpu 1364410924.250 1.5f host=a kairos_opt.ttl=30\nputm sys.cpu 1364410924000 7\nputs sys.state 1364410924000 up host=a\n');
    expect(ok).toMatchObject({ replies: '', points: 4 });
    expect(points).toEqual([
      { series: 'sys.cpu{host=a}', t: 1364410924000, kind: 'i', value: 42n },
      { series: 'sys.cpu{host=a,kairos_opt.ttl=30}', t: 1364410924250, kind: 'f', value: 1.5 },
      { series: 'sys.cpu{add=tag}', t: 1364410924000, kind: 'i', value: 7n },
      { series: 'sys.state{host=a}', t: 1364410924000, kind: 's', value: 'up' },
    ]);
  });

  it('honours maxTags and allowSpecialChars', () => {
    const { points, run } = setup({ maxTags: 1, allowSpecialChars: '#' });
    expect(run('put m 1 1 host=a dc=b\n').replies).toBe('put: illegal argument: Too many tags: 2 maximum allowed: 1, tags: {host=a, dc=b}\n');
    expect(run('put m#1 1 1 host=web#1\n')).toMatchObject({ replies: '', points: 1 });
    expect(points.map((p) => p.series)).toEqual(['m#1{host=web#1}']);
  });

  it('refuses a maxTags that is not an integer of at least 1', () => {
    for (const maxTags of [0, -1, 1.5, Number.NaN]) expect(() => setup({ maxTags })).toThrow(RangeError);
  });

  it("answers tcollector's keepalive with OpenTSDB's two version lines, rendered from the /api/version record", () => {
    const { run } = setup();
    expect(run('version\n').replies).toBe(`${VERSION_LINES}\n`);
    // BuildData.revisionString and buildString over a full record.
    const full = { version: '2.4.0', short_revision: '0f681b7', full_revision: '0f681b7e', timestamp: '1567454236', repo_status: 'MINT', user: 'u', host: 'h', repo: '/r', branch: 'b' };
    expect(openTsdbVersionLines(full)).toBe('net.opentsdb.tools 2.4.0 built at revision 0f681b7 (MINT)\nBuilt on 2019/09/02 19:57:16 +0000 by u@h:/r');
  });
});

describe('the line port decoder under backpressure', () => {
  it('refuses put, rollup, putm and puts with the throttle line and answers version and help', () => {
    const { points, run } = setup();
    const decoder = createLinePortDecoder(collect(points), { build: BUILD });
    const throttle = 'Please throttle writes: Too many requests queued; retry later';
    const r = decoder.refuse(enc.encode('put m 1 1 host=a\nrollup 1h-sum m 1 1 host=a\nputm m 1 1 a=b\nputs m 1 x a=b\nversion\n'), throttle);
    expect(r.replies).toBe(`put: ${throttle}\nrollup: ${throttle}\nputm: ${throttle}\nputs: ${throttle}\n${VERSION_LINES}\n`);
    expect(r.points).toBe(0);
    expect(points).toEqual([]);
    expect(run('put m 1 1 host=a\n').points).toBe(1);
  });
});

describe("the line port's put fast path", () => {
  // The decoder stores common put lines straight from bytes; everything else goes through
  // putCommand. Either way the replies and stored points must be putCommand's own.
  const metrics = ['sys.cpu.user', 'm', 'a-b_c/d.e', 'm#', 'métrique', 'strata:rollup', 'x'.repeat(40)];
  const timestamps = ['1364410924', '0001364410924', '1364410924250', '4294967295', '4294967296', '9999999999999', '10000000000000', '0', '-5', '1364410924.250', '12x', '+7', '99999999999999999999'];
  const values = ['42', '-0', '007', '1.5', '1.', '-.5', '.', '-', '1e5', '1.5f', '+1', '123456789012345', '1234567890123456', '9'.repeat(400) + '.0', 'NaN', 'abc', '0.1', '-0.0', '1.2.3'];
  const tags = ['host=web01', 'dc=lga', 'host=web02', 'host', '=x', 'x=', 'a=b=c', 'k:x=1', 'strata:rollup=1h:sum', 'hôte=a', 'cpu=0', 'rack=r1', 'os=linux', 't1=1', 't2=2', 't3=3', 't4=4', 't5=5', 't6=6'];
  function randomLines(n: number, seed: number): string[] {
    let x = seed;
    const rnd = (k: number): number => {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      return (x >>> 8) % k;
    };
    const pick = <T,>(a: readonly T[]): T => a[rnd(a.length)]!;
    const lines: string[] = [];
    for (let i = 0; i < n; i++) {
      const common = rnd(3) > 0; // most lines are the ordinary kind
      const words = ['put', common ? pick(metrics.slice(0, 3)) : pick(metrics), common ? pick(timestamps.slice(0, 3)) : pick(timestamps), common ? pick(values.slice(0, 6)) : pick(values)];
      const tagCount = common ? 1 + rnd(8) : rnd(11);
      for (let t = 0; t < tagCount; t++) words.push(common ? `k${t}=${pick(['a', 'b', 'web01'])}` : pick(tags));
      lines.push(words.join(rnd(5) === 0 ? '  ' : ' '));
    }
    return lines;
  }

  it('replies and stores exactly what putCommand does, line by line, with maxTags 8 and 3', () => {
    for (const maxTags of [8, 3]) {
      const lines = randomLines(3000, maxTags);
      const fastPoints: StoredPoint[] = [];
      const decoder = createLinePortDecoder(collect(fastPoints), { build: BUILD, maxTags });
      const slowPoints: StoredPoint[] = [];
      const builder = new BatchBuilder(collect(slowPoints));
      const writer = new OpenTsdbPointWriter(builder, { maxTags });
      let fastReplies = '';
      let slowReplies = '';
      for (const line of lines) {
        fastReplies += decoder.decode(enc.encode(`${line}\n`)).replies;
        const reply = putCommand(line.split(/[\x00-\x20]+/).filter((w) => w.length > 0), writer);
        if (reply !== null) slowReplies += `${reply}\n`;
        builder.flush();
      }
      expect(fastReplies).toBe(slowReplies);
      expect(fastPoints).toEqual(slowPoints);
      expect(fastPoints.length).toBeGreaterThan(500);
      expect(fastReplies.length).toBeGreaterThan(0);
    }
  });

  it('keeps -0 an integer 0 and stores 15-digit integers exactly', () => {
    const { points, run } = setup();
    expect(run('put m 1 -0 host=a\nput m 2 -123456789012345 host=a\nput m 3 -0.0 host=a\n')).toMatchObject({ replies: '', points: 3 });
    expect(points).toEqual([
      { series: 'm{host=a}', t: 1000, kind: 'i', value: 0n },
      { series: 'm{host=a}', t: 2000, kind: 'i', value: -123456789012345n },
      { series: 'm{host=a}', t: 3000, kind: 'f', value: -0 },
    ]);
  });
});

describe('putCommand (PutDataPointRpc) on words', () => {
  it('replies as PutDataPointRpc does', () => {
    const points: StoredPoint[] = [];
    const builder = new BatchBuilder(collect(points));
    const writer = new OpenTsdbPointWriter(builder);
    const run = (line: string): string | null => putCommand(line.split(' '), writer);
    expect(run('put m 1 1')).toBe('put: illegal argument: not enough arguments (need least 4, got 3)');
    expect(run('put m 1 1 ')).toBe('put: illegal argument: Need at least one tag (metric=m, tags={})');
    expect(run('put  m 1 1 host=a')).toBe('put: illegal argument: empty metric name');
    expect(run('put m  1 1 host=a')).toBe('put: invalid value: Empty string');
    expect(run('put m 1  1 host=a')).toBe('put: illegal argument: empty value');
    expect(run('put m 0 1 host=a')).toBe('put: illegal argument: invalid timestamp: 0');
    expect(run('put m 10000000000000 1 host=a')).toBe('put: illegal argument: bad timestamp=10000000000000 when trying to add value=[1]/0 to metric=m, tags={host=a}');
    expect(run('put m 1 1 host')).toBe('put: illegal argument: invalid tag: host');
    expect(run('put m 1 1 dc=x host=a host=b')).toBe('put: illegal argument: duplicate tag: host=b, tags={host=a, dc=x}');
    expect(run('put m 1 1.2.3 host=a')).toBe('put: invalid value: multiple points');
    expect(run('put m 1 1e999 host=a')).toBe('put: illegal argument: value is NaN or Infinite: Infinity for metric=m timestamp=1');
    expect(run('put m# 1 1 host=a')).toBe('put: illegal argument: Invalid metric name ("m#"): illegal character: #');
    expect(run('put m 1 1 a=1 b=1 c=1 d=1 e=1 f=1 g=1 h=1 i=1')).toMatch(/^put: illegal argument: Too many tags: 9 maximum allowed: 8, tags: \{/);
    expect(run('put m 1364410924.250 1.5f host=a  ')).toBeNull();
    builder.flush();
    expect(points).toEqual([{ series: 'm{host=a}', t: 1364410924250, kind: 'f', value: 1.5 }]);
  });
});
