import { Queue, type ConnectionOptions } from "bullmq";

export const QUEUE_NAMES = {
  notarize: "notarize",
  flushBatch: "flush-batch",
  maintenance: "relayer-maintenance",
  publishOffer: "publish-offer",
  fulfillOrder: "fulfill-order",
  capturePayment: "capture-payment",
  revokeLicense: "revoke-license",
  expireOrders: "expire-orders",
  evidence: "evidence",
} as const;

export interface PublishOfferJob {
  publicationId: string;
}

/** Fulfilment, capture and revocation jobs carry the order they act on. */
export interface OrderJob {
  orderId: string;
}

export interface NotarizeJob {
  contentHash: string;
}

export interface FlushBatchJob {
  reason: "size" | "timer";
}

export interface EvidenceJob {
  requestId: string;
}

export interface Queues {
  notarize: Queue<NotarizeJob>;
  flushBatch: Queue<FlushBatchJob>;
  maintenance: Queue<Record<string, never>>;
  publishOffer: Queue<PublishOfferJob>;
  fulfillOrder: Queue<OrderJob>;
  capturePayment: Queue<OrderJob>;
  revokeLicense: Queue<OrderJob>;
  expireOrders: Queue<Record<string, never>>;
  evidence: Queue<EvidenceJob>;
  close(): Promise<void>;
}

/** BullMQ keys live under `<prefix>:bull`, so several deployments or test files can share one Redis. */
export function bullPrefix(redisPrefix: string): string {
  return `${redisPrefix}:bull`;
}

const DEFAULT_JOB_OPTIONS = {
  attempts: 8,
  backoff: { type: "exponential", delay: 500 },
  removeOnComplete: { age: 24 * 3600, count: 10_000 },
  removeOnFail: { age: 7 * 24 * 3600 },
};

// Waiting for confirmations is an ordinary retry: 1 s doubling to 256 s, 8.5 minutes in all before the request fails.
const EVIDENCE_JOB_OPTIONS = {
  ...DEFAULT_JOB_OPTIONS,
  attempts: 10,
  backoff: { type: "exponential", delay: 1000 },
};

/** The queues the API enqueues into and the workers consume. */
export function createQueues(connection: ConnectionOptions, redisPrefix: string): Queues {
  const prefix = bullPrefix(redisPrefix);
  const options = { connection, prefix, defaultJobOptions: DEFAULT_JOB_OPTIONS };
  const notarize = new Queue<NotarizeJob>(QUEUE_NAMES.notarize, {
    connection,
    prefix,
    defaultJobOptions: DEFAULT_JOB_OPTIONS,
  });
  const flushBatch = new Queue<FlushBatchJob>(QUEUE_NAMES.flushBatch, {
    connection,
    prefix,
    defaultJobOptions: DEFAULT_JOB_OPTIONS,
  });
  const maintenance = new Queue<Record<string, never>>(QUEUE_NAMES.maintenance, {
    connection,
    prefix,
    defaultJobOptions: { removeOnComplete: true, removeOnFail: 100 },
  });
  const evidence = new Queue<EvidenceJob>(QUEUE_NAMES.evidence, {
    connection,
    prefix,
    defaultJobOptions: EVIDENCE_JOB_OPTIONS,
  });
  const commerce = {
    publishOffer: new Queue<PublishOfferJob>(QUEUE_NAMES.publishOffer, options),
    fulfillOrder: new Queue<OrderJob>(QUEUE_NAMES.fulfillOrder, options),
    capturePayment: new Queue<OrderJob>(QUEUE_NAMES.capturePayment, options),
    revokeLicense: new Queue<OrderJob>(QUEUE_NAMES.revokeLicense, options),
    expireOrders: new Queue<Record<string, never>>(QUEUE_NAMES.expireOrders, {
      connection,
      prefix,
      defaultJobOptions: { removeOnComplete: true, removeOnFail: 100 },
    }),
  };
  return {
    notarize,
    flushBatch,
    maintenance,
    evidence,
    ...commerce,
    async close() {
      await Promise.all([
        notarize.close(),
        flushBatch.close(),
        maintenance.close(),
        evidence.close(),
        ...Object.values(commerce).map((q) => q.close()),
      ]);
    },
  };
}
