// The long slowloris (npm run hostile): minutes of connections that send their request head or
// body one byte per second, each reopened as soon as the server closes it, plus line-port
// connections that trickle a put line one byte per second, against a real server — while a
// well-behaved HTTP client and a well-behaved line client keep writing and time their answers.
// Prints one JSON summary (latencies, how long the server let slow connections live) and exits 1
// if a well-behaved request was not answered within 5 s, or the server died.
//
//   npm run hostile -- [--minutes 3] [--connections 400] [--line-connections 100]
//
// Starts dist/src/main.js on free ports with a temporary data directory (removed at exit).
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ANSWER_BOUND_MS, countPoints, formatLatency, percentile, processAlive, RawSession, sleep, WellBehavedClient, WellBehavedLineClient } from './hostile-harness.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const MAIN_JS = path.resolve(here, '../../src/main.js'); // dist/test/reliability → dist/src/main.js

const { values } = parseArgs({
  options: { minutes: { type: 'string', default: '3' }, connections: { type: 'string', default: '400' }, 'line-connections': { type: 'string', default: '100' } },
});
const durationMs = Number(values.minutes) * 60_000;
const connections = Number(values.connections);
const lineConnections = Number(values['line-connections']);

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-hostile-'));
const child = spawn(process.execPath, [MAIN_JS, '--http-port', '0', '--telnet-port', '0', '--host', '127.0.0.1', '--data-dir', dataDir, '--threads', '2'], { stdio: ['ignore', 'pipe', 'inherit'] });
const ports = await new Promise<{ http: number; telnet: number }>((resolve, reject) => {
  let out = '';
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    const nl = out.indexOf('\n');
    if (nl >= 0) resolve(JSON.parse(out.slice(0, nl)) as { http: number; telnet: number });
  });
  child.once('exit', (code) => reject(new Error(`server exited with ${code} before listening`)));
});

const deadline = performance.now() + durationMs;
const lifetimesMs: number[] = [];
let opened = 0;

/** One slow HTTP connection after another until the deadline; records how long each lived. */
async function slowHttp(i: number): Promise<void> {
  const body = `[{"name":"hostile.slowloris","timestamp":${i},"value":1,"tags":{"h":"a"}}]`.padEnd(200);
  const head = `POST /api/v1/datapoints HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n`;
  while (performance.now() < deadline) {
    const s = new RawSession(ports.http);
    opened++;
    await s.connected;
    // Even connections trickle their head; odd ones send the head at once and trickle the body.
    const trickled = i % 2 === 0 ? head + body : body;
    if (i % 2 === 1) s.write(head);
    for (const ch of trickled) {
      if (!s.write(ch) || performance.now() >= deadline) break;
      await Promise.race([sleep(1000), s.closed]);
    }
    if (s.closedAfterMs === undefined) s.destroy();
    else lifetimesMs.push(s.closedAfterMs);
  }
}

/** A line-port connection trickling put lines one byte per second (the line port has no idle timeout). */
async function slowLine(i: number): Promise<number> {
  const s = new RawSession(ports.telnet);
  await s.connected;
  let lines = 0;
  while (performance.now() < deadline) {
    for (const ch of `put hostile.slowline ${1_600_000_000 + lines} 1 conn=c${i}\n`) {
      if (!s.write(ch) || performance.now() >= deadline) break;
      await sleep(1000);
    }
    lines++;
  }
  s.destroy();
  return lines;
}

const good = new WellBehavedClient(ports.http, 'hostile.good', 1_600_000_000_000, 100).start();
const goodLine = new WellBehavedLineClient(ports.telnet, 'hostile.line.good', 1_600_000_000, 100).start();
const progress = setInterval(() => {
  const sorted = [...lifetimesMs].sort((a, b) => a - b);
  console.error(`[hostile] ${Math.round((deadline - performance.now()) / 1000)} s left: ${opened} slow connections opened, ${lifetimesMs.length} closed by the server (max life ${sorted.at(-1) ?? 0} ms)`);
}, 30_000);
const attacks = [...Array.from({ length: connections }, (_, i) => slowHttp(i)), ...Array.from({ length: lineConnections }, (_, i) => slowLine(i))];
await Promise.all(attacks);
clearInterval(progress);
const httpReport = await good.stop();
const lineReport = await goodLine.stop();
const alive = processAlive(child.pid);
const sortedLife = [...lifetimesMs].sort((a, b) => a - b);
const summary = {
  minutes: Number(values.minutes),
  slowHttpConnections: connections,
  slowLineConnections: lineConnections,
  slowConnectionsOpened: opened,
  closedByServer: lifetimesMs.length,
  lifetimeMs: { p50: percentile(sortedLife, 50), p99: percentile(sortedLife, 99), max: sortedLife.at(-1) ?? 0 },
  wellBehavedHttp: formatLatency(httpReport),
  wellBehavedLine: formatLatency(lineReport),
  failures: [...httpReport.failures, ...lineReport.failures].slice(0, 20),
  slowlorisPointsStored: alive ? await countPoints(ports.http, 'hostile.slowloris') : -1,
  serverAlive: alive,
};
console.log(JSON.stringify(summary, null, 2));
child.kill('SIGTERM');
await new Promise((r) => child.once('exit', r));
fs.rmSync(dataDir, { recursive: true, force: true });
const ok = alive && summary.failures.length === 0 && httpReport.maxMs <= ANSWER_BOUND_MS && lineReport.maxMs <= ANSWER_BOUND_MS && summary.slowlorisPointsStored === 0;
process.exit(ok ? 0 : 1);
