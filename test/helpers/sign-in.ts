import { expect } from "chai";
import type { JsonRpcSigner } from "ethers";
import { SiweMessage } from "siwe";
import request from "supertest";
import type { TestStack } from "./stack.ts";

/** A session token for `signer`, through the API's Sign-In with Ethereum. */
export async function signIn(stack: TestStack, signer: JsonRpcSigner): Promise<string> {
  const { body } = await request(stack.app).post("/v1/auth/nonce").expect(201);
  const domain = stack.config.auth.siweDomain;
  const message = new SiweMessage({
    domain,
    address: signer.address,
    statement: "Sign in to Rights Ledger",
    uri: `http://${domain}`,
    version: "1",
    chainId: stack.chainId,
    nonce: body.nonce,
    issuedAt: new Date().toISOString(),
  }).prepareMessage();
  const res = await request(stack.app)
    .post("/v1/auth/verify")
    .send({ message, signature: await signer.signMessage(message) });
  expect(res.status, JSON.stringify(res.body)).to.equal(200);
  return res.body.token as string;
}
