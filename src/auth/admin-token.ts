// The admin token's file, `<data>/admin-token`: created with mode 0600 from the first byte
// (O_CREAT|O_EXCL with the mode, then fsync and rename into place), so it is never readable by
// group or others. Uses node:fs directly: the engine's FileSystem facade has no mode argument.
// Holds the secret itself; the credential store holds only its hash.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { credentialIoError } from './errors.js';

export const ADMIN_TOKEN_FILE = 'admin-token';
export const ADMIN_TOKEN_MODE = 0o600;

/** The token in the file (trimmed), or undefined if there is no such file or it is empty. */
export function readAdminTokenFile(filePath: string): string | undefined {
  let text: string;
  try {
    text = fs.readFileSync(filePath, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw credentialIoError(err, `reading ${filePath}`);
  }
  const token = text.trim();
  return token === '' ? undefined : token;
}

/** Mode bits of the file that grant group or others anything (0 when it is private). */
export function adminTokenFileExposure(filePath: string): number {
  return fs.statSync(filePath).mode & 0o077;
}

/**
 * Replaces the file with `token` + newline atomically and durably. The temporary file is created
 * exclusively with mode 0600 (a umask can only narrow it). Throws CredentialError (NoSpace/Io);
 * the old file, if any, is then untouched.
 */
export function writeAdminTokenFile(filePath: string, token: string): void {
  const tmp = `${filePath}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  let fd: number | undefined;
  try {
    fd = fs.openSync(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, ADMIN_TOKEN_MODE);
    fs.writeFileSync(fd, `${token}\n`);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(tmp, filePath);
    const dirFd = fs.openSync(path.dirname(filePath), 'r');
    try {
      fs.fsyncSync(dirFd);
    } finally {
      fs.closeSync(dirFd);
    }
  } catch (err) {
    if (fd !== undefined) fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw credentialIoError(err, `writing ${filePath}`);
  }
}
