import express, { type RequestHandler } from 'express';
import { AppError } from './app-error';

export const MAX_BODY_BYTES = '64kb';

/**
 * JSON bodies only: a write with another content type is 415, a body that is not JSON is
 * 400 malformed_json, and anything over the limit is 413 — before any handler runs.
 */
export function jsonBody(limit = MAX_BODY_BYTES): RequestHandler[] {
  const requireJson: RequestHandler = (req, _res, next) => {
    const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
    if (hasBody && !req.is(['application/json', 'application/*+json'])) {
      return next(new AppError(415, 'unsupported_media_type', 'Send the body as application/json.'));
    }
    next();
  };
  return [requireJson, express.json({ limit, strict: true, type: ['application/json', 'application/*+json'] })];
}
