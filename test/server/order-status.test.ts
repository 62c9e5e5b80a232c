import { expect } from "chai";
import type { Pool } from "pg";
import { assertMoves, canMove, movingTo, ORDER_MOVES, type OrderStatus } from "../../server/orders/status.ts";
import { transitionMany } from "../../server/orders/store.ts";

const STATUSES = Object.keys(ORDER_MOVES) as OrderStatus[];

describe("order status moves", () => {
  it("lets a card order go created → paid → minting → fulfilled, and be refunded or disputed after", () => {
    const path: OrderStatus[] = ["created", "paid", "minting", "fulfilled", "refunded"];
    for (let i = 1; i < path.length; i++) expect(canMove(path[i - 1]!, path[i]!), path[i]).to.equal(true);
    expect(canMove("minting", "disputed")).to.equal(true);
  });

  it("lets a late payment revive an expired order, and nothing revive a failed, refunded or disputed one", () => {
    expect(canMove("expired", "paid")).to.equal(true);
    for (const end of ["failed", "refunded", "disputed"] as const) {
      expect(
        STATUSES.filter((to) => to !== end && canMove(end, to)),
        end,
      ).to.deep.equal([]);
    }
  });

  it("refuses moves backwards: a fulfilled order is never paid again, a paid one never unpaid", () => {
    expect(canMove("fulfilled", "paid")).to.equal(false);
    expect(canMove("fulfilled", "minting")).to.equal(false);
    expect(canMove("paid", "created")).to.equal(false);
    expect(canMove("minting", "expired")).to.equal(false);
    expect(() => assertMoves(["minting", "fulfilled"], "paid")).to.throw(/from minting, fulfilled to paid/);
  });

  it("names the statuses an order can fail from", () => {
    expect(movingTo("failed").sort()).to.deep.equal(["created", "expired", "minting", "paid"]);
  });

  it("refuses an illegal transition before any statement reaches the database", async () => {
    const statements: string[] = [];
    const db = { query: async (sql: string) => void statements.push(sql) } as unknown as Pool;
    await transitionMany(db, [
      { id: "00000000-0000-0000-0000-000000000000", from: ["fulfilled"], to: "paid" },
    ]).then(
      () => expect.fail("moved a fulfilled order back to paid"),
      (err: Error) => expect(err.message).to.match(/cannot move from fulfilled to paid/),
    );
    expect(statements).to.deep.equal([]);
  });
});
