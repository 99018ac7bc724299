// Structured logging: one JSON object per line on stderr, so stdout carries only the start-up
// line ({"event":"listening",...}) that scripts and tests read. Never throws.
import type { EngineEvent } from '../engine/index.js';

export type LogLevel = 'info' | 'warn' | 'error';
export interface LogEvent {
  readonly level?: LogLevel;
  readonly event: string;
  readonly [field: string]: unknown;
}

export function log(event: LogEvent | EngineEvent): void {
  try {
    process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level: 'info', ...event })}\n`);
  } catch {
    // A closed stderr must not take the server down.
  }
}
