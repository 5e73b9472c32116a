/**
 * A failure an operator can act on (broker unreachable, no such queue, bad arguments). The CLIs
 * print its message alone and exit non-zero; any other error is a bug and keeps its stack.
 */
export class ToolError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'ToolError';
  }
}
