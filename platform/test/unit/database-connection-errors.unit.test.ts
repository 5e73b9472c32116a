import { describeDatabaseError, isDatabaseUnavailable } from '../../src/database-connection-errors';

/** Errors shaped as node-postgres and Node's sockets make them (the integration tests provoke the real ones). */
const pgError = (message: string, code: string) => Object.assign(new Error(message), { code });
const socketError = (code: string, address: string) =>
  Object.assign(new Error(`connect ${code} ${address}`), { code, errno: -111, syscall: 'connect' });

describe('telling a lost database from a failed statement', () => {
  test.each([
    [
      'the server terminated the connection (57P01)',
      pgError('terminating connection due to administrator command', '57P01'),
    ],
    [
      'the server crashed (57P02)',
      pgError('terminating connection because of crash of another server process', '57P02'),
    ],
    ['the server is starting up (57P03)', pgError('the database system is starting up', '57P03')],
    ['too many connections (53300)', pgError('sorry, too many clients already', '53300')],
    ['a connection exception (class 08)', pgError('connection failure', '08006')],
    ['the connection was refused', socketError('ECONNREFUSED', '127.0.0.1:5432')],
    ['the connection was reset', socketError('ECONNRESET', '127.0.0.1:5432')],
    ['node-postgres lost the connection', new Error('Connection terminated unexpectedly')],
    [
      'node-postgres has a dead client',
      new Error('Client has encountered a connection error and is not queryable'),
    ],
    ['the pool timed out connecting', new Error('timeout exceeded when trying to connect')],
    [
      'every address of the host refused (AggregateError)',
      new AggregateError([
        socketError('ECONNREFUSED', '::1:5432'),
        socketError('ECONNREFUSED', '127.0.0.1:5432'),
      ]),
    ],
    [
      'a wrapper whose cause is a lost connection',
      new Error('the transaction failed', { cause: new Error('Connection terminated unexpectedly') }),
    ],
  ])('%s is the database being unavailable', (_case, error) => {
    expect(isDatabaseUnavailable(error)).toBe(true);
  });

  test.each([
    ['a missing table (42P01)', pgError('relation "no_such_table" does not exist', '42P01')],
    [
      'a unique violation (23505)',
      pgError('duplicate key value violates unique constraint "notes_pkey"', '23505'),
    ],
    [
      'a serialization failure (40001)',
      pgError('could not serialize access due to concurrent update', '40001'),
    ],
    ['an error of our own', new Error('the decision failed')],
    ['something that is not an error', 'Connection terminated'],
    ['nothing', undefined],
  ])('%s is not', (_case, error) => {
    expect(isDatabaseUnavailable(error)).toBe(false);
  });

  test('the log line names the innermost layer that says what happened, with its code', () => {
    const wrapped = new Error('the transaction failed', {
      cause: pgError('terminating connection due to administrator command', '57P01'),
    });

    expect(describeDatabaseError(wrapped)).toBe(
      'terminating connection due to administrator command (57P01)',
    );
  });

  test('the log line of a refused multi-address connection names a refused address, not an empty message', () => {
    const refused = new AggregateError([socketError('ECONNREFUSED', '127.0.0.1:5432')]);

    expect(describeDatabaseError(refused)).toBe('connect ECONNREFUSED 127.0.0.1:5432');
  });
});
