import { Router } from "express";
import { requireSession } from "../auth/middleware.ts";
import type { OpenApiRegistry } from "../http/openapi.ts";
import { route } from "../http/route.ts";
import { notificationsSchema, notificationsSeenSchema } from "../../lib/api/notifications.ts";
import type { NotificationsService } from "../market/notifications.ts";

/** The signed-in player's notifications: what happened to their trades and disputes. */
export function notificationsRouter(service: NotificationsService, registry: OpenApiRegistry): Router {
  const router = Router();

  route(
    router,
    registry,
    {
      method: "get",
      path: "/v1/notifications",
      summary:
        "What happened to the signed-in wallet's trades and disputes, newest first, with what is unread",
      tags: ["market"],
      security: ["session"],
      responses: { 200: { description: "Notifications", schema: notificationsSchema } },
    },
    async ({ req, res }) => {
      res.setHeader("Cache-Control", "no-store");
      return service.list(requireSession(req).address);
    },
  );

  route(
    router,
    registry,
    {
      method: "post",
      path: "/v1/notifications/seen",
      summary: "Marks the signed-in wallet's notifications as seen",
      tags: ["market"],
      security: ["session"],
      responses: { 200: { description: "Nothing unread", schema: notificationsSeenSchema } },
    },
    async ({ req }) => service.markSeen(requireSession(req).address),
  );

  return router;
}
