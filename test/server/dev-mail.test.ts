import express from "express";
import { expect } from "chai";
import pino from "pino";
import request from "supertest";
import { errorHandler } from "../../server/errors.ts";
import { OpenApiRegistry } from "../../server/http/openapi.ts";
import { SmtpSender } from "../../server/mail/smtp.ts";
import { devMailRouter } from "../../server/routes/dev-mail.ts";
import { startMailCatcher, type MailCatcher } from "../../scripts/stack/mail-catcher.ts";

const HOSTILE_HTML = `<!doctype html><p>Hello</p><script>parent.document.title = "owned"</script>`;

function message(subject: string, html: string): Buffer {
  return Buffer.from(
    [
      "From: Rights Ledger <mail@rights-ledger.test>",
      "To: buyer@example.com",
      `Subject: ${subject}`,
      "Message-ID: <caught-1@rights-ledger.test>",
      "MIME-Version: 1.0",
      "Content-Type: text/html; charset=utf-8",
      "",
      html,
      "",
    ].join("\r\n"),
  );
}

describe("dev mail: the local SMTP catcher's mail at /v1/dev/mail", function () {
  let catcher: MailCatcher;
  let app: express.Express;

  before(async () => {
    catcher = await startMailCatcher();
    app = express();
    app.use(devMailRouter(catcher, new OpenApiRegistry()));
    app.use(errorHandler(pino({ level: "silent" })));
    const smtp = new SmtpSender(
      { host: "127.0.0.1", port: catcher.port, secure: false, requireTLS: false, auth: null },
      5_000,
    );
    await smtp.deliver(
      {
        from: "mail@rights-ledger.test",
        to: "buyer@example.com",
        raw: message("Your receipt", HOSTILE_HTML),
      },
      async () => undefined,
    );
  });
  after(async () => catcher.stop());

  it("lists caught mail newest first and shows one with its text and HTML", async () => {
    const list = await request(app).get("/v1/dev/mail").expect(200);
    expect(list.body.mails).to.have.length(1);
    expect(list.body.mails[0]).to.include({
      id: "1",
      subject: "Your receipt",
      messageId: "<caught-1@rights-ledger.test>",
    });
    expect(list.body.mails[0].to).to.deep.equal(["buyer@example.com"]);
    const one = await request(app).get("/v1/dev/mail/1").expect(200);
    expect(one.body.html).to.include("<p>Hello</p>");
  });

  it("serves a mail's HTML as a sandboxed document that runs no script and loads nothing", async () => {
    const res = await request(app).get("/v1/dev/mail/1/html").expect(200);
    expect(res.headers["content-type"]).to.match(/^text\/html/);
    const policy = res.headers["content-security-policy"] as string;
    expect(policy)
      .to.match(/(^|; )sandbox(;|$)/)
      .and.include("default-src 'none'");
    expect(policy).to.not.include("script-src");
  });

  it("answers 404 for a mail it did not catch and 400 for an id that is not a number", async () => {
    const missing = await request(app).get("/v1/dev/mail/99").expect(404);
    expect(missing.body.error.code).to.equal("NOT_FOUND");
    await request(app).get("/v1/dev/mail/99/html").expect(404);
    const bad = await request(app).get("/v1/dev/mail/..%2F1").expect(400);
    expect(bad.body.error.code).to.equal("VALIDATION_FAILED");
  });
});
