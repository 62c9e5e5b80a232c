import { Queue, type ConnectionOptions, type WorkerOptions } from "bullmq";

export const QUEUE_NAMES = {
  notarize: "notarize",
  flushBatch: "flush-batch",
  claimLeaf: "claim-leaf",
  maintenance: "relayer-maintenance",
  publishOffer: "publish-offer",
  setReferrer: "set-referrer",
  createSplit: "create-split",
  fulfillOrder: "fulfill-order",
  capturePayment: "capture-payment",
  revokeLicense: "revoke-license",
  expireOrders: "expire-orders",
  evidence: "evidence",
  collectUploads: "collect-uploads",
  bookPayment: "book-payment",
  settlePayouts: "settle-payouts",
  commitCodes: "commit-codes",
  sendMail: "send-mail",
  refundPayment: "refund-payment",
  orderReceipt: "order-receipt",
  expiryReminders: "expiry-reminders",
} as const;

export type QueueName = (typeof QUEUE_NAMES)[keyof typeof QUEUE_NAMES];

export interface PublishOfferJob {
  publicationId: string;
}

/** Creates a revenue split a creator asked for: one job per split address. */
export interface CreateSplitJob {
  split: string;
}

/** The creation job of a split, its id derived from the split's address, so a job queued twice runs once. */
export function splitJob(split: string): { queue: QueueName; jobId: string; data: CreateSplitJob } {
  return { queue: QUEUE_NAMES.createSplit, jobId: `create-split-${split}`, data: { split } };
}

/** Sends a creator's signed referrer approval: one job per request. */
export interface SetReferrerJob {
  requestId: string;
}

/** The job of a referrer request, its id derived from the request's, so a job queued twice runs once. */
export function referrerJob(requestId: string): { queue: QueueName; jobId: string; data: SetReferrerJob } {
  return { queue: QUEUE_NAMES.setReferrer, jobId: `set-referrer-${requestId}`, data: { requestId } };
}

/** Commits one batch of redemption codes on chain. */
export type CommitCodesJob = {
  batchId: string;
};

/** The commitment job of a code batch, its id derived from the batch's, so a job queued twice runs once. */
export function commitCodesJob(batchId: string): { queue: QueueName; jobId: string; data: CommitCodesJob } {
  return { queue: QUEUE_NAMES.commitCodes, jobId: `commit-codes-${batchId}`, data: { batchId } };
}

/** Refunds an approved refund request's payment through the provider. */
export type RefundPaymentJob = {
  requestId: string;
};

/** The refund job of a request, its id derived from the request's, so approving twice queues one job. */
export function refundPaymentJob(requestId: string): {
  queue: QueueName;
  jobId: string;
  data: RefundPaymentJob;
} {
  return { queue: QUEUE_NAMES.refundPayment, jobId: `refund-payment-${requestId}`, data: { requestId } };
}

/** Fulfilment, capture and revocation jobs carry the order they act on. */
export interface OrderJob {
  orderId: string;
}

const ORDER_JOBS = {
  fulfil: { queue: QUEUE_NAMES.fulfillOrder, prefix: "fulfill-" },
  // The mint of a held license once claimed: its own id, as the fulfilment that held it ran already.
  claimed: { queue: QUEUE_NAMES.fulfillOrder, prefix: "fulfill-claimed-" },
  capture: { queue: QUEUE_NAMES.capturePayment, prefix: "capture-" },
  revoke: { queue: QUEUE_NAMES.revokeLicense, prefix: "revoke-" },
  receipt: { queue: QUEUE_NAMES.orderReceipt, prefix: "receipt-" },
} as const;

/** The id prefix of an order's job of a kind (for SQL that derives job ids from order ids). */
export const orderJobPrefix = (kind: keyof typeof ORDER_JOBS): string => ORDER_JOBS[kind].prefix;

/** An order's job of a kind: one per order, its id derived from the order's, so a job queued twice runs once. */
export function orderJob(
  kind: keyof typeof ORDER_JOBS,
  orderId: string,
): { queue: QueueName; jobId: string; data: { orderId: string } } {
  const { queue, prefix } = ORDER_JOBS[kind];
  return { queue, jobId: `${prefix}${orderId}`, data: { orderId } };
}

/** What a card payment's booking job books: everything the order's state calls for that is not booked yet. */
export type Booking = "sale" | "refund" | "chargeback" | "chargeback_won";

