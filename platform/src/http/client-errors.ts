import { STATUS_CODES, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ErrorCode, Problem } from '@shop/contracts';
import { problemTitle, problemType } from './problem';

/** What Node's HTTP parser reports, as SPEC §4's problems. Anything else it refuses is a 400. */
const ANSWERS: Record<string, { status: number; code: ErrorCode; detail: string }> = {
  HPE_HEADER_OVERFLOW: {
    status: 431,
    code: 'headers_too_large',
    detail: 'The request header section is larger than the server accepts; send fewer or shorter headers.',
  },
  HPE_CHUNK_EXTENSIONS_OVERFLOW: {
    status: 413,
    code: 'payload_too_large',
    detail: 'The chunk extensions of the request body are too large.',
  },
  ERR_HTTP_REQUEST_TIMEOUT: {
    status: 408,
    code: 'request_timeout',
    detail: 'The request was not received in time.',
  },
};
const NOT_HTTP = {
  status: 400,
  code: 'bad_request' as ErrorCode,
  detail: 'The request is not valid HTTP/1.1.',
};

/**
 * A request Node's HTTP parser refuses (a header section over the limit, a malformed request line,
 * bytes that are not HTTP) never reaches express: Node answers it itself with a bare status line
 * and an empty body, or nothing. With this `clientError` listener it gets the same problem+json
 * as every other error, then the connection is closed (the parser cannot go on after an error).
 */
export function answerClientErrors(server: Server): void {
  server.on('clientError', answerClientError);
}

export function answerClientError(
  error: NodeJS.ErrnoException & { rawPacket?: unknown },
  socket: Duplex,
): void {
  // As Node itself does: answer only while no response of this connection has started going out.
  const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (error.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  const { status, code, detail } = ANSWERS[error.code ?? ''] ?? NOT_HTTP;
  const problem: Problem = {
    type: problemType(code),
    title: problemTitle(status),
    status,
    detail,
    code,
  };
  const body = JSON.stringify(problem);
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` +
      'Content-Type: application/problem+json\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Connection: close\r\n\r\n' +
      (isHead(error) ? '' : body),
    () => socket.destroy(),
  );
}

/**
 * A response to HEAD has no body, and a client reading one would take the body for a broken next
 * response. The parser gives up before the request exists, but the bytes it choked on usually
 * start with the request line (a header section over the limit arrives in one read).
 */
const isHead = (error: NodeJS.ErrnoException & { rawPacket?: unknown }) =>
  Buffer.isBuffer(error.rawPacket) && error.rawPacket.subarray(0, 5).toString('latin1') === 'HEAD ';
