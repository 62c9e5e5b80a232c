import { Router, type Request, type Response } from "express";
import { z } from "zod";
import type { ChainChange } from "../../lib/chain-changes.ts";
import { hasScope, requireAdmin } from "../auth/middleware.ts";
import type { ChangeFeed } from "../chain/change-feed.ts";
import type { OpenApiRegistry } from "../http/openapi.ts";
import { route } from "../http/route.ts";
import { finalitySchema } from "../http/schemas.ts";
import { transactionRequestSchema } from "../http/transaction-request.ts";
import type { OrderEvents } from "../services/order-events.ts";
import type { OrderReader, OrdersService, OrderView } from "../services/orders.ts";

const statusSchema = z.enum([
  "created",
  "paid",
  "minting",
  "fulfilled",
  "failed",
  "expired",
  "refunded",
  "disputed",
]);

export const orderSchema = z
  .object({
    orderId: z.string(),
    offerId: z.string(),
    wallet: z.string(),
    referrer: z.string().nullable(),
    amount: z.number().describe("minor units"),
    currency: z.string(),
    status: statusSchema,
    failureReason: z.string().nullable(),
    checkoutUrl: z
      .string()
      .nullable()
      .describe("where the buyer pays; null once the order is no longer payable"),
    reservedUntil: z.string().describe("the unit is held for the order until then unless paid"),
    paymentRef: z.string().nullable(),
    payment: z.enum(["none", "authorized", "captured", "canceled"]),
    tokenId: z.string().nullable().describe("the license minted for the order"),
    license: z
      .object({
        tokenId: z.string(),
        txHash: z.string().nullable(),
        blockNumber: z.number().nullable(),
        finality: finalitySchema.nullable(),
      })
      .nullable(),
    revocation: z
      .object({ reason: z.string(), txHash: z.string().nullable(), revokedAt: z.string().nullable() })
      .nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: "Order" });

const eventSchema = z.object({
  seq: z.string(),
  status: statusSchema,
  detail: z.record(z.string(), z.unknown()),
  at: z.string(),
});

const HEARTBEAT_MS = 15_000;

export interface OrdersRouterDeps {
  orders: OrdersService;
  events: OrderEvents;
  feed: ChangeFeed;
}

/**
 * Streams an order: a `status` event for its current state at once (or every event after
 * Last-Event-ID), then one per transition as order notifications arrive, and a `license` event
 * whenever the indexer reports the mint or a change of its finality. Heartbeats every 15 s also
 * catch up on any notification that was lost.
 */
