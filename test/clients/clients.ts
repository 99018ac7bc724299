// `npm run test:clients`: real clients against a live Strata on loopback (issue 8). Installs
// Debian's collectd and Prometheus if they are missing (apt-get; needs root), starts the built
// server on ephemeral ports, then:
//   - collectd 5.12 with `write_http` (Format "KAIROSDB") and `write_tsdb` (OpenTSDB telnet `put`)
//     runs for a few intervals; its load and memory metrics must be stored, and read back through
//     the KairosDB API (metric names, a query with the host tag) and the OpenTSDB API (suggest, a
//     query with `none`);
//   - Prometheus 2.42 scrapes `GET /metrics` every second; its target must be "up" with no scrape
//     error, and a query for strata_points_stored_total must answer.
// Not part of `npm test` (it installs system packages). The configurations used are in
// docs/clients.md. Exit status 0 when every check passed, 1 otherwise.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnServer } from '../../bench/load/server.js';

const COLLECTD = '/usr/sbin/collectd';
const PROMETHEUS = '/usr/bin/prometheus';

function ensureInstalled(): void {
  const missing = [
    ...(fs.existsSync(COLLECTD) ? [] : ['collectd-core']),
    ...(fs.existsSync(PROMETHEUS) ? [] : ['prometheus']),
    // write_http's own libraries (collectd-core leaves them to the plugins' users).
    ...(fs.existsSync('/usr/lib/x86_64-linux-gnu/libyajl.so.2') || fs.existsSync('/usr/lib/aarch64-linux-gnu/libyajl.so.2') ? [] : ['libyajl2']),
  ];
  if (missing.length === 0) return;
  console.log(`installing ${missing.join(', ')} (apt-get)`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  // policy-rc.d (where present) keeps the packages' services from starting; we run them by hand.
  let r = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', ...missing, 'libcurl4'], { stdio: 'inherit', env });
  if (r.status !== 0) {
    spawnSync('apt-get', ['update'], { stdio: 'inherit', env });
    r = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', ...missing, 'libcurl4'], { stdio: 'inherit', env });
  }
  if (r.status !== 0) throw new Error(`apt-get install ${missing.join(' ')} failed`);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

async function getJson(url: string, init?: RequestInit): Promise<unknown> {
  const res = await fetch(url, init);
  const text = await res.text();
  assert.equal(res.status, 200, `${url}: ${res.status} ${text}`);
  return JSON.parse(text) as unknown;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Waits (up to `ms`) for `check` to stop throwing; rethrows its last error. */
async function eventually(ms: number, check: () => Promise<void>): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      await check();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await sleep(500);
    }
  }
}

export function collectdConfig(dir: string, httpPort: number, telnetPort: number): string {
  return `Hostname "strata-clients-test"
FQDNLookup false
Interval 1
BaseDir "${dir}"
PIDFile "${dir}/collectd.pid"
PluginDir "/usr/lib/collectd"
TypesDB "/usr/share/collectd/types.db"
LoadPlugin load
LoadPlugin memory
LoadPlugin write_http
LoadPlugin write_tsdb
<Plugin write_http>
  <Node "strata">
    URL "http://127.0.0.1:${httpPort}/api/v1/datapoints"
    Format "KAIROSDB"
  </Node>
</Plugin>
<Plugin write_tsdb>
  <Node "strata">
    Host "127.0.0.1"
    Port "${telnetPort}"
    HostTags "source=collectd"
  </Node>
</Plugin>
`;
}

export function prometheusConfig(httpPort: number): string {
  return `global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: strata
    static_configs:
      - targets: ['127.0.0.1:${httpPort}']
`;
}

