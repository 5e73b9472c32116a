import { eventually } from '../../src/testing';

describe('eventually', () => {
  test('when a check passes after failing, it resolves with what the check returned', async () => {
    // Arrange
    let tries = 0;
    const check = () => {
      tries++;
      expect(tries).toBeGreaterThanOrEqual(3);
      return `passed on try ${tries}`;
    };

    // Act
    const value = await eventually(check, { intervalMs: 1 });

    // Assert
    expect(value).toBe('passed on try 3');
  });

  test('a probe that returns false is tried again; any other value, undefined included, passes', async () => {
    // Arrange
    const answers: unknown[] = [false, false, undefined];

    // Act
    const value = await eventually(() => answers.shift(), { intervalMs: 1 });

    // Assert
    expect(value).toBeUndefined();
    expect(answers).toEqual([]);
  });

  test('when a check never passes, it fails naming what was awaited and why the last try failed', async () => {
    // Act
    const failure = eventually(() => expect(1).toBe(2), {
      timeoutMs: 50,
      intervalMs: 5,
      description: 'one equals two',
    });

    // Assert
    await expect(failure).rejects.toThrow(
      /^one equals two not met within 50 ms; the last try failed: .*Expected: 2/s,
    );
  });

  test('when a check keeps returning false, the failure says so', async () => {
    await expect(eventually(() => false, { timeoutMs: 30, intervalMs: 5 })).rejects.toThrow(
      'condition not met within 30 ms; the last try returned false',
    );
  });

  test('a check that never settles fails at the timeout instead of hanging the test', async () => {
    await expect(eventually(() => new Promise<never>(() => undefined), { timeoutMs: 30 })).rejects.toThrow(
      'condition not met within 30 ms; the only try was still running at the deadline',
    );
  });

  test('when the last try is cut short by the deadline, the failure still shows the last one that finished', async () => {
    // Arrange: the first try fails at once; the second never settles before the deadline.
    let tries = 0;
    const check = () => {
      tries += 1;
      if (tries === 1) throw new Error('stock was 5, expected 4');
      return new Promise<never>(() => undefined);
    };

    // Act
    const failure = eventually(check, { timeoutMs: 40, intervalMs: 5 });

    // Assert
    await expect(failure).rejects.toThrow(
      'condition not met within 40 ms; the last try was still running at the deadline; the one before failed: stock was 5, expected 4',
    );
  });
});
