import { expect } from "chai";
import type { JsonRpcSigner } from "ethers";
import pino from "pino";
import { SiweMessage } from "siwe";
import request from "supertest";
import { guardedRpc } from "../../server/http/dependency-errors.ts";
import { signIn } from "../helpers/sign-in.ts";
import { startTestStack, type TestStack } from "../helpers/stack.ts";

const OPERATOR_TOKEN = "operator-token-operator-token-0123456789";

describe("leaks: operator endpoints, sign-in, sessions, dependency errors", function () {
  let stack: TestStack;
  let user: JsonRpcSigner;

  before(async () => {
    stack = await startTestStack("leaks", { workers: false, env: { OPERATOR_TOKEN } });
    user = await stack.signer(6);
  });
  after(async () => stack.stop());

  async function siwe(overrides: Partial<SiweMessage>, signature?: string) {
    const { body } = await request(stack.app).post("/v1/auth/nonce").expect(201);
    const message = new SiweMessage({
      domain: stack.config.auth.siweDomain,
      address: user.address,
      uri: `http://${stack.config.auth.siweDomain}`,
      version: "1",
      chainId: stack.chainId,
      nonce: body.nonce,
      ...overrides,
    }).prepareMessage();
    return request(stack.app)
      .post("/v1/auth/verify")
      .send({ message, signature: signature ?? (await user.signMessage(message)) });
  }

  it("keeps /metrics and /readyz behind the operator token, and /healthz public", async () => {
    await request(stack.app).get("/healthz").expect(200, { status: "ok" });
    for (const path of ["/metrics", "/readyz"]) {
      const anonymous = await request(stack.app).get(path);
      expect(anonymous.status, path).to.equal(401);
      expect(anonymous.body.error.code).to.equal("OPERATOR_TOKEN_REQUIRED");
      const wrong = await request(stack.app)
        .get(path)
        .set("Authorization", `Bearer ${"x".repeat(40)}`);
      expect(wrong.status, path).to.equal(401);
      const right = await request(stack.app).get(path).set("Authorization", `Bearer ${OPERATOR_TOKEN}`);
      expect(right.status, path).to.equal(200);
    }
  });

  it("refuses a sign-in message whose URI is not this site's origin", async () => {
    const res = await siwe({ uri: "https://evil.example/login" });
    expect(res.status).to.equal(401);
    expect(res.body.error.code).to.equal("SIWE_URI_MISMATCH");
  });

  it("refuses a signature longer than any Ethereum signature with 400, before any work", async () => {
    const res = await siwe({}, "0x" + "ab".repeat(5000));
    expect(res.status).to.equal(400);
    expect(res.body.error.code).to.equal("VALIDATION_FAILED");
  });

  it("refuses a session token after logout, on every request", async () => {
    const token = await signIn(stack, user);
    const auth = { Authorization: `Bearer ${token}` };
    await request(stack.app).get("/v1/works").set(auth).expect(200);
    const out = await request(stack.app).post("/v1/auth/logout").set(auth);
    expect(out.status, out.text).to.equal(200);
    const after = await request(stack.app).get("/v1/works").set(auth);
    expect(after.status).to.equal(401);
    expect(after.body.error.code).to.equal("SESSION_REVOKED");
    const other = await signIn(stack, user);
    await request(stack.app).get("/v1/works").set("Authorization", `Bearer ${other}`).expect(200);
  });

  it("answers a dependency's failure with a generic message and a request id, never its text", async () => {
    const lines: string[] = [];
    const logger = pino({ level: "warn" }, { write: (line: string) => lines.push(line) });
    const failing = {
      send: () =>
        Promise.reject(new Error("server response 401 (requestUrl=https://rpc.example/v2/SECRETKEY)")),
    };
    const rpc = guardedRpc(failing, { requestId: "req-42", logger });
    const err = await rpc.send("eth_blockNumber", []).then(
      () => expect.fail("resolved"),
      (e: Error) => e,
    );
    expect(err.message).to.equal("the chain could not be reached (request req-42)");
    expect(err.message).to.not.include("SECRETKEY");
    expect(lines.join("\n")).to.include("SECRETKEY");
  });
});
