/** A player's notifications on the wire: what happened to their trades and disputes, newest first. */
import { z } from "zod";

export const NOTIFICATION_KINDS = [
  "bought",
  "disputed",
  "completed",
  "settled",
  "refunded",
  "dispute_rejected",
  "expired",
  "arbiter_assigned",
  "evidence",
  "decision",
] as const;

export const notificationSchema = z
  .object({
    id: z.string().describe("chain:<block>.<log>, evidence:<id> or decision:<id>"),
    kind: z.enum(NOTIFICATION_KINDS),
    listingId: z.string(),
    role: z.enum(["buyer", "seller"]).describe("the wallet's side of the trade"),
    text: z.string(),
    at: z.string().nullable(),
    unread: z.boolean(),
  })
  .meta({ id: "Notification" });

export const notificationsSchema = z.object({
  items: z.array(notificationSchema),
  unread: z.number().describe("how many of the latest notifications are unread"),
});

export const notificationsSeenSchema = z.object({ unread: z.literal(0) });

export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];
export type Notification = z.infer<typeof notificationSchema>;
export type Notifications = z.infer<typeof notificationsSchema>;
