// OneNET's envelope: errno per service error code (every code mapped), the exact bodies, and
// errno 1/3 bodies decided by the route.
import { describe, expect, it } from 'vitest';
import { ServiceError, ServiceErrorCode } from '../../../src/errors.js';
import {
  AUTH_FAILED_BODY,
  ONENET_ERRNO_BY_CODE,
  OneNetErrno,
  SUCCESS_BODY,
  errorBody,
  parameterRequiredBody,
  serviceErrorBody,
  successBodyWithData,
} from '../../../src/protocols/onenet/envelope.js';

describe('OneNET envelope', () => {
  it('maps every service error code to an errno', () => {
    for (const code of Object.values(ServiceErrorCode)) expect([6, 7]).toContain(ONENET_ERRNO_BY_CODE[code]);
    expect(ONENET_ERRNO_BY_CODE[ServiceErrorCode.BadRequest]).toBe(OneNetErrno.InvalidParameter);
    expect(ONENET_ERRNO_BY_CODE[ServiceErrorCode.BodyTooLarge]).toBe(OneNetErrno.InvalidParameter);
    expect(ONENET_ERRNO_BY_CODE[ServiceErrorCode.Internal]).toBe(OneNetErrno.InternalError);
    expect(ONENET_ERRNO_BY_CODE[ServiceErrorCode.Busy]).toBe(OneNetErrno.InternalError);
  });

  it('writes the platform bodies byte for byte', () => {
    expect(SUCCESS_BODY).toBe('{"errno":0,"error":"succ"}');
    expect(SUCCESS_BODY.length).toBe(26); // the Content-Length of the platform's transcript
    expect(AUTH_FAILED_BODY).toBe('{"errno":1,"error":"auth failed"}');
    expect(parameterRequiredBody('body')).toBe('{"errno":3,"error":"parameter required: body"}');
    expect(successBodyWithData('{"index":"a_1_b"}')).toBe('{"errno":0,"data":{"index":"a_1_b"},"error":"succ"}');
    expect(errorBody(OneNetErrno.InvalidParameter, 'x "y"')).toBe('{"errno":6,"error":"x \\"y\\""}');
  });

  it('renders service errors with their detail', () => {
    expect(serviceErrorBody(new ServiceError(ServiceErrorCode.BadRequest, 'limit: "0" must be an integer in (0, 6000]'))).toBe(
      '{"errno":6,"error":"invalid parameter: limit: \\"0\\" must be an integer in (0, 6000]"}',
    );
    expect(serviceErrorBody(new ServiceError(ServiceErrorCode.Internal, ['disk', 'full']))).toBe('{"errno":7,"error":"service internal error: disk; full"}');
    expect(serviceErrorBody(new ServiceError(ServiceErrorCode.Busy, []))).toBe('{"errno":7,"error":"service internal error"}');
  });
});
