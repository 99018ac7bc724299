// Option resolution: defaults < config file < environment < flags, and clear errors.
import { describe, expect, it } from 'vitest';
import { ConfigError, HELP, describeConfig, loadConfig } from '../src/config.js';

const noFile = (f: string): string => {
  throw new Error(`ENOENT: ${f}`);
};

describe('loadConfig', () => {
  it('has the documented defaults', () => {
    const r = loadConfig([], {}, '/srv', noFile);
    expect(r.help).toBe(false);
    if (r.help) return;
    expect(r.config).toMatchObject({ httpPort: 8080, telnetPort: 4242, dataDir: '/srv/data', sync: 'interval', syncIntervalMs: 1000 });
    expect(r.config.threads).toBeGreaterThanOrEqual(1);
  });

  it('lets the config file, then the environment, then flags override', () => {
    const file = JSON.stringify({ 'http-port': 1, telnetPort: 2, sync: 'never', 'data-dir': 'd' });
    const r = loadConfig(['--telnet-port', '3'], { STRATA_HTTP_PORT: '4', STRATA_CONFIG: '/etc/strata.json' }, '/srv', () => file);
    if (r.help) throw new Error('help');
    expect(r.config.httpPort).toBe(4);
    expect(r.config.telnetPort).toBe(3);
    expect(r.config.sync).toBe('never');
    expect(r.config.dataDir).toBe('/etc/d'); // relative to the config file
    // --print-config names each value's source.
    expect(r.sources).toMatchObject({ httpPort: 'env', telnetPort: 'flag', sync: 'file', dataDir: 'file', syncIntervalMs: 'default' });
    expect(r.printConfig).toBe(false);
    const printed = loadConfig(['--print-config', '--threads', '3'], {}, '/srv', noFile);
    if (printed.help) throw new Error('help');
    expect(printed.printConfig).toBe(true);
    const lines = describeConfig(printed.config, printed.sources).split('\n');
    expect(lines.find((l) => l.startsWith('--threads 3 '))).toMatch(/\(flag, env STRATA_THREADS\)$/);
    expect(lines.find((l) => l.startsWith('--data-dir /srv/data '))).toMatch(/\(default, env STRATA_DATA_DIR\)$/);
    expect(HELP).toContain('--print-config');
  });

  it('takes every flag the issue names', () => {
    const r = loadConfig(
      ['--http-port', '0', '--telnet-port', '0', '--data-dir', 'x', '--threads', '3', '--sync', 'always', '--sync-interval-ms', '50', '--max-body-bytes', '10', '--max-inflight-bytes', '20'],
      {},
      '/srv',
      noFile,
    );
    if (r.help) throw new Error('help');
    expect(r.config).toMatchObject({ httpPort: 0, telnetPort: 0, dataDir: '/srv/x', threads: 3, sync: 'always', syncIntervalMs: 50, maxBodyBytes: 10, maxInflightBytes: 20 });
  });

  it('takes the OpenTSDB tag limit (default 8, at least 1) and the line throttle delay (default 500 ms)', () => {
    const at = (argv: string[], env: Record<string, string> = {}, file = '{}'): number => {
      const r = loadConfig(argv, { STRATA_CONFIG: '/s.json', ...env }, '/srv', () => file);
      if (r.help) throw new Error('help');
      return r.config.openTsdbMaxTags;
    };
    expect(at([])).toBe(8);
    expect(at([], {}, '{"openTsdbMaxTags":3}')).toBe(3);
    expect(at([], { STRATA_OPENTSDB_MAX_TAGS: '4' }, '{"opentsdb-max-tags":3}')).toBe(4);
    expect(at(['--opentsdb-max-tags', '2'], { STRATA_OPENTSDB_MAX_TAGS: '4' })).toBe(2);
    expect(() => at(['--opentsdb-max-tags', '0'])).toThrow(/opentsdb-max-tags must be at least 1/);
    expect(() => at(['--opentsdb-max-tags', 'x'])).toThrow(/opentsdb-max-tags must be a non-negative integer/);
    expect(HELP).toContain('--opentsdb-max-tags');
    const r = loadConfig(['--line-throttle-ms', '20'], {}, '/srv', noFile);
    if (r.help) throw new Error('help');
    expect(r.config.lineThrottleMs).toBe(20);
    const d = loadConfig([], {}, '/srv', noFile);
    if (d.help) throw new Error('help');
    expect(d.config.lineThrottleMs).toBe(500);
  });

  it('lists every option in --help', () => {
    expect(loadConfig(['--help'], {}, '/', noFile)).toEqual({ help: true });
    for (const flag of ['--http-port', '--telnet-port', '--data-dir', '--threads', '--sync ', '--sync-interval-ms', '--max-body-bytes', '--max-inflight-bytes', '--config', '--help']) {
      expect(HELP).toContain(flag);
    }
  });

  it('refuses unknown flags, bad numbers, bad policies and unreadable files with a clear message', () => {
    expect(() => loadConfig(['--nope'], {}, '/', noFile)).toThrow(ConfigError);
    expect(() => loadConfig(['--threads', 'two'], {}, '/', noFile)).toThrow(/threads must be a non-negative integer/);
    expect(() => loadConfig(['--sync', 'sometimes'], {}, '/', noFile)).toThrow(/sync must be interval, always or never/);
    expect(() => loadConfig(['--config', '/x.json'], {}, '/', noFile)).toThrow(/cannot read config file \/x.json/);
    expect(() => loadConfig(['--config', '/x.json'], {}, '/', () => '{"bogus":1}')).toThrow(/unknown option "bogus"/);
    expect(() => loadConfig(['--threads', '0'], {}, '/', noFile)).toThrow(/at least 1/);
  });
});
