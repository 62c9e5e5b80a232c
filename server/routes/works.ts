import { Router, type Request, type Response } from "express";
import { z } from "zod";
import type { OpenApiRegistry } from "../http/openapi.ts";
import { route } from "../http/route.ts";
import { idSchema, pageOf } from "../../lib/api/primitives.ts";
import {
  listWorksQuery,
  previewSchema,
  registerBody,
  registrationSchema,
  sha256Params,
  uploadSchema,
  workSchema,
} from "../../lib/api/works.ts";
import { AppError } from "../errors.ts";
import { closeAfterAnswer } from "../http/body-limit.ts";
import type { WorkLookup } from "../services/work-lookup.ts";
import type { Uploader, WorksService } from "../services/works.ts";

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

export function worksRouter(service: WorksService, works: WorkLookup, registry: OpenApiRegistry): Router {
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
      body: registerBody,
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
      method: "put",
      path: "/v1/works/by-hash/:sha256/preview",
      summary: "Set a work's public preview (its creator, signed in): stored in the clear, served by /ipfs",
      tags: ["works"],
      security: ["session"],
      params: sha256Params,
      bodyContentType: "multipart/form-data",
      responses: {
        200: { description: "The preview", schema: previewSchema },
        403: { description: "Another wallet's work" },
        409: { description: "The upload is not registered yet" },
        413: { description: "Larger than PREVIEW_MAX_BYTES" },
      },
    },
    async ({ params, req, res }) => {
      const session = req.auth?.kind === "session" ? req.auth.session : null;
      if (!session) {
        closeAfterAnswer(req, res);
        throw new AppError("AUTH_REQUIRED", 401, "sign in as the work's creator to set its preview");
      }
      return service.setPreview(req, res, session.address, params.sha256);
    },
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
    async ({ params }) => works.byHash(params.sha256),
  );

  route(
    router,
    registry,
    {
      method: "get",
      path: "/v1/works",
      summary: "Registered works, newest first, with cursor pagination",
      tags: ["works"],
      query: listWorksQuery,
      responses: {
        200: {
          description: "A page of works",
          schema: pageOf(workSchema),
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
    async ({ params }) => works.byId(params.id),
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
    async ({ params }) => works.versions(params.id),
  );

  return router;
}
