/**
 * The benchmarks' chain in a worker thread (bench/lib/indexer-chain.ts): a Hardhat network with
 * the contracts deployed and at least `events` events of trading activity, served over HTTP
 * JSON-RPC — at `url`, and at `${url}/no-log-times` as a node whose logs carry no block time.
 */
import { Worker } from "node:worker_threads";
import type { FromChain, ToChain } from "./indexer-chain.ts";

export type ChainReady = Extract<FromChain, { type: "ready" }>;

export interface ChainWorker {
  ready: ChainReady;
  /** The next message of `type`; rejects if the worker fails first. */
  next<K extends FromChain["type"]>(type: K): Promise<Extract<FromChain, { type: K }>>;
  /** Hears every message from now on. */
  listen(listener: (message: FromChain) => void): void;
  tell(message: ToChain): void;
  stop(): Promise<void>;
}

/** Starts the worker and resolves once its chain holds the events and serves them. */
export async function startChainWorker(events: number): Promise<ChainWorker> {
  const worker = new Worker(new URL("./indexer-chain.ts", import.meta.url), { workerData: { events } });
  const listeners = new Set<(message: FromChain) => void>();
  worker.on("message", (message: FromChain) => listeners.forEach((listener) => listener(message)));
  const failed = new Promise<never>((_, reject) => worker.once("error", reject));
  failed.catch(() => undefined);
  const next = <K extends FromChain["type"]>(type: K) =>
    Promise.race([
      failed,
      new Promise<Extract<FromChain, { type: K }>>((resolve) => {
        const listener = (message: FromChain) => {
          if (message.type !== type) return;
          listeners.delete(listener);
          resolve(message as Extract<FromChain, { type: K }>);
        };
        listeners.add(listener);
      }),
    ]);
  const tell = (message: ToChain) => worker.postMessage(message);
  const ready = await next("ready");
  return {
    ready,
    next,
    listen: (listener) => listeners.add(listener),
    tell,
    async stop() {
      tell({ type: "stop" });
      await worker.terminate();
    },
  };
}
