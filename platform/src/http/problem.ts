import { STATUS_CODES } from 'node:http';
import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import { PROBLEM_TITLES, type ErrorCode, type Problem } from '@shop/contracts';
import { ZodError } from 'zod';
import type { Logger } from '../logger';
import { AppError, type FieldError } from './app-error';
import { databaseUnavailableError } from './database-unavailable';
import { fromLibraryError } from './library-errors';


const pathOf = (path: readonly PropertyKey[]) => (path.length ? path.map(String).join('.') : '(body)');

/** One entry per problem; an unknown field is named by its own path, so a client can point at it. */
export function zodFieldErrors(error: ZodError): FieldError[] {
  return error.issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({ path: pathOf([...issue.path, key]), message: `unknown field "${key}"` }))
      : [{ path: pathOf(issue.path), message: issue.message }],
  );
}

/** The problem document's `type` and `title`, shared with the raw answers of client-errors.ts. */
export const problemType = (code: ErrorCode) => `https://shop.example/problems/${code.replace(/_/g, '-')}`;
export const problemTitle = (status: number) => PROBLEM_TITLES[status] ?? STATUS_CODES[status] ?? 'Error';

export function sendProblem(res: Response, error: AppError): void {
  const problem: Problem & Record<string, unknown> = {
    type: problemType(error.code),
    title: problemTitle(error.status),
    status: error.status,
    detail: error.message,
    code: error.code,
    ...(res.req?.originalUrl ? { instance: res.req.originalUrl } : {}),
    ...(res.locals.requestId ? { request_id: String(res.locals.requestId) } : {}),
    ...(error.options.errors ? { errors: error.options.errors } : {}),
    ...error.options.extra,
  };
  for (const [name, value] of Object.entries(error.options.headers ?? {})) res.setHeader(name, value);
  res.status(error.status).type('application/problem+json').send(JSON.stringify(problem));
}

/** Maps what express, body-parser and zod throw onto the AppError vocabulary. */
export function toAppError(error: unknown): AppError | undefined {
  if (error instanceof AppError) return error;
  if (error instanceof ZodError) {
    return new AppError(422, 'validation_error', 'The request is not valid.', { errors: zodFieldErrors(error) });
  }
  const database = databaseUnavailableError(error);
  if (database) return database;
  return fromLibraryError(error);
}

/** The one error middleware: every error leaves as RFC 9457 problem+json, unknown ones as 500. */
export function problemHandler(logger: Logger): ErrorRequestHandler {
  return (error, req, res, next) => {
    if (res.headersSent) return next(error);
    const known = toAppError(error);
    if (known) {
      if (known.status >= 500)
        logger.warn('request failed', {
          request_id: res.locals.requestId,
          code: known.code,
          detail: known.message,
          ...(known.cause !== undefined && { cause: String(known.cause) }),
        });
      return sendProblem(res, known);
    }
    logger.error('unhandled error', { request_id: res.locals.requestId, method: req.method, path: req.originalUrl, err: error });
    sendProblem(res, new AppError(500, 'internal_error', 'Something went wrong on our side; the request id helps us find it.'));
  };
}

export const notFoundHandler: RequestHandler = (req, _res, next) =>
  next(new AppError(404, 'not_found', `No route for ${req.method} ${req.path}.`));
