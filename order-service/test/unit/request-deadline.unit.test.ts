import { retryAfterSeconds, timeLeftMs } from '../../src/domain/request-deadline';

describe('a request deadline', () => {
  test.each([
    [10_000, 1_000, 9_000],
    [10_000, 10_000, 0],
    [10_000, 12_000, 0],
  ])('with the deadline at %i ms, at %i ms there are %i ms left', (deadline, now, left) => {
    expect(timeLeftMs(deadline, now)).toBe(left);
  });

  test.each([
    [7_200, 8],
    [8_000, 8],
    [1, 1],
    [0, 1],
    [-50, 1],
  ])('a claim free in %i ms answers Retry-After %i', (ms, seconds) => {
    expect(retryAfterSeconds(ms)).toBe(seconds);
  });
});
