// Keeps docs/errors.md and the engine's error codes in step (as fastify does for its errors).
import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EngineError, EngineErrorCode, fromSystemError } from '../../engine/errors.js';

describe('engine error codes', () => {
  it('are each documented in docs/errors.md, and nothing else is', () => {
    const doc = fs.readFileSync('docs/errors.md', 'utf8');
    const documented = [...doc.matchAll(/^\| `(STRATA_[A-Z_]+)`/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual(Object.values(EngineErrorCode).sort());
  });

  it('maps system errors to typed errors that keep the shard usable', () => {
    const enospc = Object.assign(new Error('ENOSPC: no space left'), { code: 'ENOSPC' });
    const eio = Object.assign(new Error('EIO: i/o error'), { code: 'EIO' });
    expect(fromSystemError(enospc, 'x')).toMatchObject({ code: EngineErrorCode.NoSpace, shardUsable: true });
    expect(fromSystemError(eio, 'x')).toMatchObject({ code: EngineErrorCode.Io, shardUsable: true });
    expect(fromSystemError(eio, 'x')).toBeInstanceOf(EngineError);
  });
});
