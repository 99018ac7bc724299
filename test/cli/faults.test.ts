// The CLI over a failing disk (FaultyFileSystem through runCommand's store options): it reports
// the failure with exit 1, prints no secret, and the store is as it was.
import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FaultyFileSystem } from '../../engine/index.js';
import { CredentialStore } from '../../src/auth/index.js';
import { runCommand, type CliContext } from '../../src/cli/cli.js';
import { logPathOf, reopenedAnswers } from '../helpers/credentials.js';
import { tempDir } from '../helpers/tmp.js';

function run(argv: string[], faulty: FaultyFileSystem): { code: number; stdout: string; stderr: string } {
  let stdout = '';
  let stderr = '';
  const ctx: CliContext = {
    env: {},
    cwd: process.cwd(),
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    readFile: (f) => fs.readFileSync(f, 'utf8'),
    storeOptions: { fs: faulty, lockWaitMs: 200 },
  };
  return { code: runCommand(argv, ctx), stdout, stderr };
}

describe('CLI on a failing disk', () => {
  it('reports ENOSPC with exit 1, prints no secret, and leaves the store consistent', () => {
    const data = tempDir();
    const faulty = new FaultyFileSystem();
    const first = run(['cave', 'org', 'create', 'gilt', '--data-dir', data], faulty);
    expect(first.code).toBe(0);
    const before = reopenedAnswers(data, [first.stdout.trim()]);
    const size = fs.statSync(logPathOf(data)).size;

    faulty.inject({ op: 'pwrite', pathIncludes: 'credentials.log', errno: 'ENOSPC', shortWriteBytes: 30 });
    const failed = run(['cave', 'token', 'create', 'gilt', '--scope', 'read', '--data-dir', data], faulty);
    expect(failed).toEqual({
      code: 1,
      stdout: '',
      stderr: `strata: writing ${logPathOf(data)}: no space left on device; nothing was changed\n`,
    });
    expect(fs.statSync(logPathOf(data)).size).toBe(size);
    expect(reopenedAnswers(data, [first.stdout.trim()])).toEqual(before);

    const again = run(['cave', 'token', 'create', 'gilt', '--scope', 'read', '--data-dir', data], faulty);
    expect(again.code).toBe(0);
    expect(CredentialStore.open(data, { log: () => undefined }).authenticateCaveToken(again.stdout.trim())?.scopes).toEqual(new Set(['read']));
  });

  it('reports a failed fsync the same way, and an injected EIO while reading', () => {
    const data = tempDir();
    const faulty = new FaultyFileSystem();
    expect(run(['onenet', 'product', 'create', 'lamp', '--data-dir', data], faulty).code).toBe(0);
    faulty.inject({ op: 'fsync', pathIncludes: 'credentials.log', errno: 'EIO' });
    const failed = run(['onenet', 'device', 'create', 'lamp', '1', '--data-dir', data], faulty);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/^strata: writing .*credentials\.log: EIO: injected fault, fsync .*; nothing was changed\n$/);
    faulty.inject({ op: 'pread', pathIncludes: 'credentials.log', errno: 'EIO' });
    const list = run(['onenet', 'device', 'list', 'lamp', '--data-dir', data], faulty);
    expect(list.code).toBe(1);
    expect(list.stderr).toContain('EIO');
    expect(run(['onenet', 'device', 'list', 'lamp', '--data-dir', data], faulty)).toMatchObject({ code: 0, stdout: 'ID  CREATED  TITLE\n' });
  });
});
