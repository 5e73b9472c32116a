import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';

/** A longer body is not kept: such a request that could not be connected answers 503 rather than moving on. */
const MAX_COPIED_BYTES = 1024 * 1024;

export interface BodyCopy {
  /** The connection to a service is open, so the body can no longer need sending again: the copy is dropped. */
  release(): void;
  /**
   * The whole body as a new stream, once all of it has arrived; undefined when the copy was dropped,
   * the client went away, or the rest did not arrive within `timeoutMs`.
   */
  replay(timeoutMs: number): Promise<Readable | undefined>;
}

/**
 * Keeps a copy of a request's body, as it streams to a service, until the connection to that service
 * is open (on a reused keep-alive socket, at once). A connection that never opened never carried the
 * request, so the request can go, body and all, to another instance; one that was open may have
 * carried it, and is never sent twice.
 *
 * Call it before the body is piped anywhere (service-proxy.ts does, before its first forward): both
 * then see every chunk from the first.
 */
export function copyBody(req: IncomingMessage): BodyCopy {
  let chunks: Buffer[] | undefined = [];
  let size = 0;
  const release = () => {
    chunks = undefined;
    req.off('data', onData);
  };
  const onData = (chunk: Buffer) => {
    size += chunk.length;
    if (size > MAX_COPIED_BYTES) return release();
    chunks?.push(chunk);
  };
  req.on('data', onData);

  return {
    release,
    async replay(timeoutMs) {
      if (!req.readableEnded) {
        // Unpiped from the failed connection, the request is paused; the rest of its body must still
        // arrive, but a client that stops sending must not hold the request (and its copy) for ever.
        req.resume();
        const whole = await finished(req, { cleanup: true, signal: AbortSignal.timeout(timeoutMs) }).then(
          () => true,
          () => false,
        );
        if (!whole) return undefined;
      }
      return chunks && Readable.from(chunks, { objectMode: false });
    },
  };
}
