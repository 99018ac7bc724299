// CAVE's envelope: every service error code's status, headers and text in one table.
import { describe, expect, it } from 'vitest';
import { ServiceError, ServiceErrorCode } from '../../../src/errors.js';
import {
  CAVE_INTERNAL_ERROR_MESSAGE,
  CAVE_STATUS_BY_CODE,
  caveForbidden,
  caveNotFound,
  caveServiceError,
  caveUnauthorized,
} from '../../../src/protocols/cave/envelope.js';

describe('CAVE envelope', () => {
  it('maps every code', () => {
    expect(Object.keys(CAVE_STATUS_BY_CODE).sort()).toEqual(Object.values(ServiceErrorCode).sort());
    const answer = (code: ServiceErrorCode, message = 'm'): unknown => caveServiceError(new ServiceError(code, message));
    expect(answer(ServiceErrorCode.BadRequest, 'Bad Request: Invalid Json')).toEqual({ status: 400, headers: [['Content-Type', 'text/plain; charset=utf-8']], body: 'Bad Request: Invalid Json' });
    expect(answer(ServiceErrorCode.BadEncoding, 'Not in GZIP format')).toMatchObject({ status: 400, body: 'Bad Request: Not in GZIP format' });
    expect(answer(ServiceErrorCode.BodyTooLarge)).toEqual({ status: 413, headers: [], body: '' });
    expect(answer(ServiceErrorCode.NotFound)).toEqual({ status: 404, headers: [], body: '' });
    expect(answer(ServiceErrorCode.MethodNotAllowed)).toEqual({ status: 404, headers: [], body: '' });
    expect(answer(ServiceErrorCode.Busy)).toMatchObject({ status: 503, headers: expect.arrayContaining([['Retry-After', '1']]) });
    expect(answer(ServiceErrorCode.ShuttingDown)).toMatchObject({ status: 503, headers: expect.arrayContaining([['Retry-After', '1']]) });
    expect(answer(ServiceErrorCode.Internal, 'disk on fire at /data/x')).toEqual({ status: 500, headers: [['Content-Type', 'text/plain; charset=utf-8']], body: CAVE_INTERNAL_ERROR_MESSAGE });
    expect(CAVE_INTERNAL_ERROR_MESSAGE).toBe("Oops! We've experienced an internal error. Please try your request again later.");
  });

  it('refusals: 401 with the Basic challenge, 403 and 404 empty', () => {
    expect(caveUnauthorized()).toEqual({ status: 401, headers: [['WWW-Authenticate', 'Basic realm="Restricted"']], body: '' });
    expect(caveForbidden()).toEqual({ status: 403, headers: [], body: '' });
    expect(caveNotFound()).toEqual({ status: 404, headers: [], body: '' });
  });
});
