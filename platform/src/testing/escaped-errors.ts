/**
 * Collects every error that escapes to the process (`uncaughtException`, `unhandledRejection`)
 * during each test of the calling `describe` block, emptied before each test. A dying connection must
 * fail the work that used it, never end the process: a test asserts this list stays empty. Jest would
 * otherwise fail the whole file on such an error, hiding which step let it through.
 */
export function collectEscapedErrors(): { errors: unknown[]; messages(): string[] } {
  const errors: unknown[] = [];
  const record = (error: unknown) => errors.push(error);
  beforeEach(() => {
    errors.length = 0;
    process.on('uncaughtException', record);
    process.on('unhandledRejection', record);
  });
  afterEach(() => {
    process.removeListener('uncaughtException', record);
    process.removeListener('unhandledRejection', record);
  });
  return { errors, messages: () => errors.map((error) => String((error as Error)?.message ?? error)) };
}
