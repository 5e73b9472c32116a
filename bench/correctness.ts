/** A failed correctness check: the run exits non-zero, whatever its speed. */
export class CorrectnessError extends Error {
  override name = 'CorrectnessError';
}
