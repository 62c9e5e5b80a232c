import { Router } from "express";
import { z } from "zod";
import { clientOf } from "../http/client-address.ts";
import type { OpenApiRegistry } from "../http/openapi.ts";
import { route } from "../http/route.ts";
import { addressSchema, idSchema, pageOf } from "../../lib/api/primitives.ts";
import { transactionRequestsSchema } from "../../lib/api/transactions.ts";
import {
  listItemsBody,
  listTradesQuery,
  tradeSchema,
  tradeWithHistorySchema,
  withdrawBody,
} from "../../lib/api/trades.ts";
import type { TradeStreams } from "../market/trade-streams.ts";
import type { TradesService } from "../services/trades.ts";

const idParams = z.object({ id: idSchema });

/** Escrowed trades: read from the indexer, acted on with transactions the players' wallets sign. */
export function tradesRouter(
  service: TradesService,
  streams: TradeStreams,
  registry: OpenApiRegistry,
): Router {
  const router = Router();
  const prepared = { 200: { description: "Transactions to sign", schema: transactionRequestsSchema } };

  route(
    router,
    registry,
    {
      method: "get",
      path: "/v1/trades",
      summary: "Escrowed trades, newest first",
      tags: ["trades"],
      query: listTradesQuery,
      responses: {
        200: {
          description: "A page of trades",
          schema: pageOf(tradeSchema),
        },
      },
    },
    async ({ query }) => service.list(query),
  );

  route(
    router,
    registry,
    {
      method: "get",
      path: "/v1/trades/:id",
      summary: "A trade with its state history",
      tags: ["trades"],
      params: idParams,
      responses: {
        200: { description: "Trade", schema: tradeWithHistorySchema },
      },
    },
    async ({ params }) => service.get(params.id),
  );

  route(
    router,
    registry,
    {
      method: "get",
      path: "/v1/trades/:id/events",
      summary:
        "Server-sent events of a trade: `trade` (the trade with its history) at once and on every indexed change, `dispute` ({evidence, decisions}: how many) when its dispute changes",
      tags: ["trades"],
      params: idParams,
      responses: { 200: { description: "`trade` and `dispute` events", contentType: "text/event-stream" } },
    },
    async ({ params, req, res }) => {
      await streams.open(params.id, clientOf(req), res);
      return undefined;
    },
  );

  route(
    router,
    registry,
    {
      method: "post",
      path: "/v1/trades",
      summary: "Transactions to list items in escrow (setApprovalForAll first if missing)",
      tags: ["trades"],
      body: listItemsBody,
      responses: prepared,
    },
    async ({ body }) => ({ transactions: await service.prepareList(body) }),
  );

  /** A step of a trade: `POST /v1/trades/:id/<name>` with the acting wallet under `wallet` in the body. */
  const step = (
    name:
      | "buy"
      | "confirm"
      | "dispute"
      | "cancel"
      | "reclaim"
      | "settle"
      | "claim-items"
      | "claim-funds"
      | "unwind",
    wallet: "buyer" | "seller" | "from",
    summary: string,
    prepare: (id: string, wallet: string) => Promise<unknown>,
  ) =>
    route(
      router,
      registry,
      {
        method: "post",
        path: `/v1/trades/:id/${name}`,
        summary,
        tags: ["trades"],
        params: idParams,
        body: z.object({ [wallet]: addressSchema }) as z.ZodObject<
          Record<typeof wallet, typeof addressSchema>
        >,
        responses: prepared,
      },
      async ({ params, body }) => ({ transactions: await prepare(params.id, body[wallet]) }),
    );
  step("buy", "buyer", "Transactions to pay into escrow (ERC-20 approve first if missing)", (id, w) =>
    service.prepareBuy(id, w),
  );
  step("confirm", "buyer", "Transaction for the buyer to confirm the purchase", (id, w) =>
    service.prepareConfirm(id, w),
  );
  step("dispute", "buyer", "Transaction for the buyer to dispute within the window", (id, w) =>
    service.prepareDispute(id, w),
  );
  step("cancel", "seller", "Transaction for the seller to cancel an unpaid listing", (id, w) =>
    service.prepareCancel(id, w),
  );
  step(
    "reclaim",
    "from",
    "Transaction to return the items of an unsold listing past its deadline to the seller (anyone)",
    (id, w) => service.prepareReclaim(id, w),
  );
  step(
    "settle",
    "from",
    "Transaction to settle a paid trade whose confirmation window lapsed (anyone)",
    (id, w) => service.prepareSettle(id, w),
  );
  step(
    "claim-items",
    "from",
    "Transaction for the party owed the items of an ended trade (the buyer of a sale, the seller of a refund)",
    (id, w) => service.prepareClaim(id, w, "items"),
  );
  step(
    "claim-funds",
    "from",
    "Transaction for the party owed the money of an ended trade (the seller's proceeds, the buyer's refund)",
    (id, w) => service.prepareClaim(id, w, "funds"),
  );
  step(
    "unwind",
    "from",
    "Transaction to unwind a dispute nobody resolved by its deadline (anyone)",
    (id, w) => service.prepareUnwind(id, w),
  );

  route(
    router,
    registry,
    {
      method: "post",
      path: "/v1/escrow/withdraw",
      summary: "Transaction to withdraw what the escrow owes a wallet (the treasury's commissions)",
      tags: ["trades"],
      body: withdrawBody,
      responses: prepared,
    },
    async ({ body }) => ({ transactions: await service.prepareWithdraw(body.account, body.currency) }),
  );

  return router;
}
