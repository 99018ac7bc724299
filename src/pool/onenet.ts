// Worker side of OneNET (protocols.md §4): decodes uploads and appends them, stores and reads
// binary payloads, answers reads. The route has already checked the api-key against the device
// on the main thread; a task only ever names devices its caller may use. Called from worker.ts,
// which lends its engine and its append.
import * as zlib from 'node:zlib';
import { ValueKind, type Engine, type WriteBatch } from '../../engine/index.js';
import { ServiceError, ServiceErrorCode } from '../errors.js';
import { encodeBinaryIndex, encodeBinaryPayload, type BinaryReading } from '../protocols/onenet/bindata.js';
import { datapointsBatch, decodeDatapoints, parseUploadType, type OneNetPoint } from '../protocols/onenet/datapoints.js';
import { SUCCESS_BODY, successBodyWithData } from '../protocols/onenet/envelope.js';
import { parseDatapointsQuery } from '../protocols/onenet/query.js';
import { parseZoneOffset } from '../protocols/onenet/time.js';
import { binaryExists, oneNetDatapoints, oneNetDatastreams, readBinary } from '../query/onenet.js';
import type { OneNetTask, WorkerResult } from './messages.js';

export interface OneNetWorkerContext {
  readonly engine: Engine;
  /** The configured zone, `±HH:MM` (validated by the config). */
  readonly timeZone: string;
  /** Appends one batch to this worker's shard (the batch lands whole or not at all). */
  append(batch: WriteBatch): void;
  /** Waits for the msyncs the sync policy asks for. */
  settle(): Promise<void>;
}

/** How far a binary upload's time moves forward to find a free millisecond (two uploads in one ms). */
const MAX_BINARY_TIME_PROBES = 1000;

/** The request body, inflated when the client declared an encoding, capped at maxInflatedBytes. */
function bodyOf(task: OneNetTask): Uint8Array {
  const raw = new Uint8Array(task.body, 0, task.bodyBytes);
  if (task.encoding === 'identity') return raw;
  try {
    const options = { maxOutputLength: task.maxInflatedBytes };
    return task.encoding === 'gzip' ? zlib.gunzipSync(raw, options) : zlib.inflateSync(raw, options);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new ServiceError(ServiceErrorCode.BodyTooLarge, `decompressed body exceeds ${task.maxInflatedBytes} bytes`);
    }
    throw new ServiceError(ServiceErrorCode.BadEncoding, `body is not valid ${task.encoding} data`);
  }
}

function ok(body: string | ArrayBuffer, points?: number): WorkerResult {
  return { ok: true, status: 200, body, gzipped: false, ...(points !== undefined ? { points } : {}) };
}

export async function runOneNetTask(task: OneNetTask, ctx: OneNetWorkerContext): Promise<WorkerResult> {
  const offsetMinutes = parseZoneOffset(ctx.timeZone);
  if (offsetMinutes === undefined) throw new ServiceError(ServiceErrorCode.Internal, `onenetTimeZone ${JSON.stringify(ctx.timeZone)} is not ±HH:MM`);
  const nowMs = Date.now();
  switch (task.kind) {
    case 'onenet.upload': {
      const points = decodeDatapoints(bodyOf(task), parseUploadType(task.query), { offsetMinutes, nowMs });
      ctx.append(datapointsBatch(task.deviceId, points));
      await ctx.settle();
      return ok(SUCCESS_BODY, points.length);
    }
    case 'onenet.bindata': {
      const bytes = new Uint8Array(task.body, 0, task.bodyBytes);
      const reading: BinaryReading = { deviceId: task.deviceId, datastreamId: task.datastreamId ?? '', atMs: task.atMs ?? nowMs };
      let atMs = reading.atMs;
      for (let probe = 0; binaryExists(ctx.engine, { ...reading, atMs }); probe++) {
        if (probe >= MAX_BINARY_TIME_PROBES) throw new ServiceError(ServiceErrorCode.Busy, 'too many binary uploads to this datastream at once');
        atMs++;
      }
      const index = encodeBinaryIndex({ ...reading, atMs });
      const points: OneNetPoint[] = [
        // The datastream itself gets the index as its value, so readers of the stream find the upload.
        { stream: reading.datastreamId, timestampMs: atMs, value: { kind: ValueKind.String, text: index } },
        { stream: reading.datastreamId, timestampMs: atMs, value: { kind: ValueKind.Json, text: encodeBinaryPayload(bytes, task.desc ?? '') }, binaryPayload: true },
      ];
      ctx.append(datapointsBatch(task.deviceId, points));
      await ctx.settle();
      return ok(successBodyWithData(`{"index":${JSON.stringify(index)}}`), 1);
    }
    case 'onenet.datapoints':
      return ok(successBodyWithData(oneNetDatapoints(ctx.engine, task.deviceId, parseDatapointsQuery(task.query, offsetMinutes, nowMs), offsetMinutes, nowMs)));
    case 'onenet.datastreams':
      return ok(successBodyWithData(oneNetDatastreams(ctx.engine, task.deviceId, task.query, offsetMinutes)));
    case 'onenet.bindata-read': {
      const bytes = readBinary(ctx.engine, task.candidates ?? []);
      if (bytes === undefined) throw new ServiceError(ServiceErrorCode.NotFound, 'no binary data with this index');
      return ok(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
    }
  }
}
