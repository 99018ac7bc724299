// Engine errors as values with stable codes (docs/errors.md). Each says whether the shard that
// raised it is still usable, so callers know whether to retry, refuse, or stop writing there.

export const EngineErrorCode = {
  /** Bytes on disk fail a check (magic, CRC, bounds). Carries file and offset. */
  Corruption: 'STRATA_CORRUPTION',
  /** The disk is full; the shard stays consistent and accepts appends once space is back. */
  NoSpace: 'STRATA_NO_SPACE',
  /** Any other I/O failure (EIO, fsync failure); the shard stays consistent. */
  Io: 'STRATA_IO',
  /** The batch breaks an engine rule (bad timestamp, oversized key, wrong column lengths). */
  InvalidBatch: 'STRATA_INVALID_BATCH',
  /** The engine or shard is closed, or the shard is claimed by another writer. */
  Closed: 'STRATA_CLOSED',
  ShardBusy: 'STRATA_SHARD_BUSY',
} as const;
export type EngineErrorCode = (typeof EngineErrorCode)[keyof typeof EngineErrorCode];

export class EngineError extends Error {
  readonly code: EngineErrorCode;
  /** True when the shard can keep serving after this error (false means: stop writing to it). */
  readonly shardUsable: boolean;

  constructor(code: EngineErrorCode, message: string, shardUsable: boolean, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EngineError';
    this.code = code;
    this.shardUsable = shardUsable;
  }
}

/** A checksum, magic or bounds failure at a known place in a known file. */
export class CorruptionError extends EngineError {
  readonly file: string;
  readonly offset: number;

  constructor(file: string, offset: number, reason: string) {
    super(EngineErrorCode.Corruption, `${file} at offset ${offset}: ${reason}`, false);
    this.name = 'CorruptionError';
    this.file = file;
    this.offset = offset;
  }
}

/** Maps a Node system error from the fs facade to a typed engine error. */
export function fromSystemError(err: unknown, what: string): EngineError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new EngineError(EngineErrorCode.NoSpace, `${what}: no space left on device`, true, { cause: err });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new EngineError(EngineErrorCode.Io, `${what}: ${message}`, true, { cause: err });
}