async function streamOrder(
  deps: OrdersRouterDeps,
  orderId: string,
  req: Request,
  res: Response,
): Promise<void> {
  const { orders } = deps;
  let view: OrderView = await orders.current(orderId);
  res.status(200);
  res.set({
    "Content-Type": "text/event-stream",
    "Cache-Control": "no-cache, no-transform",
    Connection: "keep-alive",
    "X-Accel-Buffering": "no",
  });
  res.flushHeaders();
  const send = (event: string, data: unknown, id?: string) => {
    res.write(`${id ? `id: ${id}\n` : ""}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  };

  const resumeFrom = req.get("last-event-id");
  let lastSeq = resumeFrom && /^\d{1,18}$/.test(resumeFrom) ? resumeFrom : null;
  let lastLicense = JSON.stringify(view.license);
  let closed = false;
  let queue = Promise.resolve();
  const serially = (work: () => Promise<void>) => {
    queue = queue
      .then(() => (closed ? undefined : work()))
      .catch((err: unknown) => req.log.warn({ err, orderId }, "order stream update failed"));
  };
  const catchUp = () =>
    serially(async () => {
      const events = await orders.eventsAfter(orderId, lastSeq ?? "0");
      if (events.length === 0) return;
      view = await orders.current(orderId);
      // A fresh subscriber starts from the current state; one resuming gets every event it missed.
      const due = lastSeq === null ? events.slice(-1) : events;
      for (const event of due) send("status", { ...event, order: view }, event.seq);
      lastSeq = events.at(-1)!.seq;
      lastLicense = JSON.stringify(view.license);
    });
  const onChange = (change: ChainChange) => {
    const relevant =
      change.kind === "heads" ||
      change.truncated ||
      (view.paymentRef !== null && change.keys.paymentRefs.includes(view.paymentRef)) ||
      (view.license !== null && change.keys.tokenIds.includes(view.license.tokenId));
    if (!relevant || !view.license) return;
    serially(async () => {
      view = await orders.current(orderId);
      const license = JSON.stringify(view.license);
      if (license === lastLicense) return;
      lastLicense = license;
      send("license", { license: view.license, order: view });
    });
  };

  const unsubscribe = await deps.events.subscribe(orderId, () => catchUp());
  deps.feed.on("change", onChange);
  const heartbeat = setInterval(() => {
    res.write(": heartbeat\n\n");
    catchUp();
  }, HEARTBEAT_MS);
  req.on("close", () => {
    closed = true;
    clearInterval(heartbeat);
    deps.feed.off("change", onChange);
    unsubscribe();
  });
  catchUp();
}

const secretQuery = z.object({
  secret: z
    .string()
    .max(64)
    .optional()
    .describe("the order secret from the checkout (or send it as X-Order-Secret)"),
});

/** The caller as an order reader: its session and the order secret it sent (header or query). */
function readerOf(req: Request, secret: string | undefined): OrderReader {
  const session = req.auth?.kind === "session" ? req.auth.session : null;
  return {
    wallet: session?.address ?? null,
    admin: session?.isAdmin === true || hasScope(req, "admin"),
    secret: req.get("x-order-secret") ?? secret,
  };
}

/** Orders: status with history, a live event stream, and the admin's revocation request. */
export function ordersRouter(deps: OrdersRouterDeps, registry: OpenApiRegistry): Router {
  const router = Router();
  const idParams = z.object({ id: z.uuid() });

  route(
    router,
    registry,
    {
      method: "get",
      path: "/v1/orders/:id",
      summary: "An order with its status history, for its buyer (session of its wallet or the order secret)",
      tags: ["checkout"],
      security: ["session", "orderSecret"],
      params: idParams,
      query: secretQuery,
      responses: {
        200: { description: "Order", schema: orderSchema.extend({ history: z.array(eventSchema) }) },
      },
    },
    async ({ params, query, req, res }) => {
      res.setHeader("Cache-Control", "no-store");
      await deps.orders.assertReadable(params.id, readerOf(req, query.secret));
      return deps.orders.withHistory(params.id);
    },
  );

  route(
    router,
    registry,
    {
      method: "get",
      path: "/v1/orders/:id/events",
      summary:
        "Server-sent events of an order: created → paid → minting → fulfilled (or failed, with a reason)",
      tags: ["checkout"],
      security: ["session", "orderSecret"],
      params: idParams,
      query: secretQuery,
      responses: {
        200: {
          description:
            "`status` events ({seq, status, detail, at, order}, id = seq; Last-Event-ID resumes) and `license` events when the mint's finality changes",
          contentType: "text/event-stream",
        },
      },
    },
    async ({ params, query, req, res }) => {
      await deps.orders.assertReadable(params.id, readerOf(req, query.secret));
      await streamOrder(deps, params.id, req, res);
      return undefined;
    },
  );

  route(
    router,
    registry,
    {
      method: "get",
      path: "/v1/admin/orders/:id/revocation",
      summary: "The revoke transaction a refunded or disputed order needs, for an admin wallet to sign",
      tags: ["admin"],
      security: ["session", "apiKey"],
      params: idParams,
      responses: {
        200: {
          description: "Revocation to sign",
          schema: z.object({ reason: z.string(), transaction: transactionRequestSchema }),
        },
      },
    },
    async ({ params, req }) => {
      requireAdmin(req);
      return deps.orders.revocationRequest(params.id);
    },
  );

  return router;
}
