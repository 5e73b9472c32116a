import type { ErrorCode } from '@shop/contracts';

export interface FieldError {
  path: string;
  message: string;
}

/**
 * The one error type services throw for anything a client should see. `code` is stable and
 * documented (SPEC §4); `extra` adds fields to the problem document (e.g. shortages).
 */
export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly options: { errors?: FieldError[]; extra?: Record<string, unknown>; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.name = 'AppError';
  }

  static notFound(code: ErrorCode, message: string) {
    return new AppError(404, code, message);
  }
}
