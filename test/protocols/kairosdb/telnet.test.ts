// Telnet line protocol: put/putm/puts/version (protocols.md §1.6 with §7's overrides), errors in
// OpenTSDB's format (§2.6), framing (CRLF, blanks, 1,024-byte lines, tails across bursts).
import { describe, expect, it } from 'vitest';
import { ValueKind, canonicalSeriesKey, type WriteBatch } from '../../../engine/index.js';
import { BatchBuilder } from '../../../src/protocols/batch-builder.js';
import { TelnetDecoder, type TelnetDecodeResult } from '../../../src/protocols/kairosdb/telnet.js';

const enc = new TextEncoder();

interface Stored {
  series: string;
  ttl: number;
  t: number;
  value: number | bigint | string;
}

function setup(options: { maxLineBytes?: number; versionReply?: string } = {}): {
  decoder: TelnetDecoder;
  points: Stored[];
  batches: number[];
  run: (text: string | Uint8Array) => TelnetDecodeResult;
} {
  const points: Stored[] = [];
  const batches: number[] = [];
  const sink = (b: WriteBatch): void => {
    batches.push(b.length);
    for (let i = 0; i < b.length; i++) {
      const s = b.seriesIndex[i]!;
      const k = b.kinds[i]!;
      points.push({
        series: canonicalSeriesKey(b.series[s]!),
        ttl: b.ttlSeconds?.[s] ?? 0,
        t: b.timestampsMs[i]!,
        value: k === ValueKind.Float64 ? b.floats[i]! : k === ValueKind.Int64 ? b.ints[i]! : b.texts[i]!,
      });
    }
  };
  const decoder = new TelnetDecoder(sink, options);
  return { decoder, points, batches, run: (text) => decoder.decode(typeof text === 'string' ? enc.encode(text) : text) };
}

