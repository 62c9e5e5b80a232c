import { randomBytes, randomUUID } from "node:crypto";
import { copyFile, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import { migrate } from "../../lib/migrate.ts";
import { SERVER_MIGRATIONS, migrateServerSchema } from "../../server/schema.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/database.ts";

/** The migration that stops keeping claim-link tokens at rest in mails. */
const MIGRATION = 122;

describe("migration 122: claim-link tokens no longer kept at rest", function () {
  let db: TestDatabase;
  let earlierDir: string;

  /** A held order with an unused claim expiring in a week, and a claim-link mail in `state`. */
  async function heldOrderWithMail(state: string, data: (orderId: string) => object, claimed = false) {
    const orderId = randomUUID();
    await db.pool.query(
      `INSERT INTO orders (id, offer_id, amount, currency, status, reserved_until, ip, payable_until, email)
       VALUES ($1, 1, 1200, 'usd', 'held', now(), '203.0.113.7', now(), 'buyer@example.com')`,
      [orderId],
    );
    await db.pool.query(
      `INSERT INTO order_claims (order_id, token_hash, expires_at, claimed_by, claimed_at)
       VALUES ($1, $2, now() + interval '7 days', $3, $4)`,
      [
        orderId,
        randomBytes(32),
        claimed ? "0x00000000000000000000000000000000000000b1" : null,
        claimed ? new Date() : null,
      ],
    );
    const { rows } = await db.pool.query<{ id: string }>(
      `INSERT INTO mails (key, recipient, template, data, state) VALUES ($1, 'buyer@example.com', 'claim-link', $2, $3)
       RETURNING id::text`,
      [`claim-link:${orderId}:1`, JSON.stringify(data(orderId)), state],
    );
    return { orderId, mailId: rows[0]!.id };
  }

  const withToken = (orderId: string) => ({
    orderId,
    claimUrl: `http://127.0.0.1:3000/claim#token=${randomBytes(32).toString("base64url")}`,
  });

  async function mail(id: string) {
    const { rows } = await db.pool.query<{
      state: string;
      error: string | null;
      data: Record<string, unknown>;
    }>(`SELECT state, error, data FROM mails WHERE id = $1`, [id]);
    return rows[0]!;
  }

  async function claimExpired(orderId: string): Promise<boolean> {
    const { rows } = await db.pool.query<{ expired: boolean }>(
      `SELECT expires_at <= now() AS expired FROM order_claims WHERE order_id = $1`,
      [orderId],
    );
    return rows[0]!.expired;
  }

  before(async () => {
    db = await createTestDatabase("claim_tokens_migration");
    // The schema as it stood before the migration: every file numbered below it.
    earlierDir = await mkdtemp(path.join(tmpdir(), "rl-migrations-"));
    for (const file of await readdir(SERVER_MIGRATIONS.dir)) {
      if (Number.parseInt(file, 10) < MIGRATION) {
        await copyFile(path.join(SERVER_MIGRATIONS.dir, file), path.join(earlierDir, file));
      }
    }
    await migrate(db.pool, earlierDir, SERVER_MIGRATIONS.table);
    await db.pool.query(`INSERT INTO fiat_prices (offer_id, amount, currency) VALUES (1, 1200, 'usd')`);
  });
  after(async () => {
    await db?.drop();
    if (earlierDir) await rm(earlierDir, { recursive: true, force: true });
  });

  it("fails a waiting mail that carries a token and expires its unused claim; strips the token from sent mails; leaves the rest", async () => {
    const waiting = await heldOrderWithMail("pending", withToken);
    const sent = await heldOrderWithMail("sent", withToken);
    const waitingClaimed = await heldOrderWithMail("pending", withToken, true);
    const tokenless = await heldOrderWithMail("pending", (orderId) => ({ orderId, claimId: orderId }));

    const applied = await migrateServerSchema(db.pool);
    expect(applied[0]!.version).to.equal(MIGRATION);

    // No mail keeps a token at rest any more.
    const { rows } = await db.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM mails WHERE data ? 'claimUrl' OR data::text LIKE '%token=%'`,
    );
    expect(rows[0]!.n).to.equal(0);

    // A mail still waiting cannot be rendered without its token: it fails, and its link dies with it.
    expect(await mail(waiting.mailId)).to.deep.include({
      state: "failed",
      error: "its claim link was dropped at rest; a new link is mailed on request",
    });
    expect((await mail(waiting.mailId)).data).to.deep.equal({ orderId: waiting.orderId });
    expect(await claimExpired(waiting.orderId)).to.equal(true);

    // A mail already sent keeps its state; the buyer's link in it still works until it expires.
    expect(await mail(sent.mailId)).to.deep.include({ state: "sent", error: null });
    expect(await claimExpired(sent.orderId)).to.equal(false);

    // A claim already used is not touched, though its mail fails as the others do.
    expect((await mail(waitingClaimed.mailId)).state).to.equal("failed");
    expect(await claimExpired(waitingClaimed.orderId)).to.equal(false);

    // A mail recorded the new way (the claim's id, no token) goes out as before.
    expect(await mail(tokenless.mailId)).to.deep.include({
      state: "pending",
      error: null,
      data: { orderId: tokenless.orderId, claimId: tokenless.orderId },
    });
    expect(await claimExpired(tokenless.orderId)).to.equal(false);
  });
});
