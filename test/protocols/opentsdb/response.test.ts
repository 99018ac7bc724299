// The /api/put response matrix (protocols.md §2.2), cell by cell, as OpenTSDB 2.4's
// PutDataPointRpc.processDataPoint answers; query-string flags; the error envelope.
import { describe, expect, it } from 'vitest';
import { ServiceError, ServiceErrorCode } from '../../../src/errors.js';
import {
  METHOD_NOT_ALLOWED_MESSAGE,
  OPENTSDB_STATUS_BY_CODE,
  methodNotAllowedDetails,
  openTsdbErrorBody,
  openTsdbServiceError,
} from '../../../src/protocols/opentsdb/envelope.js';
import { parsePutFlags, renderPutResponse, type OpenTsdbPutFlags, type OpenTsdbWriteOutcome } from '../../../src/protocols/opentsdb/response.js';
import { decode } from './helpers.js';

const GOOD = '{"metric":"sys.cpu","timestamp":1,"value":1,"tags":{"host":"a"}}';
const GOOD2 = '{"metric":"sys.cpu","timestamp":2,"value":2.5,"tags":{"host":"a"}}';
const BAD = '{"metric":"sys.cpu","timestamp":0,"value":1,"tags":{"host":"a"}}';
const BAD_ECHO = '{"metric":"sys.cpu","timestamp":0,"value":"1","tags":{"host":"a"}}';
const ECHO1 = '{"metric":"sys.cpu","timestamp":1,"value":"1","tags":{"host":"a"}}';
const ECHO2 = '{"metric":"sys.cpu","timestamp":2,"value":"2.5","tags":{"host":"a"}}';

const POINT_ERRORS = '{"error":{"code":400,"message":"One or more data points had errors","details":"Please see the TSD logs or append \\"details\\" to the put request"}}';

function respond(body: string, query: string, writes?: OpenTsdbWriteOutcome): { status: number; body: string } {
  const flags = parsePutFlags(new URLSearchParams(query));
  const { result } = decode(body, { request: { details: flags.details, echoAccepted: flags.details && flags.sync, discardPoints: flags.syncTimeoutError !== null } });
  return renderPutResponse(result, flags, writes);
}

