import { Router } from "express";
import { z } from "zod";
import {
  caughtMailListSchema,
  caughtMailSchema,
  type CaughtMail,
  type CaughtMailList,
  type CaughtMailSummary,
} from "../../lib/api/mail.ts";
import { notFound } from "../errors.ts";
import type { OpenApiRegistry } from "../http/openapi.ts";
import { route } from "../http/route.ts";

/** The mail the development stack's SMTP catcher caught (scripts/stack/mail-catcher.ts). */
export interface CaughtMailbox {
  /** Newest first. */
  list(): CaughtMailSummary[];
  get(id: string): CaughtMail | null;
}

const idParams = z.object({ id: z.string().regex(/^\d{1,12}$/, "must be a caught mail's number") });

/**
 * A caught mail's HTML runs nothing and loads nothing: it is a sandboxed document of its own, shown
 * by the web app in a frame, so a hostile mail cannot act with the app's origin.
 */
const MAIL_HTML_POLICY =
  "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'";

/** Development stack only (`npm start`): the caught mail, for the web app's /dev/mail. */
export function devMailRouter(mailbox: CaughtMailbox, registry: OpenApiRegistry): Router {
  const router = Router();

  route(
    router,
    registry,
    {
      method: "get",
      path: "/v1/dev/mail",
      summary: "Mail the local SMTP catcher caught, newest first (npm start only)",
      tags: ["dev"],
      responses: { 200: { description: "Caught mail", schema: caughtMailListSchema } },
    },
    (): CaughtMailList => ({ mails: mailbox.list() }),
  );

  route(
    router,
    registry,
    {
      method: "get",
      path: "/v1/dev/mail/:id",
      summary: "One caught mail with its text and HTML (npm start only)",
      tags: ["dev"],
      params: idParams,
      responses: {
        200: { description: "The mail", schema: caughtMailSchema },
        404: { description: "No such mail" },
      },
    },
    ({ params }): CaughtMail => {
      const mail = mailbox.get(params.id);
      if (!mail) throw notFound("caught mail");
      return mail;
    },
  );

  route(
    router,
    registry,
    {
      method: "get",
      path: "/v1/dev/mail/:id/html",
      summary: "A caught mail's HTML as a sandboxed page (npm start only)",
      tags: ["dev"],
      params: idParams,
      responses: { 200: { description: "text/html" }, 404: { description: "No such mail, or no HTML" } },
    },
    ({ params, res }) => {
      const html = mailbox.get(params.id)?.html;
      if (!html) throw notFound("caught mail's HTML");
      res.set("content-security-policy", MAIL_HTML_POLICY).type("html").send(html);
      return undefined;
    },
  );

  return router;
}
