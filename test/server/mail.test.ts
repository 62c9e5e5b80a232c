import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { expect } from "chai";
import pino from "pino";
import { withTransaction } from "../../lib/transaction.ts";
import { loadConfig, type Config } from "../../server/config.ts";
import { DeferredError } from "../../server/errors.ts";
import { messageIdOf } from "../../server/mail/compose.ts";
import { sendMail, type SendMailDeps } from "../../server/mail/jobs/send-mail.ts";
import { MailStore } from "../../server/mail/mail-store.ts";
import { mailContext, startMailWorkers, type MailWorkers } from "../../server/mail/mail-workers.ts";
import { recordMail, settleMail, type NewMail } from "../../server/mail/mails.ts";
import { AppError } from "../../server/errors.ts";
import { SmtpSender } from "../../server/mail/smtp.ts";
import { renderReceiptPdf } from "../../server/orders/receipt-pdf.ts";
import { receiptSchema } from "../../server/orders/receipts.ts";
import { Outbox } from "../../server/queues/outbox.ts";
import { createQueues, type Queues } from "../../server/queues/queues.ts";
import { Recoveries } from "../../server/recoveries.ts";
import { migrateServerSchema } from "../../server/schema.ts";
import { findStuckItems } from "../../server/services/stuck-items.ts";
import { freePort } from "../../scripts/stack/free-port.ts";
import { startMailCatcher, type CatcherAnswer, type MailCatcher } from "../../scripts/stack/mail-catcher.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/database.ts";
import { createTestRedis, TEST_REDIS_URL, type TestRedis } from "../helpers/redis.ts";
import { devWallet, TEST_SESSION_SECRET } from "../helpers/stack.ts";

const logger = pino({ level: "silent" });
const run = promisify(execFile);
const clock = { nowSeconds: async () => Math.floor(Date.now() / 1000) };

function receiptData(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    orderId: "6f1c2a8e-0000-4000-8000-000000000001",
    paidAt: "2026-03-01T12:00:00.000Z",
    offerId: "7",
    workId: "3",
    title: "Night Drive (stems)",
    tokenId: "12",
    listAmount: "1900",
    saleAmount: null,
    discount: "380",
    amount: "1520",
    currency: "usd",
    couponCode: "SPRING20",
    paymentId: "pi_test_1",
    paymentRef: "0x" + "ab".repeat(32),
    ...overrides,
  };
}

