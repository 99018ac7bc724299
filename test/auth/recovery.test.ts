// Crash safety of the credential log: a torn append is cut at every byte offset, any flipped byte
// is refused (never silently accepted), a replayed record is refused, a running reader fails
// closed on damage, `repair` keeps exactly the whole records before the damage, and a writer
// killed by SIGKILL loses nothing it acknowledged.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CredentialCorruptionError, CredentialErrorCode, CredentialStore, type CredentialStoreOptions } from '../../src/auth/index.js';
import { copyLogTruncated, logPathOf, reopenedAnswers, storeAnswers } from '../helpers/credentials.js';
import { tempDir } from '../helpers/tmp.js';

const quiet: CredentialStoreOptions = { log: () => undefined };
/** Built by `npm test`'s tsc step: a child process that changes the store until it is killed. */
const WRITER_JS = path.resolve('dist/test/helpers/credential-writer.js');

/** A store with a few records of every kind; returns its secrets and the log size after each change. */
function populated(): { dir: string; store: CredentialStore; secrets: string[]; sizes: number[] } {
  const dir = tempDir();
  const store = CredentialStore.open(dir, quiet);
  const secrets: string[] = [];
  const sizes: number[] = [];
  const changes: (() => unknown)[] = [
    () => store.createOrg('gilt'),
    () => store.createTeam('gilt', 'ops'),
    () => store.createCaveToken('gilt', { team: 'ops', scopes: ['read'], description: 'grafana' }),
    () => store.createProduct('lamp'),
    () => store.createDevice('lamp', '1001', { title: 'desk lamp' }),
    () => store.createOneNetKey('lamp', { device: '1001', permissions: ['write'] }),
    () => store.revokeCaveToken('gilt', 2, { team: 'ops' }),
  ];
  for (const change of changes) {
    const result = change() as { secret?: string } | undefined;
    if (result?.secret) secrets.push(result.secret);
    sizes.push(fs.statSync(logPathOf(dir)).size);
  }
  return { dir, store, secrets, sizes };
}

describe('torn tail', () => {
  it('cuts the last record cleanly at every byte offset, and the next change lands after the last whole record', () => {
    const { dir, store, secrets, sizes } = populated();
    const before = sizes[sizes.length - 1]!;
    const stale = CredentialStore.open(dir, quiet); // never reloaded: the state before the last record
    const last = store.createCaveToken('gilt', { scopes: ['publish', 'read'], description: 'last' });
    const original = fs.readFileSync(logPathOf(dir));
    const all = [...secrets, last.secret];
    const expected = storeAnswers(stale, all);
    expect(original.length).toBeGreaterThan(before + 16);

    for (let cut = before; cut < original.length; cut++) {
      const copy = tempDir();
      copyLogTruncated(dir, copy, cut);
      expect(reopenedAnswers(copy, all), `cut at ${cut}`).toEqual(expected);
      const events: string[] = [];
      const writer = CredentialStore.open(copy, { log: (e) => events.push(e.event) });
      const next = writer.createCaveToken('gilt', { scopes: ['read'] });
      expect(events).toEqual(cut > before ? ['auth.torn-tail-cut'] : []);
      const reopened = CredentialStore.open(copy, quiet);
      expect(reopened.authenticateCaveToken(next.secret)?.org).toBe('gilt');
      expect(reopened.authenticateCaveToken(last.secret)).toBeUndefined();
      expect(fs.readFileSync(logPathOf(copy)).subarray(0, before).equals(original.subarray(0, before))).toBe(true);
    }
    expect(reopenedAnswers(dir, all)).toEqual(storeAnswers(store, all));
  });

  it('treats a torn first write (file header included) as an empty store', () => {
    const { dir, secrets, sizes } = populated();
    for (let cut = 0; cut < sizes[0]!; cut++) {
      const copy = tempDir();
      copyLogTruncated(dir, copy, cut);
      const store = CredentialStore.open(copy, quiet);
      expect(store.listOrgs(), `cut at ${cut}`).toEqual([]);
      expect(store.authenticateCaveToken(secrets[0]!)).toBeUndefined();
      const t = store.createOrg('gilt');
      expect(CredentialStore.open(copy, quiet).authenticateCaveToken(t.secret)?.org).toBe('gilt');
    }
  });

  it('treats a zero-filled tail (a file extended but not written before power loss) as torn', () => {
    const { dir, store, secrets } = populated();
    fs.appendFileSync(logPathOf(dir), Buffer.alloc(300));
    expect(reopenedAnswers(dir, secrets)).toEqual(storeAnswers(store, secrets));
  });
});