/**
 * The payout ledger's job for an order after a change of its payment; one id per change, since a
 * finished job's id stays taken for a day and the next change must still be booked.
 */
export function bookingJob(
  orderId: string,
  booking: Booking,
): { queue: QueueName; jobId: string; data: { orderId: string } } {
  return { queue: QUEUE_NAMES.bookPayment, jobId: `book-${booking}-${orderId}`, data: { orderId } };
}

/** Sends one recorded mail. */
export interface SendMailJob {
  mailId: string;
}

/** The id prefix of mails' send jobs (for SQL that derives job ids from mail ids). */
export const MAIL_JOB_PREFIX = "mail-";

/** The send job of a mail, its id derived from the mail's, so a job queued twice runs once. */
export function sendMailJob(mailId: string): { queue: QueueName; jobId: string; data: SendMailJob } {
  return { queue: QUEUE_NAMES.sendMail, jobId: `${MAIL_JOB_PREFIX}${mailId}`, data: { mailId } };
}

export interface NotarizeJob {
  contentHash: string;
}

export interface FlushBatchJob {
  reason: "size" | "timer";
}

/** Claims one leaf of an anchored batch: the server's batch id and the leaf's index make it unique. */
export type ClaimLeafJob = {
  batchId: string;
  leafIndex: number;
};

/** The claim job of a leaf: one per leaf, so a job queued twice runs once. */
export function claimLeafJob(
  batchId: string,
  leafIndex: number,
): { queue: QueueName; jobId: string; data: ClaimLeafJob } {
  return {
    queue: QUEUE_NAMES.claimLeaf,
    jobId: `claim-${batchId}-${leafIndex}`,
    data: { batchId, leafIndex },
  };
}

export interface EvidenceJob {
  requestId: string;
}

export interface Queues {
  notarize: Queue<NotarizeJob>;
  flushBatch: Queue<FlushBatchJob>;
  claimLeaf: Queue<ClaimLeafJob>;
  maintenance: Queue<Record<string, never>>;
  publishOffer: Queue<PublishOfferJob>;
  setReferrer: Queue<SetReferrerJob>;
  createSplit: Queue<CreateSplitJob>;
  fulfillOrder: Queue<OrderJob>;
  capturePayment: Queue<OrderJob>;
  revokeLicense: Queue<OrderJob>;
  expireOrders: Queue<Record<string, never>>;
  evidence: Queue<EvidenceJob>;
  collectUploads: Queue<Record<string, never>>;
  bookPayment: Queue<OrderJob>;
  settlePayouts: Queue<Record<string, never>>;
  commitCodes: Queue<CommitCodesJob>;
  sendMail: Queue<SendMailJob>;
  orderReceipt: Queue<OrderJob>;
  expiryReminders: Queue<Record<string, never>>;
  refundPayment: Queue<RefundPaymentJob>;
  /** The queue named `name`, for jobs recorded by name (the outbox). */
  byName(name: QueueName): Queue;
  close(): Promise<void>;
}

/** BullMQ keys live under `<prefix>:bull`, so several deployments or test files can share one Redis. */
export function bullPrefix(redisPrefix: string): string {
  return `${redisPrefix}:bull`;
}

/**
 * How a worker that dies holding jobs is noticed: a running job's lock lasts JOB_LOCK_MS and is
 * renewed every half of that; every STALLED_CHECK_MS each worker puts jobs whose lock lapsed back in
 * their queue, logged and counted. A killed worker's jobs therefore run again within
 * JOB_LOCK_MS + STALLED_CHECK_MS (7.5 s), and a worker stopped with SIGTERM hands its jobs back at once.
 */
export const JOB_LOCK_MS = 5_000;
export const STALLED_CHECK_MS = 2_500;
/** Recoveries of one job from dead workers before it fails: a job that kills every worker running it is not run for ever. */
const MAX_STALLED = 5;

/** The options of every worker: the queue's connection and prefix, its concurrency, and the recovery timing above. */
export function workerOptions(
  connection: ConnectionOptions,
  redisPrefix: string,
  concurrency: number,
): WorkerOptions {
  return {
    connection,
    prefix: bullPrefix(redisPrefix),
    concurrency,
    lockDuration: JOB_LOCK_MS,
    stalledInterval: STALLED_CHECK_MS,
    maxStalledCount: MAX_STALLED,
  };
}

// Retries of a failing job: 0.5 s doubling to 32 s, a minute in all before the job fails.
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

