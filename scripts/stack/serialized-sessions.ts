import { connect, createServer, type Server, type Socket } from "node:net";
import { freePort } from "./free-port.ts";

/** Turns taken one at a time, in the order asked for. */
class Turns {
  #tail: Promise<void> = Promise.resolve();

  /** Resolves with the function that ends the turn, once every earlier turn has ended. */
  take(): Promise<() => void> {
    let end!: () => void;
    const ended = new Promise<void>((resolve) => (end = resolve));
    const turn = this.#tail.then(() => end);
    this.#tail = this.#tail.then(() => ended);
    return turn;
  }
}

const READY_FOR_QUERY = 0x5a; // 'Z'
const IDLE = 0x49; // 'I': not in a transaction

/**
 * Relays one client connection to `upstreamPort`, taking a turn for each of its exchanges: from its first
 * message until the server is ready for a query outside a transaction. Every other connection waits
 * meanwhile, so exchanges and transactions of different connections never interleave on a shared session.
 */
function relay(client: Socket, upstreamPort: number, turns: Turns): void {
  const upstream = connect(upstreamPort, "127.0.0.1");
  let endTurn: (() => void) | null = null;
  let taking = false;
  let closed = false;
  const waiting: Buffer[] = [];
  let partial: Buffer = Buffer.alloc(0);

  const finishTurn = () => {
    const end = endTurn;
    endTurn = null;
    end?.();
  };
  const close = () => {
    if (closed) return;
    closed = true;
    client.destroy();
    upstream.destroy();
    finishTurn();
  };

  client.on("data", (chunk: Buffer) => {
    if (endTurn) {
      upstream.write(chunk);
      return;
    }
    waiting.push(chunk);
    if (taking) return;
    taking = true;
    void turns.take().then((end) => {
      taking = false;
      if (closed) return end();
      endTurn = end;
      for (const data of waiting.splice(0)) upstream.write(data);
    });
  });

  upstream.on("data", (chunk: Buffer) => {
    client.write(chunk);
    // Follow the server's message framing (type byte, int32 length) to see each ReadyForQuery.
    let data = partial.length > 0 ? Buffer.concat([partial, chunk]) : chunk;
    let idle = false;
    while (data.length >= 5 && data.length >= 1 + data.readInt32BE(1)) {
      if (data[0] === READY_FOR_QUERY) idle = data[5] === IDLE;
      data = data.subarray(1 + data.readInt32BE(1));
    }
    partial = data;
    if (idle && waiting.length === 0) finishTurn();
  });

  client.on("close", close);
  upstream.on("close", close);
  client.on("error", close);
  upstream.on("error", close);
}

/**
 * A PostgreSQL-protocol front for a server that runs every connection on one session (the embedded
 * PGlite): each connection's exchanges and transactions run whole, one connection at a time.
 */
export async function serializeSessions(
  upstreamPort: number,
): Promise<{ port: number; close(): Promise<void> }> {
  const turns = new Turns();
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    sockets.add(client);
    client.on("close", () => sockets.delete(client));
    relay(client, upstreamPort, turns);
  });
  const port = await freePort();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
