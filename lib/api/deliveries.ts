/** Delivery on the wire: an offer's delivery terms, a holder's entitlement, download links and the delivery log. */
import { z } from "zod";
import { limitSchema } from "./primitives.ts";

const HUNDRED_YEARS = 100 * 365 * 86_400;

export const deliveryTermsSchema = z
  .object({
    maxDownloads: z
      .number()
      .int()
      .positive()
      .max(1_000_000)
      .nullable()
      .describe("downloads each license gets; null for no limit"),
    maxDevices: z
      .number()
      .int()
      .positive()
      .max(1000)
      .nullable()
      .describe("devices (browsers or API clients) each license may download on; null for no limit"),
    windowSeconds: z
      .number()
      .int()
      .positive()
      .max(HUNDRED_YEARS)
      .nullable()
      .describe("seconds after the license's purchase during which it may download; null for no limit"),
    watermark: z.boolean().describe("deliver images and PDFs marked with the license id"),
  })
  .meta({ id: "DeliveryTerms" });

/** The terms of an offer nobody set terms for. */
export const NO_DELIVERY_LIMITS: DeliveryTerms = {
  maxDownloads: null,
  maxDevices: null,
  windowSeconds: null,
  watermark: false,
};

/** A device key: random, kept by the browser or API client that downloads. */
export const deviceKeySchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]{16,128}$/, "must be 16 to 128 characters of A-Z, a-z, 0-9, '_' and '-'");

export const downloadRequestBody = z.object({
  device: deviceKeySchema
    .optional()
    .describe("this device's key: a new one is registered, within the offer's device limit"),
  deviceLabel: z.string().min(1).max(64).optional().describe("a name for a new device, shown to the holder"),
  resume: z
    .uuid()
    .optional()
    .describe(
      "the delivery id of an interrupted download of this license: a new link to it, not counted again",
    ),
});

export const entitlementSchema = z
  .object({
    workId: z.string(),
    tokenId: z.string(),
    offerId: z.string(),
    file: z.object({
      filename: z.string().nullable(),
      size: z.number(),
      contentType: z.string().nullable(),
    }),
    terms: deliveryTermsSchema,
    downloads: z.object({ used: z.number(), left: z.number().nullable().describe("null: no limit") }),
    devices: z.object({
      used: z.number(),
      left: z.number().nullable().describe("null: no limit"),
      registered: z.array(z.object({ label: z.string().nullable(), registeredAt: z.string() })),
    }),
    windowEndsAt: z.string().nullable().describe("ISO 8601; null when downloads have no time limit"),
  })
  .meta({ id: "Entitlement" });

export const downloadLinkSchema = z
  .object({
    deliveryId: z.string(),
    url: z
      .string()
      .describe("GET it (Range requests welcome) before expiresAt; it names this license and holder"),
    expiresAt: z.string(),
    entitlement: entitlementSchema,
  })
  .meta({ id: "DownloadLink" });

export const deliverySchema = z
  .object({
    id: z.string(),
    tokenId: z.string(),
    offerId: z.string(),
    workId: z.string(),
    holder: z.string(),
    via: z.enum(["wallet", "order"]).describe("a wallet's session, or a card order's secret"),
    device: z.string().nullable().describe("the device's label"),
    watermarked: z.boolean(),
    at: z.string(),
  })
  .meta({ id: "Delivery" });

export const identifiedSchema = z
  .object({
    found: z.boolean().describe("whether the copy carries a mark of this platform naming a license"),
    license: z
      .object({
        tokenId: z.string(),
        offerId: z.string(),
        workId: z.string(),
        holder: z.string().describe("who holds the license now"),
        issuedAt: z.string(),
      })
      .nullable(),
  })
  .meta({ id: "IdentifiedCopy" });

export const listDeliveriesQuery = z.object({
  cursor: z
    .string()
    .regex(/^[1-9][0-9]{0,18}$/)
    .optional()
    .describe("nextCursor of the previous page"),
  limit: limitSchema,
});

export type DeliveryTerms = z.infer<typeof deliveryTermsSchema>;
export type DownloadRequest = z.output<typeof downloadRequestBody>;
export type Entitlement = z.infer<typeof entitlementSchema>;
export type DownloadLink = z.infer<typeof downloadLinkSchema>;
export type Delivery = z.infer<typeof deliverySchema>;
export type Identified = z.infer<typeof identifiedSchema>;
export type ListDeliveriesQuery = z.output<typeof listDeliveriesQuery>;