// An SMTP server that is down for a while is waited for: 2 s doubling to 17 minutes, 34 minutes in all.
const MAIL_JOB_OPTIONS = {
  ...DEFAULT_JOB_OPTIONS,
  attempts: 11,
  backoff: { type: "exponential", delay: 2000 },
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
  const claimLeaf = new Queue<ClaimLeafJob>(QUEUE_NAMES.claimLeaf, options);
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
  const collectUploads = new Queue<Record<string, never>>(QUEUE_NAMES.collectUploads, {
    connection,
    prefix,
    defaultJobOptions: { removeOnComplete: true, removeOnFail: 100 },
  });
  const commerce = {
    publishOffer: new Queue<PublishOfferJob>(QUEUE_NAMES.publishOffer, options),
    setReferrer: new Queue<SetReferrerJob>(QUEUE_NAMES.setReferrer, options),
    createSplit: new Queue<CreateSplitJob>(QUEUE_NAMES.createSplit, options),
    fulfillOrder: new Queue<OrderJob>(QUEUE_NAMES.fulfillOrder, options),
    capturePayment: new Queue<OrderJob>(QUEUE_NAMES.capturePayment, options),
    revokeLicense: new Queue<OrderJob>(QUEUE_NAMES.revokeLicense, options),
    expireOrders: new Queue<Record<string, never>>(QUEUE_NAMES.expireOrders, {
      connection,
      prefix,
      defaultJobOptions: { removeOnComplete: true, removeOnFail: 100 },
    }),
    bookPayment: new Queue<OrderJob>(QUEUE_NAMES.bookPayment, options),
    commitCodes: new Queue<CommitCodesJob>(QUEUE_NAMES.commitCodes, options),
    refundPayment: new Queue<RefundPaymentJob>(QUEUE_NAMES.refundPayment, options),
    settlePayouts: new Queue<Record<string, never>>(QUEUE_NAMES.settlePayouts, {
      connection,
      prefix,
      defaultJobOptions: { removeOnComplete: true, removeOnFail: 100 },
    }),
  };
  const mail = {
    sendMail: new Queue<SendMailJob>(QUEUE_NAMES.sendMail, {
      connection,
      prefix,
      defaultJobOptions: MAIL_JOB_OPTIONS,
    }),
    orderReceipt: new Queue<OrderJob>(QUEUE_NAMES.orderReceipt, options),
    expiryReminders: new Queue<Record<string, never>>(QUEUE_NAMES.expiryReminders, {
      connection,
      prefix,
      defaultJobOptions: { removeOnComplete: true, removeOnFail: 100 },
    }),
  };
  const all: Record<QueueName, Queue> = {
    [QUEUE_NAMES.notarize]: notarize,
    [QUEUE_NAMES.flushBatch]: flushBatch,
    [QUEUE_NAMES.claimLeaf]: claimLeaf,
    [QUEUE_NAMES.maintenance]: maintenance,
    [QUEUE_NAMES.evidence]: evidence,
    [QUEUE_NAMES.collectUploads]: collectUploads,
    [QUEUE_NAMES.publishOffer]: commerce.publishOffer,
    [QUEUE_NAMES.setReferrer]: commerce.setReferrer,
    [QUEUE_NAMES.createSplit]: commerce.createSplit,
    [QUEUE_NAMES.fulfillOrder]: commerce.fulfillOrder,
    [QUEUE_NAMES.capturePayment]: commerce.capturePayment,
    [QUEUE_NAMES.revokeLicense]: commerce.revokeLicense,
    [QUEUE_NAMES.expireOrders]: commerce.expireOrders,
    [QUEUE_NAMES.bookPayment]: commerce.bookPayment,
    [QUEUE_NAMES.settlePayouts]: commerce.settlePayouts,
    [QUEUE_NAMES.commitCodes]: commerce.commitCodes,
    [QUEUE_NAMES.sendMail]: mail.sendMail,
    [QUEUE_NAMES.orderReceipt]: mail.orderReceipt,
    [QUEUE_NAMES.expiryReminders]: mail.expiryReminders,
    [QUEUE_NAMES.refundPayment]: commerce.refundPayment,
  };
  return {
    notarize,
    flushBatch,
    claimLeaf,
    maintenance,
    evidence,
    collectUploads,
    ...commerce,
    ...mail,
    byName: (name) => all[name],
    async close() {
      await Promise.all(Object.values(all).map((q) => q.close()));
    },
  };
}
