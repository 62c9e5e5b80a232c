import { Router, type Request, type Response } from "express";
import { z } from "zod";
import type { OpenApiRegistry } from "../http/openapi.ts";
import { route } from "../http/route.ts";
import {
  addressSchema,
  finalitySchema,
  hexSignatureSchema,
  idSchema,
  limitSchema,
  sha256Schema,
  uintString,
  valueNotesSchema,
} from "../../lib/api/primitives.ts";
import { AppError, notFound } from "../errors.ts";
import { closeAfterAnswer } from "../http/body-limit.ts";
import type { WorksRepository } from "../repositories/works.ts";
import type { Uploader, WorksService } from "../services/works.ts";

export const workSchema = z
  .object({
    workId: z.string(),
    contentHash: z.string(),
    creator: z.string(),
    parentId: z.string().nullable(),
    cid: z.string(),
    metadataURI: z.string(),
    coAuthors: z.array(z.string()),
    valueNotes: valueNotesSchema,
    registeredAt: z
      .string()
      .describe("ISO 8601 time the claim's id was reserved (its commitment's or batch's block)"),
    supersededBy: z
      .string()
      .nullable()
      .describe(
        "The earlier claim of the same file that holds the work; this claim's creator is not its author",
      ),
    blockNumber: z.string(),
    blockHash: z.string(),
    txHash: z.string(),
    logIndex: z.number(),
    finality: finalitySchema,
  })
  .meta({ id: "Work" });

const registrationSchema = z
  .object({
    contentHash: z.string(),
    status: z.enum(["pending", "submitted", "anchored", "failed"]),
    mode: z.enum(["direct", "batch"]).nullable(),
    creator: z.string(),
    txHash: z.string().nullable(),
    error: z.string().nullable(),
    work: workSchema.nullable(),
    batch: z
      .object({
        id: z.string(),
        merkleRoot: z.string().nullable(),
        leaf: z.string(),
        leafIndex: z.number().nullable(),
        registrationDigest: z.string().nullable(),
        proof: z.array(z.string()),
      })
      .nullable(),
  })
  .meta({ id: "Registration" });

const uploadSchema = z
  .object({
    sha256: z.string(),
    cid: z.string(),
    size: z.number(),
    metadataURI: z.string(),
    alreadyRegistered: z.boolean(),
    registration: workSchema.nullable(),
    typedData: z
      .object({
        domain: z.object({
          name: z.string(),
          version: z.string(),
          chainId: z.string(),
          verifyingContract: z.string(),
        }),
        types: z.record(z.string(), z.array(z.object({ name: z.string(), type: z.string() }))),
        primaryType: z.literal("Register"),
        message: z.record(z.string(), z.string()),
      })
      .nullable()
      .describe("EIP-712 payload for the creator to sign; null when the file is registered already"),
  })
  .meta({ id: "Upload" });

const sha256Params = z.object({ sha256: sha256Schema });
const idParams = z.object({ id: idSchema });

/** Works: upload and register (creators), read (everyone). */
/** The account an upload is charged to: a signed-in creator's wallet or an API key; nobody else uploads. */
function uploaderOf(req: Request, res: Response): Uploader {
  if (req.auth?.kind === "session") {
    return { account: `wallet:${req.auth.session.address}`, address: req.auth.session.address };
  }
  if (req.auth?.kind === "apiKey") return { account: `key:${req.auth.apiKey.id}`, address: null };
  closeAfterAnswer(req, res);
  throw new AppError("AUTH_REQUIRED", 401, "sign in with Ethereum or send an API key to upload");
}

export function worksRouter(
  service: WorksService,
  works: WorksRepository,
  registry: OpenApiRegistry,
): Router {
  const router = Router();

  route(
    router,
    registry,
    {
      method: "post",
      path: "/v1/works",
      summary: "Upload a file: SHA-256 and CID computed while streaming, stored in IPFS",
      tags: ["works"],
      bodyContentType: "multipart/form-data",
      responses: {
        201: { description: "Stored; sign `typedData` to register", schema: uploadSchema },
        401: { description: "Uploads are for signed-in creators and API keys" },
        413: { description: "Larger than the upload limit or what is left of the account's quota" },
      },
    },
    async ({ req, res }) => service.upload(req, res, uploaderOf(req, res)),
  );

  route(
    router,
    registry,
    {
      method: "post",
      path: "/v1/works/:sha256/register",
      summary: "Register an uploaded file with the creator's EIP-712 signature; the relayer pays gas",
      tags: ["works"],
      params: sha256Params,
      body: z.object({
        creator: addressSchema,
        cid: z.string().min(1).max(128),
        metadataURI: z.string().min(1).max(512),
        parentId: uintString.default("0"),
        nonce: uintString,
        deadline: uintString,
        signature: hexSignatureSchema,
      }),
      responses: {
        202: {
          description: "Accepted; poll GET /v1/works/by-hash/:sha256/registration",
          schema: registrationSchema,
        },
      },
    },
    async ({ params, body }) => service.register(params.sha256, body),
  );

  route(
    router,
    registry,
    {
      method: "get",
      path: "/v1/works/by-hash/:sha256/registration",
      summary: "Progress of a registration: pending → submitted → anchored",
      tags: ["works"],
      params: sha256Params,
      responses: { 200: { description: "Registration status", schema: registrationSchema } },
    },
    async ({ params }) => service.status(params.sha256),
  );

  route(
    router,
    registry,
    {
      method: "get",
      path: "/v1/works/by-hash/:sha256",
      summary: "The registered work with this SHA-256",
      tags: ["works"],
      params: sha256Params,
      responses: { 200: { description: "Work", schema: workSchema } },
    },
    async ({ params }) =>
      (await works.findByHash(params.sha256)) ?? Promise.reject(notFound("work", { sha256: params.sha256 })),
  );

  route(
    router,
    registry,
    {
      method: "get",
      path: "/v1/works",
      summary: "Registered works, newest first, with cursor pagination",
      tags: ["works"],
      query: z.object({
        creator: addressSchema.optional(),
        q: z.string().max(200).optional().describe("text in the title or description"),
        cursor: idSchema.optional().describe("nextCursor of the previous page"),
        limit: limitSchema,
      }),
      responses: {
        200: {
          description: "A page of works",
          schema: z.object({ items: z.array(workSchema), nextCursor: z.string().nullable() }),
        },
      },
    },
    async ({ query }) => works.list(query),
  );

  route(
    router,
    registry,
    {
      method: "get",
      path: "/v1/works/:id",
      summary: "A registered work",
      tags: ["works"],
      params: idParams,
      responses: { 200: { description: "Work", schema: workSchema } },
    },
    async ({ params }) =>
      (await works.findById(params.id)) ?? Promise.reject(notFound("work", { id: params.id })),
  );

  route(
    router,
    registry,
    {
      method: "get",
      path: "/v1/works/:id/versions",
      summary: "The work's version chain, oldest first, including later versions",
      tags: ["works"],
      params: idParams,
      responses: { 200: { description: "Versions", schema: z.object({ items: z.array(workSchema) }) } },
    },
    async ({ params }) => {
      const items = await works.versions(params.id);
      if (items.length === 0) throw notFound("work", { id: params.id });
      return { items };
    },
  );

  return router;
}