describe('telnet put / putm / puts', () => {
  it('put: OpenTSDB seconds/ms rule; putm: milliseconds; puts: string values', () => {
    const { points, run } = setup();
    const r = run(
      [
        'put sys.cpu 1364410924 42 host=a',
        'put sys.cpu 1364410924.250 42.5 host=a',
        'put sys.cpu 4294967295 1 host=a', // largest seconds value (no bit above 31)
        'put sys.cpu 4294967296 1 host=a', // milliseconds
        'putm sys.cpu 1364410924250 -7 host=a',
        'putm sys.cpu 0 1 host=a',
        'putm sys.cpu -5 1 host=a',
        'puts sys.state 1364410924000 running host=a',
        '',
      ].join('\n'),
    );
    expect(r).toMatchObject({ replies: '', points: 8, close: false });
    expect(r.tail.length).toBe(0);
    expect(points.map((p) => [p.t, p.value])).toEqual([
      [1364410924000, 42n],
      [1364410924250, 42.5],
      [4294967295000, 1n],
      [4294967296, 1n],
      [1364410924250, -7n],
      [0, 1n],
      [-5, 1n],
      [1364410924000, 'running'],
    ]);
  });

  it('values: §7 literals (., e, E → double; else exact int64)', () => {
    const { points, run } = setup();
    run('put m 1 1e5 k=v\nput m 2 1E-2 k=v\nput m 3 9223372036854775807 k=v\nput m 4 -9007199254740993 k=v\nput m 5 .5 k=v\nput m 6 +3 k=v\n');
    expect(points.map((p) => p.value)).toEqual([100000, 0.01, 9223372036854775807n, -9007199254740993n, 0.5, 3n]);
  });

  it('tags: no tags → add=tag, a=b=c keeps b, kairos_opt.ttl sets the TTL, identical duplicates ignored', () => {
    const { points, run } = setup();
    const r = run('put m 1 1\nput m 2 2 a=b=c\nput m 3 3 host=a kairos_opt.ttl=30\nput m 4 4 host=a host=a\nput m 5 5 kairos_opt.ttl=10\n');
    expect(r.replies).toBe('');
    expect(points.map((p) => [p.series, p.ttl])).toEqual([
      ['m{add=tag}', 0],
      ['m{a=b}', 0],
      ['m{host=a}', 30],
      ['m{host=a}', 0],
      ['m{add=tag}', 10],
    ]);
  });

  it('framing: CRLF, repeated blanks and tabs, blank lines, quoted words, UTF-8', () => {
    const { points, run } = setup();
    const r = run('put  m  1   2\thost=a  \r\n\r\n   \nput "my metric" 1 3 "host=x y"\nput 温度 1 4 城市=北京\n');
    expect(r.replies).toBe('');
    expect(points.map((p) => p.series)).toEqual(['m{host=a}', 'my metric{host=x y}', '温度{城市=北京}']);
  });

  it('errors are written back in OpenTSDB\'s format, with KairosDB\'s messages; good lines still count', () => {
    const { points, run } = setup();
    const lines: [string, string][] = [
      ['put m 1', 'put: illegal argument: not enough arguments (need least 3, got 2)'],
      ['put', 'put: illegal argument: not enough arguments (need least 3, got 0)'],
      ['put m 12x 1 a=b', "put: invalid value: Invalid character 'x' in 12x"],
      ['put m 1 notanum a=b', "put: invalid value: Invalid character 'n' in notanum"],
      ['put m 1 1.2.3 a=b', 'put: invalid value: For input string: "1.2.3"'],
      ['put m 1 1e999 a=b', 'put: illegal argument: value is NaN or Infinite: Infinity for metric=m timestamp=1000'],
      ['put m 1 NaN a=b', "put: invalid value: Invalid character 'N' in NaN"],
      ['put m 1 99999999999999999999 a=b', 'put: invalid value: Value too long: 99999999999999999999'],
      ['put m 1 9223372036854775808 a=b', 'put: invalid value: Overflow in 9223372036854775808'],
      ['put m 1 - a=b', 'put: invalid value: Just a sign, no value: -'],
      ['put m -5 1 a=b', 'put: illegal argument: invalid timestamp: -5'],
      ['put m 0 1 a=b', 'put: illegal argument: invalid timestamp: 0'],
      ['put m 99999999999999 1 a=b', 'put: illegal argument: bad timestamp=99999999999999'],
      ['putm m 1125899906842624 1 a=b', 'putm: illegal argument: bad timestamp=1125899906842624'],
      ['putm m 1.5 1 a=b', "putm: invalid value: Invalid character '.' in 1.5"],
      ['put m 1 1 host', "put: illegal argument: tag[0] must be in the format 'name=value'."],
      ['put m 1 1 a=b host=', "put: illegal argument: tag[1] must be in the format 'name=value'."],
      ['put "" 1 1 a=b', 'put: illegal argument: metricName may not be empty.'],
      ['put m 1 1 a=b =x', 'put: illegal argument: tag[1].name may not be empty.'],
      ['put m 1 1 =x', 'put: illegal argument: tag[0].name may not be empty.'],
      ['put m 1 1 a==b', 'put: illegal argument: tag[0].value may not be empty.'],
      ['put m 1 1 kairos_opt.ttl=abc', 'put: illegal argument: tag[kairos_opt.ttl] must be a number'],
      ['put m 1 1 kairos_opt.ttl=-1', 'put: illegal argument: tag[kairos_opt.ttl] must be greater than or equal to 0.'],
      ['put m 1 1 host=a host=b', 'put: illegal argument: duplicate tag: host=b, tags={host=a}'],
      ['puts m 1 1 =x', 'puts: illegal argument: tag[0].name may not be empty.'],
      ['bogus 1 2', "unknown command: bogus.  Try `help'."],
      ['PUT m 1 1', "unknown command: PUT.  Try `help'."],
    ];
    const r = run(`${lines.map(([l]) => `${l}\nput ok 1 1 a=b\n`).join('')}`);
    expect(r.replies).toBe(lines.map(([, reply]) => `${reply}\n`).join(''));
    expect(r.points).toBe(lines.length);
    expect(points).toHaveLength(lines.length);
  });

  it('version is always answered; help lists the commands; exit closes and ignores what follows', () => {
    const { run, decoder } = setup({ versionReply: 'KairosDB 1.3.0-1' });
    expect(run('version\n').replies).toBe('KairosDB 1.3.0-1\n');
    expect(run('version extra words\r\n').replies).toBe('KairosDB 1.3.0-1\n');
    expect(run('help\n').replies).toBe('available commands: put putm puts version exit help \n');
    const r = run('put m 1 1 a=b\nexit\nput m 2 2 a=b\nversion\n');
    expect(r).toMatchObject({ replies: '', points: 1, close: true });
    expect(r.tail.length).toBe(0);
    // More commands can be added (OpenTSDB rollup, stats…).
    decoder.register('stats', (line) => line.reply(`words=${line.words.join('|')}`));
    expect(run('stats  a b\n').replies).toBe('words=stats|a|b\n');
  });

  it("refuses Strata's reserved tag key on put, putm and puts", () => {
    const { points, run } = setup();
    const r = run('put m 1 1 host=a strata:rollup=1h:sum\nputm m 1 1 strata:rollup=x\nputs m 1 x strata:rollup=x\nput m 1 1 strata:rollupx=1\n');
    expect(r.replies).toBe(
      "put: illegal argument: tag[1].name 'strata:rollup' is reserved for rollups.\n" +
        "putm: illegal argument: tag[0].name 'strata:rollup' is reserved for rollups.\n" +
        "puts: illegal argument: tag[0].name 'strata:rollup' is reserved for rollups.\n",
    );
    expect(points.map((p) => p.series)).toEqual(['m{strata:rollupx=1}']);
  });

  it('a registered put replaces the built-in one; putm and puts stay built in; help lists each name once', () => {
    const { points, run, decoder } = setup();
    decoder.register('put', (line) => line.reply(`custom ${line.words.slice(1).join(' ')}`));
    const r = run('put m 1 1\nputm m 1 1\nputs m 1 x a=b\nhelp\n');
    expect(r.replies).toBe('custom m 1 1\navailable commands: put putm puts version exit help \n');
    expect(points.map((p) => p.series)).toEqual(['m{add=tag}', 'm{a=b}']);
  });

  it('returns the unterminated tail; the next burst continues it', () => {
    const { points, run } = setup();
    const first = run('put m 1 1 a=b\nput m 2 ');
    expect(Buffer.from(first.tail).toString()).toBe('put m 2 ');
    const second = run(Buffer.concat([first.tail, enc.encode('2 a=b\nput m 3 3 a=b')]));
    expect(Buffer.from(second.tail).toString()).toBe('put m 3 3 a=b');
    expect(points.map((p) => p.t)).toEqual([1000, 2000]);
  });

  it('lines over 1,024 bytes are dropped with an error, even across bursts; the connection goes on', () => {
    const { points, run } = setup();
    const okLine = `put m 1 1 a=${'x'.repeat(1024 - 'put m 1 1 a='.length)}`;
    expect(okLine.length).toBe(1024);
    expect(run(`${okLine}\r\n`).replies).toBe('');
    const long = `put m 1 1 a=${'x'.repeat(2000)}`;
    expect(run(`${long}\nput m 2 2 a=b\n`).replies).toBe('error: line too long (more than 1024 bytes)\n');
    // The same line in pieces: the tail stays bounded and the error comes once, at its end.
    let tail = new Uint8Array(0);
    let replies = '';
    for (let at = 0; at < long.length; at += 300) {
      const r = run(Buffer.concat([tail, enc.encode(long.slice(at, at + 300))]));
      expect(r.tail.length).toBeLessThanOrEqual(1025);
      tail = Uint8Array.from(r.tail);
      replies += r.replies;
    }
    replies += run(Buffer.concat([tail, enc.encode('\nput m 3 3 a=b\n')])).replies;
    expect(replies).toBe('error: line too long (more than 1024 bytes)\n');
    expect(points.map((p) => p.t)).toEqual([1000, 2000, 3000]);
  });

  it('shares a BatchBuilder and flushes each burst as one batch', () => {
    const batches: number[] = [];
    const builder = new BatchBuilder((b) => batches.push(b.length));
    const decoder = new TelnetDecoder(builder);
    decoder.decode(enc.encode('put m 1 1 a=b\nput m 2 2 a=b\nput n 2 2 a=b\n'));
    decoder.decode(enc.encode('put m 3 3 a=b\n'));
    decoder.decode(enc.encode('bad\n'));
    expect(batches).toEqual([3, 1]);
  });
});

