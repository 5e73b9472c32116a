import type { z } from 'zod';
import { AppError } from './app-error';
import { zodFieldErrors } from './problem';

/** Parses input with a contract schema; a mismatch becomes 422 validation_error with `errors[].path`. */
export function parseWith<S extends z.ZodType>(schema: S, input: unknown, where: 'body' | 'query' | 'path' = 'body'): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const errors = zodFieldErrors(result.error).map((error) => ({
    ...error,
    path: where === 'body' ? error.path : `${where}.${error.path}`,
  }));
  throw new AppError(422, 'validation_error', `The request ${where} is not valid.`, { errors });
}

/** A path id that is not a positive integer names nothing here: 404 rather than 422. */
export function parseIdOr404<S extends z.ZodType>(schema: S, params: unknown, notFound: () => AppError): z.infer<S> {
  const result = schema.safeParse(params);
  if (!result.success) throw notFound();
  return result.data;
}