describe('damage', () => {
  it('refuses a log with any single byte flipped, at every offset', () => {
    const { dir } = populated();
    const bytes = fs.readFileSync(logPathOf(dir));
    const copy = tempDir();
    copyLogTruncated(dir, copy, 0);
    for (let i = 0; i < bytes.length; i++) {
      for (const mask of [0x01, 0x80]) {
        const damaged = Buffer.from(bytes);
        damaged[i]! ^= mask;
        fs.writeFileSync(logPathOf(copy), damaged);
        let error: unknown;
        try {
          CredentialStore.open(copy, quiet);
        } catch (err) {
          error = err;
        }
        expect(error, `byte ${i} ^ ${mask}`).toBeInstanceOf(CredentialCorruptionError);
        expect((error as CredentialCorruptionError).code).toBe(CredentialErrorCode.Corruption);
      }
    }
  });

  it('refuses a whole record replayed at the end (its sequence number repeats)', () => {
    const { dir, sizes } = populated();
    const bytes = fs.readFileSync(logPathOf(dir));
    const lastRecord = bytes.subarray(sizes[sizes.length - 2]!);
    fs.appendFileSync(logPathOf(dir), lastRecord);
    expect(() => CredentialStore.open(dir, quiet)).toThrow(/does not apply/);
  });

  it('makes a running reader fail closed while the log is damaged, and recover once it is fixed', () => {
    const { dir, store, secrets } = populated();
    const reader = CredentialStore.open(dir, quiet);
    const added = store.createCaveToken('gilt', { scopes: ['read'] });
    const file = logPathOf(dir);
    const good = fs.readFileSync(file);
    const bad = Buffer.from(good);
    bad[bad.length - 5]! ^= 0x20;
    fs.writeFileSync(file, bad);
    expect(() => reader.reload()).toThrow(CredentialCorruptionError);
    expect(reader.healthy).toBe(false);
    expect(reader.authenticateCaveToken(secrets[0]!)).toBeUndefined();
    expect(reader.authenticateOneNetKey(secrets[3]!)).toBeUndefined();
    expect(() => store.createOrg('other')).toThrow(CredentialCorruptionError); // writers refuse too
    fs.writeFileSync(file, good);
    reader.reload();
    expect(reader.healthy).toBe(true);
    expect(reader.authenticateCaveToken(added.secret)?.org).toBe('gilt');
    expect(reader.authenticateCaveToken(secrets[0]!)?.org).toBe('gilt');
  });

  it('repair cuts at the first damaged record and keeps every record before it', () => {
    const { dir, secrets, sizes } = populated();
    const file = logPathOf(dir);
    const bytes = fs.readFileSync(file);
    const keep = 4;
    const copy = tempDir();
    copyLogTruncated(dir, copy, sizes[keep - 1]!);
    const expected = reopenedAnswers(copy, secrets);
    const damaged = Buffer.from(bytes);
    damaged[sizes[keep - 1]! + 20]! ^= 0x04; // inside record `keep` (0-based)
    fs.writeFileSync(file, damaged);
    expect(() => CredentialStore.open(dir, quiet)).toThrow(CredentialCorruptionError);
    expect(CredentialStore.repair(dir, quiet)).toEqual({ droppedBytes: bytes.length - sizes[keep - 1]!, keptRecords: keep });
    expect(reopenedAnswers(dir, secrets)).toEqual(expected);
    expect(CredentialStore.repair(dir, quiet)).toEqual({ droppedBytes: 0, keptRecords: keep });
  });

  it('repair refuses a file whose header is damaged rather than emptying the store', () => {
    const { dir } = populated();
    const file = logPathOf(dir);
    const bytes = fs.readFileSync(file);
    bytes[1]! ^= 0xff;
    fs.writeFileSync(file, bytes);
    expect(() => CredentialStore.repair(dir, quiet)).toThrow(/not repairable/);
    expect(fs.statSync(file).size).toBe(bytes.length);
  });
});

describe('a writer killed mid-stream', () => {
  it('loses nothing it acknowledged, and the next writer takes over its lock and its tail', async () => {
    const dir = tempDir();
    CredentialStore.open(dir, quiet).createProduct('p');
    const acked: string[] = [];
    for (let round = 0; round < 6; round++) {
      const child = spawn(process.execPath, [WRITER_JS, dir, String(round)], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      await expect.poll(() => out.split('\n').length, { timeout: 10_000, interval: 2 }).toBeGreaterThan(4);
      await new Promise((resolve) => setTimeout(resolve, round * 3)); // kill at a different point each round
      child.kill('SIGKILL');
      await exited;
      acked.push(...out.slice(0, out.lastIndexOf('\n')).split('\n')); // whole lines only
      const store = CredentialStore.open(dir, quiet);
      for (const line of acked) {
        const [kind, value] = line.split(' ') as [string, string];
        if (kind === 'device') expect(store.device(value)?.product, line).toBe('p');
        else expect(store.authenticateOneNetKey(value)?.product, line).toBe('p');
      }
    }
    expect(acked.length).toBeGreaterThanOrEqual(24);
    const after = CredentialStore.open(dir, { ...quiet, lockWaitMs: 2000 });
    after.createDevice('p', 'final');
    expect(CredentialStore.open(dir, quiet).device('final')).toBeDefined();
  });
});