describe('response matrix', () => {
  it('no flags: 204 with no body when all succeed', () => {
    expect(respond(`[${GOOD},${GOOD2}]`, '')).toEqual({ status: 204, body: '' });
  });

  it('no flags: 400 error object when any point failed', () => {
    expect(respond(`[${GOOD},${BAD}]`, '')).toEqual({ status: 400, body: POINT_ERRORS });
  });

  it('summary: 200 {"success":n,"failed":0}; 400 with the same keys when some failed (Java HashMap key order)', () => {
    expect(respond(`[${GOOD},${GOOD2}]`, 'summary')).toEqual({ status: 200, body: '{"success":2,"failed":0}' });
    expect(respond(`[${GOOD},${BAD}]`, 'summary=true')).toEqual({ status: 400, body: '{"success":1,"failed":1}' });
    expect(respond(`[${BAD}]`, 'summary')).toEqual({ status: 400, body: '{"success":0,"failed":1}' });
  });

  it('details: 200 with an empty errors array; 400 listing {"datapoint":…,"error":…} entries in body order', () => {
    expect(respond(GOOD, 'details')).toEqual({ status: 200, body: '{"success":1,"failed":0,"errors":[]}' });
    expect(respond(`[${BAD},${GOOD},{}]`, 'details&summary')).toEqual({
      status: 400,
      body: `{"success":1,"failed":2,"errors":[{"datapoint":${BAD_ECHO},"error":"Invalid timestamp"},{"datapoint":{"timestamp":0},"error":"Metric name was empty"}]}`,
    });
    expect(respond('[null]', 'details')).toEqual({ status: 400, body: '{"success":0,"failed":1,"errors":[{"datapoint":null,"error":"Unexpected exception"}]}' });
  });

  it('sync with storage failures only: summary/details stay 200 with failed > 0; no flags is 400', () => {
    const writes = { failed: 1, timedOut: 0, message: 'disk full' };
    expect(respond(`[${GOOD},${GOOD2}]`, 'sync&summary', writes)).toEqual({ status: 200, body: '{"success":1,"failed":1}' });
    expect(respond(`[${GOOD},${GOOD2}]`, 'sync&details', writes)).toEqual({
      status: 200,
      body: `{"success":1,"failed":1,"errors":[{"datapoint":${ECHO2},"error":"Storage exception: disk full"}]}`,
    });
    expect(respond(`[${GOOD},${GOOD2}]`, 'sync', writes)).toEqual({ status: 400, body: POINT_ERRORS });
    expect(respond(`[${GOOD},${GOOD2}]`, 'sync', { failed: 0, timedOut: 0, message: '' })).toEqual({ status: 204, body: '' });
  });

  it('sync with storage and validation failures: 400, validation entries first', () => {
    const writes = { failed: 1, timedOut: 0, message: 'disk full' };
    expect(respond(`[${GOOD},${BAD}]`, 'sync&details', writes)).toEqual({
      status: 400,
      body: `{"success":0,"failed":2,"errors":[{"datapoint":${BAD_ECHO},"error":"Invalid timestamp"},{"datapoint":${ECHO1},"error":"Storage exception: disk full"}]}`,
    });
  });

  it('without sync, write outcomes are not reported (OpenTSDB answers before the writes)', () => {
    const writes = { failed: 2, timedOut: 1, message: 'x' };
    expect(respond(`[${GOOD},${GOOD2}]`, 'summary&sync_timeout=100', writes)).toEqual({ status: 200, body: '{"success":2,"timeouts":0,"failed":0}' });
    expect(respond(`[${GOOD},${GOOD2}]`, '', writes)).toEqual({ status: 204, body: '' });
  });

  it('sync_timeout > 0 adds "timeouts":0 to a summary answered in time', () => {
    expect(respond(GOOD, 'sync&sync_timeout=500&summary', { failed: 0, timedOut: 0, message: '' })).toEqual({
      status: 200,
      body: '{"success":1,"timeouts":0,"failed":0}',
    });
    expect(respond(GOOD, 'sync&sync_timeout=0&summary', { failed: 0, timedOut: 0, message: '' })).toEqual({ status: 200, body: '{"success":1,"failed":0}' });
  });

  it('sync + sync_timeout elapsed: 400 timed-out message without flags, summary with "timeouts" otherwise', () => {
    const writes = { failed: 0, timedOut: 1, message: '' };
    expect(respond(`[${GOOD},${GOOD2}]`, 'sync&sync_timeout=10', writes)).toEqual({
      status: 400,
      body: '{"error":{"code":400,"message":"The put call has timedout with 1 successful writes, 0 failed writes and 1 timed out writes.","details":"Please see the TSD logs or append \\"details\\" to the put request"}}',
    });
    expect(respond(`[${GOOD},${GOOD2},${BAD}]`, 'sync&sync_timeout=10&summary', writes)).toEqual({
      status: 400,
      body: '{"success":1,"timeouts":1,"failed":1}',
    });
    expect(respond(`[${GOOD},${GOOD2}]`, 'sync&sync_timeout=10&details', writes)).toEqual({
      status: 400,
      body: `{"success":1,"timeouts":1,"failed":0,"errors":[{"datapoint":${ECHO2},"error":"Write timedout"}]}`,
    });
    // Timed-out writes need a sync_timeout to be reported.
    expect(respond(`[${GOOD},${GOOD2}]`, 'sync&summary', writes)).toEqual({ status: 200, body: '{"success":2,"failed":0}' });
  });

  it('body errors use the envelope whatever the flags', () => {
    expect(respond('', 'details')).toEqual({ status: 400, body: '{"error":{"code":400,"message":"Missing request content"}}' });
    expect(respond('blah', '')).toEqual({ status: 400, body: '{"error":{"code":400,"message":"The JSON must start as an object or an array"}}' });
    expect(respond('[]', 'summary')).toEqual({ status: 400, body: '{"error":{"code":400,"message":"No datapoints found in content"}}' });
    const r = respond('{"metric":{}}', '');
    expect(r.status).toBe(400);
    expect(JSON.parse(r.body)).toEqual({
      error: {
        code: 400,
        message: 'Unable to parse the given JSON',
        details:
          'com.fasterxml.jackson.databind.exc.MismatchedInputException: Cannot deserialize instance of `java.lang.String` out of START_OBJECT token\n at [Source: UNKNOWN; line: 1, column: 11] (through reference chain: net.opentsdb.core.IncomingDataPoint["metric"])',
      },
    });
  });

  it('an invalid sync_timeout is 500 after the body checks', () => {
    expect(respond(GOOD, 'sync_timeout=abc')).toEqual({ status: 500, body: '{"error":{"code":500,"message":"For input string: \\"abc\\""}}' });
    expect(respond(GOOD, 'sync_timeout')).toEqual({ status: 500, body: '{"error":{"code":500,"message":"For input string: \\"\\""}}' });
    expect(respond('[]', 'sync_timeout=abc').status).toBe(400);
  });

  it('jsonp wraps bodies and errors', () => {
    expect(respond(GOOD, 'summary&jsonp=cb')).toEqual({ status: 200, body: 'cb({"success":1,"failed":0})' });
    expect(respond(BAD, 'jsonp=cb').body).toBe(`cb(${POINT_ERRORS})`);
    expect(respond(GOOD, 'jsonp=cb')).toEqual({ status: 204, body: '' });
    expect(respond(GOOD, 'summary&jsonp=')).toEqual({ status: 200, body: '{"success":1,"failed":0}' });
  });
});

