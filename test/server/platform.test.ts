import { createHash } from "node:crypto";
import { expect } from "chai";
import request from "supertest";
import { SiweMessage } from "siwe";
import type { JsonRpcSigner } from "ethers";
import { ApiKeys } from "../../server/auth/api-keys.ts";
import { startTestStack, type TestStack } from "../helpers/stack.ts";

const DOMAIN = "rights-ledger.test";

async function signIn(stack: TestStack, signer: JsonRpcSigner, overrides: Partial<SiweMessage> = {}) {
  const { body } = await request(stack.app).post("/v1/auth/nonce").expect(201);
  const message = new SiweMessage({
    domain: DOMAIN,
    address: signer.address,
    statement: "Sign in to Rights Ledger",
    uri: `https://${DOMAIN}`,
    version: "1",
    chainId: stack.chainId,
    nonce: body.nonce,
    issuedAt: new Date().toISOString(),
    ...overrides,
  }).prepareMessage();
  const signature = await signer.signMessage(message);
  return request(stack.app).post("/v1/auth/verify").send({ message, signature });
}

describe("platform: sign-in, API keys, health, OpenAPI", function () {
  let stack: TestStack;
  let admin: JsonRpcSigner;
  let user: JsonRpcSigner;

  before(async () => {
    stack = await startTestStack("platform", { workers: false });
    admin = await stack.signer(0);
    user = await stack.signer(6);
  });
  after(async () => stack.stop());

  describe("Sign-In with Ethereum", () => {
    it("issues a session token for a correctly signed message and marks the deployment admin", async () => {
      const res = await signIn(stack, user);
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      expect(res.body.address).to.equal(user.address);
      expect(res.body.isAdmin).to.equal(false);
      const adminRes = await signIn(stack, admin);
      expect(adminRes.body.isAdmin).to.equal(true);
    });

    it("refuses a nonce used twice", async () => {
      const { body } = await request(stack.app).post("/v1/auth/nonce").expect(201);
      const message = new SiweMessage({
        domain: DOMAIN,
        address: user.address,
        uri: `https://${DOMAIN}`,
        version: "1",
        chainId: stack.chainId,
        nonce: body.nonce,
      }).prepareMessage();
      const signature = await user.signMessage(message);
      await request(stack.app).post("/v1/auth/verify").send({ message, signature }).expect(200);
      const replay = await request(stack.app).post("/v1/auth/verify").send({ message, signature });
      expect(replay.status).to.equal(401);
      expect(replay.body.error.code).to.equal("SIWE_NONCE_INVALID");
    });

    it("refuses a message for another domain, another chain, or signed by another wallet", async () => {
      expect((await signIn(stack, user, { domain: "evil.example" })).body.error.code).to.equal(
        "SIWE_DOMAIN_MISMATCH",
      );
      expect((await signIn(stack, user, { chainId: 1 })).body.error.code).to.equal("SIWE_CHAIN_MISMATCH");
      const { body } = await request(stack.app).post("/v1/auth/nonce").expect(201);
      const message = new SiweMessage({
        domain: DOMAIN,
        address: user.address,
        uri: `https://${DOMAIN}`,
        version: "1",
        chainId: stack.chainId,
        nonce: body.nonce,
      }).prepareMessage();
      const forged = await request(stack.app)
        .post("/v1/auth/verify")
        .send({ message, signature: await admin.signMessage(message) });
      expect(forged.status).to.equal(401);
      expect(forged.body.error.code).to.equal("SIWE_SIGNATURE_INVALID");
    });

    it("answers 400 for a message that is not EIP-4361 and 401 for a forged bearer token", async () => {
      const bad = await request(stack.app)
        .post("/v1/auth/verify")
        .send({ message: "hello", signature: "0x00" });
      expect(bad.status).to.equal(400);
      expect(bad.body.error.code).to.equal("INVALID_SIWE_MESSAGE");
      const forged = await request(stack.app)
        .get("/v1/admin/api-keys")
        .set("Authorization", "Bearer abc.def.ghi");
      expect(forged.status).to.equal(401);
      expect(forged.body.error.code).to.equal("INVALID_SESSION");
    });
  });

  describe("API keys", () => {
    it("lets an admin session create a legal key that authenticates, and stores only its hash", async () => {
      const token = (await signIn(stack, admin)).body.token;
      const created = await request(stack.app)
        .post("/v1/admin/api-keys")
        .set("Authorization", `Bearer ${token}`)
        .send({ name: "Legal team", scopes: ["legal"], organisation: "Firm A" });
      expect(created.status, JSON.stringify(created.body)).to.equal(201);
      expect(created.body.apiKey.organisation).to.equal("Firm A");
      const key: string = created.body.key;
      const { rows } = await stack.db.pool.query(`SELECT secret_hash FROM api_keys WHERE id = $1`, [
        created.body.apiKey.id,
      ]);
      const secret = key.slice(`rlk_${created.body.apiKey.id}_`.length);
      expect(rows[0].secret_hash.toString("hex")).to.equal(createHash("sha256").update(secret).digest("hex"));
      expect(JSON.stringify(rows)).to.not.include(secret);
      expect(await new ApiKeys(stack.db.pool).verify(key)).to.deep.include({
        name: "Legal team",
        scopes: ["legal"],
        organisation: "Firm A",
      });
    });

    it("refuses key management to a non-admin session (403) and to anonymous callers (401)", async () => {
      const token = (await signIn(stack, user)).body.token;
      const forbidden = await request(stack.app)
        .get("/v1/admin/api-keys")
        .set("Authorization", `Bearer ${token}`);
      expect(forbidden.status).to.equal(403);
      expect((await request(stack.app).get("/v1/admin/api-keys")).status).to.equal(401);
    });

    it("refuses a revoked or malformed key with 401", async () => {
      const keys = new ApiKeys(stack.db.pool);
      const { key, apiKey } = await keys.create("Temporary", ["legal"]);
      await keys.revoke(apiKey.id);
      const revoked = await request(stack.app).get("/v1/works").set("X-Api-Key", key);
      expect(revoked.status).to.equal(401);
      expect(revoked.body.error.code).to.equal("INVALID_API_KEY");
      expect((await request(stack.app).get("/v1/works").set("X-Api-Key", "rlk_nope")).status).to.equal(401);
    });
  });

  describe("operations", () => {
    it("answers /healthz, and /readyz with every dependency checked", async () => {
      await request(stack.app).get("/healthz").expect(200, { status: "ok" });
      const ready = await request(stack.app).get("/readyz").expect(200);
      expect(Object.keys(ready.body.checks).sort()).to.deep.equal(["chain", "database", "ipfs", "redis"]);
      expect(ready.body.quarantinedEvents).to.equal(0);
    });

    it("exposes Prometheus metrics including request durations", async () => {
      await request(stack.app).get("/v1/works").expect(200);
      const metrics = await request(stack.app).get("/metrics").expect(200);
      expect(metrics.text).to.include("http_request_duration_seconds_bucket");
      expect(metrics.text).to.include("process_cpu_user_seconds_total");
    });

    it("serves an OpenAPI 3.1 document generated from the routes' schemas, and the docs page with local assets", async () => {
      const doc = await request(stack.app).get("/openapi.json").expect(200);
      expect(doc.body.openapi).to.equal("3.1.0");
      expect(doc.body.paths).to.have.property("/v1/works/{id}");
      expect(
        doc.body.paths["/v1/licenses/verify"].get.parameters.map((p: { name: string }) => p.name),
      ).to.deep.equal(["workId", "holder"]);
      // Publishing an offer needs a session only with a card price: anonymous or signed in.
      expect(doc.body.paths["/v1/works/{id}/offers"].post.security).to.deep.equal([{}, { session: [] }]);
      expect(doc.body.paths["/v1/offers/{id}/fiat-price"].put.security).to.deep.equal([{ session: [] }]);
      const docs = await request(stack.app).get("/docs").expect(200);
      expect(docs.text).to.include("/docs/assets/swagger-ui-bundle.js");
      await request(stack.app).get("/docs/assets/swagger-ui-bundle.js").expect(200);
    });

    it("echoes a well-formed request id and replaces a malformed one", async () => {
      const res = await request(stack.app).get("/healthz").set("X-Request-Id", "abc-123");
      expect(res.headers["x-request-id"]).to.equal("abc-123");
      const replaced = await request(stack.app).get("/healthz").set("X-Request-Id", "<script>");
      expect(replaced.headers["x-request-id"]).to.match(/^[0-9a-f-]{36}$/);
    });
  });
});

describe("platform: rate limits", function () {
  let stack: TestStack;
  before(async () => {
    stack = await startTestStack("rate_limit", { workers: false, env: { RATE_LIMIT_PER_MINUTE: "3" } });
  });
  after(async () => stack.stop());

  it("answers the request over the per-IP limit with 429, Retry-After and the rule's name", async () => {
    for (let i = 0; i < 3; i++) await request(stack.app).get("/v1/works").expect(200);
    const limited = await request(stack.app).get("/v1/works");
    expect(limited.status).to.equal(429);
    expect(limited.body.error.code).to.equal("RATE_LIMITED");
    expect(limited.body.error.details.rule).to.equal("per-ip");
    expect(Number(limited.headers["retry-after"])).to.be.within(1, 60);
  });
});
