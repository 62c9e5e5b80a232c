import { Router } from "express";
import { requireSession } from "../auth/middleware.ts";
import { toCsv } from "../http/csv.ts";
import type { OpenApiRegistry } from "../http/openapi.ts";
import { route } from "../http/route.ts";
import { dailyEarningsSchema, dailyQuery, earningsSchema } from "../../lib/api/earnings.ts";
import type { EarningsService } from "../payouts/earnings.ts";

const LEDGER_COLUMNS = [
  "transaction_id",
  "booked_at",
  "kind",
  "currency",
  "offer_id",
  "work_id",
  "work_title",
  "order_id",
  "payment_ref",
  "settlement_id",
  "account",
  "debit",
  "credit",
];

/** Earnings of the signed-in wallet: per offer and split, per day, and its ledger lines as CSV. */
export function earningsRouter(service: EarningsService, registry: OpenApiRegistry): Router {
  const router = Router();

  route(
    router,
    registry,
    {
      method: "get",
      path: "/v1/earnings",
      summary:
        "What the signed-in wallet's offers earned by card and on chain, where the card money stands, and what each split recipient can withdraw",
      tags: ["earnings"],
      security: ["session"],
      responses: { 200: { description: "Earnings", schema: earningsSchema } },
    },
    async ({ req }) => service.earnings(requireSession(req).address),
  );

  route(
    router,
    registry,
    {
      method: "get",
      path: "/v1/earnings/daily",
      summary: "Sales of the signed-in wallet's offers per UTC day, by card and on chain",
      tags: ["earnings"],
      security: ["session"],
      query: dailyQuery,
      responses: { 200: { description: "Sales per day", schema: dailyEarningsSchema } },
    },
    async ({ req, query }) => service.daily(requireSession(req).address, query),
  );

  route(
    router,
    registry,
    {
      method: "get",
      path: "/v1/earnings/ledger.csv",
      summary:
        "Every payout ledger line of the signed-in wallet's offers, its payee account and its splits' settlements, as RFC 4180 CSV (minor units)",
      tags: ["earnings"],
      security: ["session"],
      responses: { 200: { description: "CSV, one ledger line per row", contentType: "text/csv" } },
    },
    async ({ req, res }) => {
      const wallet = requireSession(req).address;
      const lines = await service.ledger(wallet);
      res.setHeader("Content-Type", "text/csv; charset=utf-8");
      res.setHeader("Content-Disposition", `attachment; filename="ledger-${wallet}.csv"`);
      res.setHeader("Cache-Control", "no-store");
      res.send(
        toCsv(
          LEDGER_COLUMNS,
          lines.map((l) => {
            const amount = BigInt(l.amount);
            return [
              l.transactionId,
              l.bookedAt.toISOString(),
              l.kind,
              l.currency,
              l.offerId,
              l.workId,
              l.workTitle,
              l.orderId,
              l.paymentRef,
              l.settlementId,
              l.account,
              amount > 0n ? amount.toString() : null,
              amount < 0n ? (-amount).toString() : null,
            ];
          }),
        ),
      );
      return undefined;
    },
  );

  return router;
}