describe('refusing a burst (the line port under backpressure)', () => {
  const THROTTLE = 'Please throttle writes: Too many bytes in flight; retry later';

  it('answers every point-storing line with the problem, stores nothing, and still answers other commands', () => {
    const { points, batches, run, decoder } = setup({ versionReply: 'v1' });
    const r = decoder.refuse(enc.encode('put m 1 1 a=b\r\nputm m 1 1\n\nputs m 1 x a=b\nversion\nbogus\nput broken\nhelp\nexit\nput m 2 2 a=b\n'), THROTTLE);
    expect(r.replies).toBe(
      [
        `put: ${THROTTLE}`,
        `putm: ${THROTTLE}`,
        `puts: ${THROTTLE}`,
        'v1',
        "unknown command: bogus.  Try `help'.",
        `put: ${THROTTLE}`, // refused before it is parsed: no "not enough arguments"
        'available commands: put putm puts version exit help ',
        '',
      ].join('\n'),
    );
    expect(r).toMatchObject({ points: 0, close: true });
    expect(points).toEqual([]);
    expect(batches).toEqual([]);
    // The decoder decodes normally afterwards.
    expect(run('put m 3 3 a=b\n')).toMatchObject({ replies: '', points: 1 });
    expect(points.map((p) => p.t)).toEqual([3000]);
  });

  it('keeps the tail and the line limit as decode does', () => {
    const { decoder } = setup();
    const r = decoder.refuse(enc.encode(`put m 1 1 a=b\n${'x'.repeat(1025)}\nput m 2`), THROTTLE);
    expect(r.replies).toBe(`put: ${THROTTLE}\nerror: line too long (more than 1024 bytes)\n`);
    expect(Buffer.from(r.tail).toString()).toBe('put m 2');
  });

  it('refuses registered commands unless they are registered as reply-only', () => {
    const { decoder } = setup();
    decoder.register('store', (line) => line.addedPoints(1));
    decoder.register('stats', (line) => line.reply('stats!'), { storesPoints: false });
    expect(decoder.refuse(enc.encode('store x\nstats\n'), 'busy').replies).toBe('store: busy\nstats!\n');
    expect(decoder.decode(enc.encode('store x\nstats\n'))).toMatchObject({ replies: 'stats!\n', points: 1 });
  });

  it('never touches the builder: a decoder whose sink throws can refuse', () => {
    const decoder = new TelnetDecoder(() => {
      throw new Error('stored');
    });
    expect(decoder.refuse(enc.encode('put m 1 1 a=b\n'.repeat(10_000)), THROTTLE).replies).toBe(`put: ${THROTTLE}\n`.repeat(10_000));
  });
});
