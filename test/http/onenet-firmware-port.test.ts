// The firmware port's request-head normaliser: HTTP/1.0 to 1.1, headers without spaces, bare LF,
// leading stray CR/LFs, Host added, Connection forced to close upstream, keep-alive for the
// client, Content-Length and chunked framing, and what it refuses.
import { describe, expect, it } from 'vitest';
import { MAX_HEAD_BYTES, parseFirmwareHead, withConnectionClose, type FirmwareHead } from '../../src/http/onenet-firmware-port.js';

const head = (text: string): FirmwareHead => {
  const r = parseFirmwareHead(Buffer.from(text, 'latin1'));
  if (!('upstreamHead' in r)) throw new Error(JSON.stringify(r));
  return r;
};

describe('parseFirmwareHead', () => {
  it('rewrites a firmware HTTP/1.0 head for uWS', () => {
    const text = 'POST /devices/123/datapoints?type=5 HTTP/1.0\r\napi-key:KEY\r\nHost:api.heclouds.com\r\nContent-Length:54\r\n\r\nBODY';
    expect(head(text)).toEqual({
      consumedBytes: text.length - 4,
      upstreamHead: 'POST /devices/123/datapoints?type=5 HTTP/1.1\r\napi-key: KEY\r\nHost: api.heclouds.com\r\nContent-Length: 54\r\nConnection: close\r\n\r\n',
      body: 54,
      keepAlive: false,
    });
  });
  it('skips leading CR/LFs, reads bare LF lines, adds a Host', () => {
    const h = head('\r\n\r\nGET /x HTTP/1.0\napi-key:K\n\n');
    expect(h.upstreamHead).toBe('GET /x HTTP/1.1\r\napi-key: K\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    expect(h.consumedBytes).toBe('\r\n\r\nGET /x HTTP/1.0\napi-key:K\n\n'.length);
    expect(h.body).toBe(0);
  });
  it('keep-alive: HTTP/1.1 unless Connection: close; HTTP/1.0 only with keep-alive', () => {
    expect(head('GET / HTTP/1.1\r\nHost: x\r\n\r\n').keepAlive).toBe(true);
    expect(head('GET / HTTP/1.1\r\nConnection: Close\r\n\r\n').keepAlive).toBe(false);
    expect(head('GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n').keepAlive).toBe(true);
    expect(head('GET / HTTP/1.0\r\n\r\n').keepAlive).toBe(false);
    expect(head('GET / HTTP/1.1\r\nConnection: keep-alive\r\n\r\n').upstreamHead).toBe('GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
  });
  it('chunked bodies take the rest of the connection', () => {
    expect(head('POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n')).toMatchObject({ body: 'chunked', keepAlive: false });
  });
  it('waits for the blank line, refuses what is not a request head', () => {
    expect(parseFirmwareHead(Buffer.from('POST /a HTTP/1.0\r\nHost: x\r\n'))).toEqual({ incomplete: true });
    expect(parseFirmwareHead(Buffer.from('\r\n\r\n'))).toEqual({ incomplete: true });
    expect(parseFirmwareHead(Buffer.from('hello there\r\n\r\n'))).toEqual({ error: 'malformed request line' });
    expect(parseFirmwareHead(Buffer.from('GET / HTTP/2.0\r\n\r\n'))).toEqual({ error: 'malformed request line' });
    expect(parseFirmwareHead(Buffer.from('GET / HTTP/1.1\r\nno colon\r\n\r\n'))).toMatchObject({ error: expect.stringContaining('malformed header line') });
    expect(parseFirmwareHead(Buffer.from('POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n'))).toEqual({ error: 'bad Content-Length' });
    expect(parseFirmwareHead(Buffer.from('POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n'))).toEqual({ error: 'bad Content-Length' });
    expect(parseFirmwareHead(Buffer.from(`GET / HTTP/1.1\r\nX: ${'a'.repeat(MAX_HEAD_BYTES)}`))).toEqual({ error: 'request head too large' });
  });
});

describe('withConnectionClose', () => {
  it('adds Connection: close to a response head without one', () => {
    expect(withConnectionClose('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}')).toBe('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}');
    expect(withConnectionClose('HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n')).toBe('HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n');
  });
});
