import { connect, createServer, type Socket } from 'node:net';
import { throughLocalPort } from '@shop/platform/testing';

/**
 * A TCP hop to a Redis server that the test can freeze: connections stay open but the server's
 * answers are held back, as when Redis is paused (SIGSTOP) or a network drops packets without a
 * reset; `thaw` delivers the held answers, as a resumed Redis would. The hop reads the commands a
 * client sends while frozen, so a test can see what the client asked of a server that does not answer.
 */
export interface FreezableTcpHop {
  url(target: string): string;
  freeze(): void;
  thaw(): void;
  /** The name of each command sent while frozen (`EVALSHA`, `PING`, …), on every connection. */
  sentWhileFrozen(): string[];
  /** Commands sent while frozen on connections the client still holds open: each waits for its answer. */
  waitingForAnswers(): number;
  /** Connections the client itself closed while frozen. */
  droppedByClientWhileFrozen(): number;
  close(): Promise<void>;
}

/** A RESP command as a client sends it: an array header, then its first bulk string, the name. */
const COMMAND_NAME = /\*\d+\r\n\$\d+\r\n([^\r]+)\r\n/g;
const namesIn = (sent: string) => [...sent.matchAll(COMMAND_NAME)].map((match) => match[1]);

interface Hop {
  client: Socket;
  sentWhileFrozen: string;
  heldAnswers: Buffer[];
}

export async function createFreezableTcpHop(
  targetHost: string,
  targetPort: number,
): Promise<FreezableTcpHop> {
  const sockets = new Set<Socket>();
  const hops = new Set<Hop>();
  const sentOnClosedHops: string[] = [];
  let dropped = 0;
  let frozen = false;
  const server = createServer((client) => {
    const upstream = connect(targetPort, targetHost);
    const hop: Hop = { client, sentWhileFrozen: '', heldAnswers: [] };
    hops.add(hop);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
    }
    client.pipe(upstream);
    client.on('data', (command: Buffer) => {
      if (frozen) hop.sentWhileFrozen += command.toString('latin1');
    });
    upstream.on('data', (answer: Buffer) => {
      if (frozen) hop.heldAnswers.push(answer);
      else client.write(answer);
    });
    client.on('close', () => {
      if (frozen && !upstream.destroyed) dropped += 1;
      hops.delete(hop);
      sentOnClosedHops.push(...namesIn(hop.sentWhileFrozen));
      upstream.destroy();
    });
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: (target) => throughLocalPort(target, port),
    freeze: () => {
      frozen = true;
    },
    thaw: () => {
      frozen = false;
      for (const hop of hops) {
        for (const answer of hop.heldAnswers.splice(0)) hop.client.write(answer);
        sentOnClosedHops.push(...namesIn(hop.sentWhileFrozen));
        hop.sentWhileFrozen = '';
      }
    },
    sentWhileFrozen: () => [...sentOnClosedHops, ...[...hops].flatMap((hop) => namesIn(hop.sentWhileFrozen))],
    waitingForAnswers: () => [...hops].reduce((sum, hop) => sum + namesIn(hop.sentWhileFrozen).length, 0),
    droppedByClientWhileFrozen: () => dropped,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