describe('parsePutFlags', () => {
  it('presence decides; the last sync_timeout wins; negative means none', () => {
    const f = (q: string): OpenTsdbPutFlags => parsePutFlags(new URLSearchParams(q));
    expect(f('')).toEqual({ summary: false, details: false, sync: false, syncTimeoutMs: 0, syncTimeoutError: null, jsonp: null });
    expect(f('summary=false&details=0&sync=no')).toMatchObject({ summary: true, details: true, sync: true });
    expect(f('sync_timeout=5&sync_timeout=%2B70')).toMatchObject({ syncTimeoutMs: 70, syncTimeoutError: null });
    expect(f('sync_timeout=-1')).toMatchObject({ syncTimeoutMs: 0, syncTimeoutError: null });
    expect(f('sync_timeout=2147483648')).toMatchObject({ syncTimeoutError: 'For input string: "2147483648"' });
    expect(f('jsonp=a&jsonp=b')).toMatchObject({ jsonp: 'b' });
  });
});

describe('error envelope', () => {
  it('writes code, message, details in that order, details only when non-empty, no trace', () => {
    expect(openTsdbErrorBody(405, METHOD_NOT_ALLOWED_MESSAGE, methodNotAllowedDetails('get'))).toBe(
      '{"error":{"code":405,"message":"Method not allowed","details":"The HTTP method [GET] is not permitted for this endpoint"}}',
    );
    expect(openTsdbErrorBody(400, 'a\nb "c"')).toBe('{"error":{"code":400,"message":"a\\nb \\"c\\""}}');
    expect(openTsdbErrorBody(400, 'm', '', 'cb')).toBe('cb({"error":{"code":400,"message":"m"}})');
  });

  it('maps every service error code to a status', () => {
    for (const code of Object.values(ServiceErrorCode)) expect(OPENTSDB_STATUS_BY_CODE[code]).toBeGreaterThanOrEqual(400);
    expect(openTsdbServiceError(new ServiceError(ServiceErrorCode.BodyTooLarge, ['Body too large', 'limit 1 MiB']))).toEqual({
      status: 413,
      body: '{"error":{"code":413,"message":"Body too large","details":"limit 1 MiB"}}',
    });
    expect(openTsdbServiceError(new ServiceError(ServiceErrorCode.Busy, 'busy'))).toEqual({ status: 503, body: '{"error":{"code":503,"message":"busy"}}' });
  });
});
