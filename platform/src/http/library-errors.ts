import type { ErrorCode } from '@shop/contracts';
import { AppError } from './app-error';

/** The code a client switches on for a 4xx status some library chose (http-errors' `status`). */
const CODE_BY_STATUS: Partial<Record<number, ErrorCode>> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  408: 'request_timeout',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
  431: 'headers_too_large',
};

interface LibraryError {
  name?: unknown;
  type?: unknown;
  code?: unknown;
  status?: unknown;
  statusCode?: unknown;
  expose?: unknown;
  message?: unknown;
}

const clientStatusOf = (error: LibraryError): number | undefined => {
  const status = error.status ?? error.statusCode;
  return typeof status === 'number' && Number.isInteger(status) && status >= 400 && status < 500
    ? status
    : undefined;
};

/**
 * What express, the router, body-parser and raw-body throw about a request they could not take in.
 * They mark the client's mistakes with a 4xx `status` (http-errors); that status is kept, so a
 * broken gzip body or a bad percent-escape in a path is the client's 400, not our 500. A 5xx
 * they attach (e.g. `stream.encoding.set`) is a bug on our side and stays unknown, hence 500.
 */
export function fromLibraryError(error: unknown): AppError | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const candidate = error as LibraryError;
  // decodeURIComponent on client text (a query value, a header) throws a bare URIError.
  if (error instanceof URIError || candidate.name === 'URIError') {
    return new AppError(400, 'bad_request', 'The request contains a malformed percent-escape.');
  }
  switch (candidate.type) {
    case 'entity.parse.failed':
      return new AppError(400, 'malformed_json', 'The request body is not valid JSON.');
    case 'entity.too.large':
      return new AppError(413, 'payload_too_large', 'The request body is too large.');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new AppError(415, 'unsupported_media_type', messageOf(candidate) ?? 'Unsupported encoding.');
  }
  const status = clientStatusOf(candidate);
  if (status === undefined) return undefined;
  return new AppError(status, CODE_BY_STATUS[status] ?? 'bad_request', detailOf(status, candidate));
}

function detailOf(status: number, error: LibraryError): string {
  // zlib's own words ("incorrect header check") do not tell a client what to fix.
  if (typeof error.code === 'string' && error.code.startsWith('Z_')) {
    return 'The request body could not be decoded with its Content-Encoding.';
  }
  // e.g. the router's "Failed to decode param '%ff'".
  return messageOf(error) ?? `The request could not be processed (${status}).`;
}

/** http-errors marks which messages are safe to show (`expose`, true for 4xx). */
const messageOf = (error: LibraryError): string | undefined =>
  error.expose !== false && typeof error.message === 'string' && error.message.length > 0
    ? error.message
    : undefined;
