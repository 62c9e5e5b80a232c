/**
 * A worker process (`npm run worker`) killed with SIGKILL while it hands a mail to SMTP, at the
 * crash points either side of the hand-over, then started again: the mail arrives once, or is
 * left unconfirmed for an operator, never twice.
 */
import { expect } from "chai";
import pino from "pino";
import { withTransaction } from "../../lib/transaction.ts";
import { recordMail } from "../../server/mail/mails.ts";
import { Outbox } from "../../server/queues/outbox.ts";
import { Recoveries } from "../../server/recoveries.ts";
import { findStuckItems } from "../../server/services/stuck-items.ts";
import { startMailCatcher, type MailCatcher } from "../../scripts/stack/mail-catcher.ts";
import { startServerProcess, type ServerProcess } from "../helpers/server-process.ts";
import { startTestStack, type TestStack } from "../helpers/stack.ts";

const logger = pino({ level: "silent" });

const receipt = (orderId: string) => ({
  orderId,
  paidAt: "2026-03-01T12:00:00.000Z",
  offerId: "7",
  workId: "3",
  title: "Night Drive (stems)",
  tokenId: "12",
  listAmount: "1900",
  saleAmount: null,
  discount: "0",
  amount: "1900",
  currency: "usd",
  couponCode: null,
  paymentId: "pi_test_2",
  paymentRef: "0x" + "cd".repeat(32),
});

describe("mail crash: a worker killed mid-hand-over never sends a mail twice", function () {
  let stack: TestStack;
  let catcher: MailCatcher;
  let outbox: Outbox;
  const running: ServerProcess[] = [];

  before(async () => {
    stack = await startTestStack("mail_crash", { workers: false, indexer: false });
    catcher = await startMailCatcher();
    outbox = new Outbox({
      db: stack.db.pool,
      queues: stack.queues,
      logger,
      recoveries: new Recoveries(stack.cache.redis, stack.cache.prefix, logger),
    });
  });
  after(async () => {
    for (const worker of running) await worker.kill();
    await catcher.stop();
    await stack.stop();
  });

  async function worker(env: Record<string, string> = {}): Promise<ServerProcess> {
    const started = await startServerProcess(stack, {
      part: "worker",
      env: {
        SMTP_URL: catcher.url,
        MAIL_FROM: "receipts@rights-ledger.test",
        MAIL_SEND_TIMEOUT_SECONDS: "2",
        ...env,
      },
    });
    running.push(started);
    return started;
  }

  async function record(key: string): Promise<void> {
    const jobs = await withTransaction(stack.db.pool, (client) =>
      recordMail(client, { key, to: "buyer@example.com", template: "receipt", data: receipt(key.slice(8)) }),
    );
    await outbox.deliver(jobs);
  }

  const mail = async (key: string) =>
    (
      await stack.db.pool.query<{ state: string; message_id: string | null; attempts: number }>(
        `SELECT state, message_id, attempts FROM mails WHERE key = $1`,
        [key],
      )
    ).rows[0]!;

  const caughtFor = (messageId: string | null) => catcher.all().filter((m) => m.messageId === messageId);

  it("leaves a mail the server accepted before the worker died unconfirmed and listed, not sent again", async () => {
    const key = "receipt:after-send";
    const dying = await worker({ CRASH_POINTS: "mail:after-send" });
    await record(key);
    expect((await dying.exited).signal).to.equal("SIGKILL");
    expect(dying.stderr()).to.contain("crash point mail:after-send@1");
    expect((await mail(key)).state).to.equal("sending");
    const restarted = await worker();
    const unconfirmed = await stack.waitFor(async () => {
      const row = await mail(key);
      return row.state === "unconfirmed" ? row : null;
    }, 30_000);
    await new Promise((r) => setTimeout(r, 2_000));
    expect(caughtFor(unconfirmed.message_id), "delivered once").to.have.length(1);
    const stuck = await findStuckItems(
      { db: stack.db.pool, queues: stack.queues },
      { platformSeconds: 60, chainSeconds: 900 },
    );
    expect(stuck.find((i) => i.kind === "mail" && i.id === key)?.state).to.include(unconfirmed.message_id);
    await restarted.stop();
  });

  it("sends a mail once after a restart when the worker died before the message went out", async () => {
    const key = "receipt:before-send";
    const dying = await worker({ CRASH_POINTS: "mail:before-send" });
    const before = catcher.all().length;
    await record(key);
    expect((await dying.exited).signal).to.equal("SIGKILL");
    expect(dying.stderr()).to.contain("crash point mail:before-send@1");
    expect((await mail(key)).state).to.equal("pending");
    const restarted = await worker();
    const sent = await stack.waitFor(async () => {
      const row = await mail(key);
      return row.state === "sent" ? row : null;
    }, 30_000);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(caughtFor(sent.message_id), "delivered once").to.have.length(1);
    expect(catcher.all()).to.have.length(before + 1);
    await restarted.stop();
  });
});