describe("mail: recorded with its change, handed to SMTP exactly once", function () {
  let db: TestDatabase;
  let cache: TestRedis;
  let queues: Queues;
  let outbox: Outbox;
  let mails: MailStore;
  let keys = 0;

  function configFor(smtpUrl: string, env: Record<string, string> = {}): Config {
    return loadConfig({
      NODE_ENV: "test",
      DATABASE_URL: db.url,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_PREFIX: cache.prefix,
      CHAIN_RPC_URL: "http://127.0.0.1:8545",
      RELAYER_PRIVATE_KEY: devWallet(1).privateKey,
      SESSION_SECRET: TEST_SESSION_SECRET,
      SMTP_URL: smtpUrl,
      MAIL_FROM: "receipts@rights-ledger.test",
      ...env,
    });
  }

  /** Records a receipt mail to `to` under a fresh key and queues its job; answers the key. */
  async function record(to = "buyer@example.com", data = receiptData()): Promise<string> {
    const key = `test:${++keys}`;
    const jobs = await withTransaction(db.pool, (client) =>
      recordMail(client, { key, to, template: "receipt", data }),
    );
    await outbox.deliver(jobs);
    return key;
  }

  async function mailByKey(key: string) {
    const { rows } = await db.pool.query<{ id: string; state: string; attempts: number; message_id: string }>(
      `SELECT id::text, state, attempts, message_id FROM mails WHERE key = $1`,
      [key],
    );
    return rows[0]!;
  }

  async function waitForState(key: string, state: string, timeoutMs = 20_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const mail = await mailByKey(key);
      if (mail.state === state) return mail;
      if (Date.now() > deadline) throw new Error(`mail ${key} is ${mail.state}, not ${state}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** A catcher answering as `answer` says and a mail worker sending to it, for one test. */
  async function withWorker(
    answer: ((n: number) => CatcherAnswer) | undefined,
    run: (catcher: MailCatcher, config: Config) => Promise<void>,
    env: Record<string, string> = {},
  ): Promise<void> {
    const catcher = await startMailCatcher({ answer });
    const config = configFor(catcher.url, env);
    const workers = await startMailWorkers({
      config,
      db: db.pool,
      redis: cache.redis,
      connection: cache.redis,
      queues,
      clock,
      logger,
    });
    try {
      await run(catcher, config);
    } finally {
      await workers.close(500);
      await catcher.stop();
    }
  }

  function sendDeps(config: Config): SendMailDeps {
    return {
      mails,
      smtp: new SmtpSender(config.mail.smtp!, config.mail.sendTimeoutMs),
      from: config.mail.from,
      context: mailContext(config),
      sendTimeoutMs: config.mail.sendTimeoutMs,
      logger,
      recoveries: new Recoveries(cache.redis, cache.prefix, logger),
    };
  }

  before(async () => {
    db = await createTestDatabase("mail");
    await migrateServerSchema(db.pool);
    cache = await createTestRedis("mail");
    queues = createQueues(cache.redis, cache.prefix);
    mails = new MailStore(db.pool);
    outbox = new Outbox({
      db: db.pool,
      queues,
      logger,
      recoveries: new Recoveries(cache.redis, cache.prefix, logger),
    });
  });
  after(async () => {
    await queues.close();
    await cache.cleanup();
    await db.drop();
  });

  it("records a mail once per key and delivers it once, with the Message-ID its key determines", async () => {
    await withWorker(undefined, async (catcher, config) => {
      const mail: NewMail = {
        key: "receipt:once",
        to: "Buyer@Example.COM",
        template: "receipt",
        data: receiptData(),
      };
      const first = await withTransaction(db.pool, (client) => recordMail(client, mail));
      const second = await withTransaction(db.pool, (client) => recordMail(client, mail));
      expect(first).to.have.length(1);
      expect(second, "a second record of the key").to.deep.equal([]);
      await outbox.deliver(first);
      const sent = await waitForState("receipt:once", "sent");
      const [caught] = await catcher.waitFor(1);
      expect(caught!.to).to.deep.equal(["Buyer@example.com"]);
      expect(caught!.subject).to.equal("Your receipt from Rights Ledger: Night Drive (stems)");
      expect(caught!.messageId).to.equal(messageIdOf("receipt:once", config.mail.from));
      expect(sent.message_id).to.equal(caught!.messageId);
      expect(caught!.text).to.include("Paid: $15.20").and.include("Discount (SPRING20): -$3.80");
      const pdf = await renderReceiptPdf(receiptSchema.parse(receiptData()), config.platform);
      expect(caught!.attachments).to.deep.equal([
        {
          filename: "receipt-6f1c2a8e-0000-4000-8000-000000000001.pdf",
          contentType: "application/pdf",
          size: pdf.length,
        },
      ]);
      await new Promise((r) => setTimeout(r, 500));
      expect(catcher.all()).to.have.length(1);
      const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM mails WHERE key = 'receipt:once'`);
      expect(rows[0].n).to.equal(1);
    });
  });

  it("sends a mail once when its job runs five times at once and again after it was sent", async () => {
    await withWorker(undefined, async (catcher, config) => {
      // Recorded without queueing: the five runs below are the only ones.
      const key = "test:concurrent";
      await withTransaction(db.pool, (client) =>
        recordMail(client, { key, to: "buyer@example.com", template: "receipt", data: receiptData() }),
      );
      const { id } = await mailByKey(key);
      const deps = sendDeps(config);
      const runs = await Promise.allSettled(
        Array.from({ length: 5 }, () => sendMail(deps, id, { finalAttempt: false })),
      );
      const again = await sendMail(deps, id, { finalAttempt: false });
      expect(again.state).to.equal("sent");
      for (const run of runs) {
        // A run that found the mail mid-hand-over is put back for later, which then finds it sent.
        if (run.status === "rejected") expect(run.reason).to.be.instanceOf(DeferredError);
      }
      await new Promise((r) => setTimeout(r, 300));
      expect(catcher.all().filter((m) => m.messageId === messageIdOf(key, config.mail.from))).to.have.length(
        1,
      );
      expect((await mailByKey(key)).state).to.equal("sent");
    });
  });

  it("retries a mail the server refused for now (451) with backoff and delivers it once", async () => {
    const answer = (n: number): CatcherAnswer =>
      n <= 2 ? { code: 451, message: "try again later" } : "accept";
    await withWorker(answer, async (catcher) => {
      const key = await record();
      const sent = await waitForState(key, "sent", 30_000);
      expect(sent.attempts).to.equal(3);
      expect(catcher.all()).to.have.length(1);
    });
  });

  it("keeps a mail pending while nothing answers at SMTP_URL and delivers it once the server is up", async () => {
    const port = await freePort();
    const config = configFor(`smtp://127.0.0.1:${port}`);
    const workers: MailWorkers = await startMailWorkers({
      config,
      db: db.pool,
      redis: cache.redis,
      connection: cache.redis,
      queues,
      clock,
      logger,
    });
    let catcher: MailCatcher | null = null;
    try {
      const key = await record();
      const deadline = Date.now() + 10_000;
      while ((await mailByKey(key)).attempts < 1 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      const refused = await mailByKey(key);
      expect(refused.state).to.equal("pending");
      expect(refused.attempts).to.be.at.least(1);
      catcher = await startMailCatcher({ port });
      await waitForState(key, "sent", 30_000);
      expect(catcher.all()).to.have.length(1);
    } finally {
      await workers.close(500);
      await catcher?.stop();
    }
  });

  it("fails a mail the server refuses for good (550) after one attempt and lists it for an operator", async () => {
    await withWorker(
      () => ({ code: 550, message: "mailbox unavailable" }),
      async (catcher) => {
        const key = await record("nobody@example.com");
        const failed = await waitForState(key, "failed");
        expect(failed.attempts).to.equal(1);
        expect(catcher.all()).to.have.length(0);
        const stuck = await findStuckItems(
          { db: db.pool, queues },
          { platformSeconds: 60, chainSeconds: 900 },
        );
        const item = stuck.find((i) => i.kind === "mail" && i.id === key);
        expect(item?.state).to.match(/^failed: .*550/);
      },
    );
  });

  it("marks a mail unconfirmed, and never sends it again, when the server took it but no answer came", async () => {
    await withWorker(
      (n) => (n === 1 ? "silent" : "accept"),
      async (catcher) => {
        const key = await record();
        const unconfirmed = await waitForState(key, "unconfirmed", 20_000);
        expect(catcher.all()).to.have.length(1);
        await new Promise((r) => setTimeout(r, 3_000));
        expect(catcher.all(), "no second copy").to.have.length(1);
        expect((await mailByKey(key)).state).to.equal("unconfirmed");
        const stuck = await findStuckItems(
          { db: db.pool, queues },
          { platformSeconds: 60, chainSeconds: 900 },
        );
        const item = stuck.find((i) => i.kind === "mail" && i.id === key);
        expect(item?.state).to.include("unconfirmed").and.include(unconfirmed.message_id);
      },
      { MAIL_SEND_TIMEOUT_SECONDS: "1" },
    );
  });

  it("does not send a mail found mid-hand-over: put back while its lease runs, unconfirmed once it lapsed", async () => {
    await withWorker(undefined, async (catcher, config) => {
      const key = "test:leased";
      await withTransaction(db.pool, (client) =>
        recordMail(client, { key, to: "buyer@example.com", template: "receipt", data: receiptData() }),
      );
      const { id } = await mailByKey(key);
      await db.pool.query(
        `UPDATE mails SET state = 'sending', message_id = 'm', lease_until = now() + interval '1 minute' WHERE id = $1`,
        [id],
      );
      const deps = sendDeps(config);
      let deferred: unknown = null;
      await sendMail(deps, id, { finalAttempt: false }).catch((err: unknown) => (deferred = err));
      expect(deferred).to.be.instanceOf(DeferredError);
      await db.pool.query(`UPDATE mails SET lease_until = now() - interval '1 second' WHERE id = $1`, [id]);
      expect(await sendMail(deps, id, { finalAttempt: false })).to.deep.equal({ state: "unconfirmed" });
      expect(await sendMail(deps, id, { finalAttempt: true })).to.deep.equal({ state: "unconfirmed" });
      expect(catcher.all()).to.have.length(0);
    });
  });

  it("lets an operator settle unconfirmed mail: handed over once more with its Message-ID, or marked sent from the SMTP log", async () => {
    await withWorker(
      (n) => (n <= 2 ? "silent" : "accept"),
      async (catcher, config) => {
        const resent = await record();
        const confirmed = await record();
        await waitForState(resent, "unconfirmed", 20_000);
        await waitForState(confirmed, "unconfirmed", 20_000);
        expect(catcher.all()).to.have.length(2);
        const settle = (key: string, decision: "sent" | "resend") =>
          settleMail({ db: db.pool, outbox }, key, decision);
        expect(await settle(confirmed, "sent")).to.equal("unconfirmed");
        expect(await settle(resent, "resend")).to.equal("unconfirmed");
        const sent = await waitForState(resent, "sent");
        expect(sent.attempts).to.equal(1);
        expect(sent.message_id).to.equal(messageIdOf(resent, config.mail.from));
        const settled = await db.pool.query(`SELECT state, smtp_response FROM mails WHERE key = $1`, [
          confirmed,
        ]);
        expect(settled.rows[0]).to.deep.include({ state: "sent" });
        expect(settled.rows[0].smtp_response).to.include("operator");
        await new Promise((r) => setTimeout(r, 500));
        const copies = (key: string) =>
          catcher.all().filter((m) => m.messageId === messageIdOf(key, config.mail.from)).length;
        expect([copies(resent), copies(confirmed)]).to.deep.equal([2, 1]);
        const stuck = await findStuckItems(
          { db: db.pool, queues },
          { platformSeconds: 60, chainSeconds: 900 },
        );
        expect(stuck.filter((i) => i.kind === "mail" && [resent, confirmed].includes(i.id))).to.deep.equal(
          [],
        );
      },
      { MAIL_SEND_TIMEOUT_SECONDS: "1" },
    );
  });

  it("refuses an operator's decision the mail's state does not allow, changing nothing, and resends a mail once when asked twice at once", async () => {
    await withWorker(undefined, async (catcher, config) => {
      const settle = (key: string, decision: "sent" | "resend") =>
        settleMail({ db: db.pool, outbox }, key, decision);
      const refusal = async (key: string, decision: "sent" | "resend") => {
        const err: unknown = await settle(key, decision).then(
          () => null,
          (e: unknown) => e,
        );
        expect(err, `${decision} ${key}`).to.be.instanceOf(AppError);
        return (err as AppError).code;
      };
      const sentKey = await record();
      await waitForState(sentKey, "sent");
      // Recorded without their jobs: a pending mail only its own job sends, a failed one none.
      const [failedKey, pendingKey] = ["test:failed-for-operator", "test:pending-for-operator"];
      for (const key of [failedKey, pendingKey]) {
        await withTransaction(db.pool, (client) =>
          recordMail(client, { key, to: "buyer@example.com", template: "receipt", data: receiptData() }),
        );
      }
      await db.pool.query(
        `UPDATE mails SET state = 'failed', attempts = 11, error = '550 no' WHERE key = $1`,
        [failedKey],
      );
      expect(await refusal(sentKey, "sent")).to.equal("MAIL_NOT_SETTLEABLE");
      expect(await refusal(sentKey, "resend")).to.equal("MAIL_NOT_SETTLEABLE");
      expect(await refusal(failedKey, "sent")).to.equal("MAIL_NOT_SETTLEABLE");
      expect(await refusal(pendingKey, "resend")).to.equal("MAIL_NOT_SETTLEABLE");
      expect(await settle("test:no-such-mail", "resend")).to.equal(null);
      expect((await mailByKey(failedKey)).state).to.equal("failed");
      expect((await mailByKey(pendingKey)).state).to.equal("pending");

      const both = await Promise.allSettled([settle(failedKey, "resend"), settle(failedKey, "resend")]);
      expect(both.map((r) => r.status).sort()).to.deep.equal(["fulfilled", "rejected"]);
      const resent = await waitForState(failedKey, "sent");
      expect(resent.attempts).to.equal(1);
      await new Promise((r) => setTimeout(r, 500));
      const copies = (key: string) =>
        catcher.all().filter((m) => m.messageId === messageIdOf(key, config.mail.from)).length;
      expect([copies(sentKey), copies(failedKey), copies(pendingKey)]).to.deep.equal([1, 1, 0]);
    });
  });

  it("npm run mail settles a mail by its key and exits 0; a refused decision, an unknown key or no decision exit non-zero, changing nothing", async () => {
    const key = "test:cli-unconfirmed";
    await withTransaction(db.pool, (client) =>
      recordMail(client, { key, to: "buyer@example.com", template: "receipt", data: receiptData() }),
    );
    await db.pool.query(`UPDATE mails SET state = 'unconfirmed', message_id = '<cli@test>' WHERE key = $1`, [
      key,
    ]);
    const env = {
      PATH: process.env.PATH,
      DATABASE_URL: db.url,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_PREFIX: cache.prefix,
    };
    const mail = (...args: string[]) =>
      run(process.execPath, ["--import", "tsx", "scripts/mail.ts", ...args], { env }).then(
        ({ stdout }) => ({ code: 0, out: stdout }),
        (err: { code: number; stderr: string }) => ({ code: err.code, out: err.stderr }),
      );
    const none = await mail();
    const both = await mail("--sent", key, "--resend", key);
    const unknown = await mail("--resend", "test:no-such-mail");
    const refused = await mail("--resend", "--sent");
    expect([none.code, both.code, unknown.code]).to.deep.equal([2, 2, 1]);
    expect(unknown.out).to.include("no mail test:no-such-mail");
    // `--sent` taken as the key of --resend: no such mail, and nothing else touched.
    expect(refused.code).to.equal(1);
    expect((await mailByKey(key)).state).to.equal("unconfirmed");
    const settled = await mail("--sent", key);
    expect(settled).to.deep.equal({ code: 0, out: `mail ${key}: unconfirmed → sent\n` });
    expect((await mailByKey(key)).state).to.equal("sent");
    const again = await mail("--resend", key);
    expect(again.code).to.equal(1);
    expect(again.out).to.include(`mail ${key} is sent, not unconfirmed or failed`);
    expect((await mailByKey(key)).state).to.equal("sent");
  });

  it("refuses an address that is not one mailbox when the mail is recorded, recording nothing", async () => {
    const hostile = [
      "",
      "no-at-sign",
      "two@@example.com",
      "victim@example.com\r\nBcc: everyone@example.com",
      "victim@example.com\nBcc: everyone@example.com",
      "a@example.com, b@example.com",
      "Name <a@example.com>",
      `${"x".repeat(250)}@example.com`,
      "a@example.com\u0000",
    ];
    for (const to of hostile) {
      const err = await withTransaction(db.pool, (client) =>
        recordMail(client, { key: `hostile:${to}`, to, template: "receipt", data: receiptData() }),
      ).catch((e: unknown) => e);
      expect(err, JSON.stringify(to)).to.include({ code: "MAIL_ADDRESS_INVALID", status: 400 });
    }
    const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM mails WHERE key LIKE 'hostile:%'`);
    expect(rows[0].n).to.equal(0);
  });

  it("shows hostile data as text: escaped in the HTML, on one line in the subject", async () => {
    const title = `<script>alert(1)</script><img src=x onerror="alert('x')"> & co\r\nBcc: everyone@example.com`;
    await withWorker(undefined, async (catcher) => {
      await waitForState(
        await record("buyer@example.com", receiptData({ title, couponCode: `"><b>x</b>` })),
        "sent",
      );
      const [caught] = await catcher.waitFor(1);
      expect(caught!.html).to.not.include("<script>").and.not.include("<img").and.not.include("<b>x");
      expect(caught!.html).to.include("&#60;script&#62;alert(1)&#60;/script&#62;");
      expect(caught!.html).to.include("&#34;&#62;&#60;b&#62;x&#60;/b&#62;");
      expect(caught!.subject).to.equal(
        `Your receipt from Rights Ledger: <script>alert(1)</script><img src=x onerror="alert('x')"> & co Bcc: everyone@example.com`,
      );
      const headers = caught!.raw.toString("utf8").split("\r\n\r\n")[0]!;
      expect(headers).to.not.match(/^Bcc:/im);
      expect(caught!.to).to.deep.equal(["buyer@example.com"]);
    });
  });
});