async function main(): Promise<void> {
  ensureInstalled();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-clients-'));
  const strata = await spawnServer({ threads: 2, dataDir: path.join(dir, 'data') });
  const base = `http://127.0.0.1:${strata.http}`;
  const children: ChildProcess[] = [];
  try {
    // collectd: write_http (KairosDB JSON) and write_tsdb (OpenTSDB put lines).
    fs.writeFileSync(path.join(dir, 'collectd.conf'), collectdConfig(dir, strata.http, strata.telnet));
    const collectd = spawn(COLLECTD, ['-f', '-C', path.join(dir, 'collectd.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(collectd);
    let collectdLog = '';
    collectd.stdout!.on('data', (d: Buffer) => (collectdLog += d.toString()));
    collectd.stderr!.on('data', (d: Buffer) => (collectdLog += d.toString()));

    // Prometheus scraping /metrics.
    fs.writeFileSync(path.join(dir, 'prometheus.yml'), prometheusConfig(strata.http));
    const promPort = await freePort();
    const prometheus = spawn(PROMETHEUS, [`--config.file=${path.join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(dir, 'prom')}`, `--web.listen-address=127.0.0.1:${promPort}`], {
      stdio: 'ignore',
    });
    children.push(prometheus);

    await eventually(30_000, async () => {
      const names = ((await getJson(`${base}/api/v1/metricnames`)) as { results: string[] }).results;
      // write_http, KAIROSDB format: one metric per plugin, the rest as tags.
      for (const m of ['collectd.load', 'collectd.memory']) assert.ok(names.includes(m), `KairosDB metric ${m} in ${JSON.stringify(names)}\n${collectdLog}`);
      // write_tsdb: plugin.type.type_instance names, as put lines on the line port.
      for (const m of ['load.load.shortterm', 'memory.used.memory']) assert.ok(names.includes(m), `OpenTSDB metric ${m} in ${JSON.stringify(names)}\n${collectdLog}`);
    });
    console.log('collectd: write_http (KAIROSDB) and write_tsdb metrics stored');

    // Read back through both query APIs.
    const kairos = (await getJson(`${base}/api/v1/datapoints/query`, {
      method: 'POST',
      body: JSON.stringify({ start_relative: { value: 1, unit: 'hours' }, metrics: [{ name: 'collectd.load', tags: { host: ['strata-clients-test'] } }] }),
    })) as { queries: { sample_size: number; results: { tags: Record<string, string[]> }[] }[] };
    assert.ok(kairos.queries[0]!.sample_size > 0, 'KairosDB query of collectd.load returned points');
    assert.ok(kairos.queries[0]!.results[0]!.tags['host']!.includes('strata-clients-test'));
    const suggest = (await getJson(`${base}/api/suggest?type=metrics&q=load.load`)) as string[];
    assert.ok(suggest.includes('load.load.shortterm'), `suggest: ${JSON.stringify(suggest)}`);
    const tsdb = (await getJson(`${base}/api/query?start=1h-ago&m=none:load.load.shortterm{source=collectd}`)) as { dps: Record<string, number> }[];
    assert.ok(tsdb.length > 0 && Object.keys(tsdb[0]!.dps).length > 0, `OpenTSDB query: ${JSON.stringify(tsdb).slice(0, 300)}`);
    console.log('collectd metrics read back through KairosDB and OpenTSDB queries');

    await eventually(30_000, async () => {
      const targets = (await getJson(`http://127.0.0.1:${promPort}/api/v1/targets`)) as {
        data: { activeTargets: { health: string; lastError: string; scrapeUrl: string }[] };
      };
      const t = targets.data.activeTargets[0];
      assert.ok(t, 'Prometheus has its target');
      assert.equal(t.lastError, '', `scrape error: ${t.lastError}`);
      assert.equal(t.health, 'up');
      const q = (await getJson(`http://127.0.0.1:${promPort}/api/v1/query?query=strata_points_stored_total`)) as { data: { result: { metric: Record<string, string> }[] } };
      const apis = q.data.result.map((r) => r.metric['api']);
      assert.ok(apis.includes('kairosdb') && apis.includes('telnet'), `strata_points_stored_total by api: ${JSON.stringify(apis)}`);
    });
    console.log('prometheus: /metrics scraped, target up, no scrape errors, collectd\'s points counted');
  } finally {
    for (const c of children.reverse()) c.kill('SIGTERM');
    await strata.stop();
    await sleep(500);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => {
    console.log('test:clients: all checks passed');
    process.exit(0);
  },
  (err: unknown) => {
    console.error(`test:clients: FAILED\n${(err as Error).stack ?? String(err)}`);
    process.exit(1);
  },
);
