/**
 * `work`'s answer, or a rejection after `ms`. The work itself is not cancelled: a Redis command keeps
 * its place in the client's queue until the client is destroyed (see `redis-connection.ts`).
 */
export async function answerWithin<T>(ms: number, work: Promise<T> | T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
