import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import * as asn1js from "asn1js";
import { expect } from "chai";
import * as pkijs from "pkijs";
import {
  TimestampError,
  createTimestampRequest,
  parseCertificates,
  requestTimestamp,
  verifyTimestamp,
  verifyTimestampChain,
} from "../../lib/evidence/timestamp.ts";
import { openssl, startTestTsa, type TestTsa } from "../helpers/tsa.ts";

const DIGEST = `0x${"5a".repeat(32)}`;
const OTHER_DIGEST = `0x${"a5".repeat(32)}`;

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error("expected a rejection");
}

describe("RFC 3161 timestamps", function () {
  let tsa: TestTsa;
  let token: Uint8Array;
  let tokenPath: string;

  before(async function () {
    tsa = await startTestTsa();
    token = (await requestTimestamp(tsa.url, DIGEST)).response;
    tokenPath = path.join(tsa.dir, "timestamp.tsr");
    await writeFile(tokenPath, token);
  });

  after(async function () {
    await tsa.close();
  });

  it("builds a request over the SHA-256 digest with a nonce that asks for the certificate", function () {
    const { der, nonce } = createTimestampRequest(DIGEST);
    const request = pkijs.TimeStampReq.fromBER(der);
    expect(request.messageImprint.hashAlgorithm.algorithmId).to.equal("2.16.840.1.101.3.4.2.1");
    expect(
      Buffer.from(request.messageImprint.hashedMessage.valueBlock.valueHexView).toString("hex"),
    ).to.equal(DIGEST.slice(2));
    expect(request.certReq).to.equal(true);
    expect(Buffer.from(request.nonce!.valueBlock.valueHexView).toString("hex")).to.equal(nonce);
    expect(nonce).to.match(/^[0-7][0-9a-f]{15}$/);
  });

  it("gets a token from the authority that names the digest, the nonce, the time and the signer", async function () {
    const before = Date.now();
    const { info } = await requestTimestamp(tsa.url, DIGEST);
    expect(info.digest).to.equal(DIGEST);
    expect(info.signer).to.equal("CN=Rights Ledger Test TSA");
    expect(info.policy).to.equal("1.3.6.1.4.1.99999.1");
    expect(info.nonce).to.match(/^[0-9a-f]{16}$/);
    expect(info.genTime.getTime()).to.be.within(before - 2_000, Date.now() + 1_000);
  });

  it("verifies the token with our verifier and with openssl ts -verify", async function () {
    const info = await verifyTimestamp(token, { digest: DIGEST });
    expect(info.digest).to.equal(DIGEST);
    const out = await openssl(
      [
        "ts",
        "-verify",
        "-in",
        tokenPath,
        "-digest",
        DIGEST.slice(2),
        "-CAfile",
        tsa.caPath,
        "-untrusted",
        tsa.tsaCertPath,
      ],
      tsa.dir,
    );
    expect(out).to.contain("Verification: OK");
  });

  it("fails a token over another digest, in our verifier and in openssl", async function () {
    const err = await rejection(verifyTimestamp(token, { digest: OTHER_DIGEST }));
    expect(err).to.be.instanceOf(TimestampError);
    expect(err.message).to.equal(`the token time-stamps ${DIGEST}, not ${OTHER_DIGEST}`);
    const openSslErr = await rejection(
      openssl(
        ["ts", "-verify", "-in", tokenPath, "-digest", OTHER_DIGEST.slice(2), "-CAfile", tsa.caPath],
        tsa.dir,
      ),
    );
    expect(openSslErr.message).to.match(/message imprint mismatch/);
  });

  it("rejects an answer whose nonce is not the request's", async function () {
    const request = createTimestampRequest(DIGEST);
    const answer = await fetch(tsa.url, {
      method: "POST",
      headers: { "content-type": "application/timestamp-query" },
      body: request.der,
    });
    const response = new Uint8Array(await answer.arrayBuffer());
    expect((await verifyTimestamp(response, { digest: DIGEST, nonce: request.nonce })).nonce).to.equal(
      request.nonce,
    );
    const err = await rejection(verifyTimestamp(response, { digest: DIGEST, nonce: "0123456789abcdef" }));
    expect(err.message).to.match(/nonce differs/);
  });

  it("rejects a token whose signature was altered", async function () {
    const altered = new Uint8Array(token);
    altered[altered.length - 1] = altered[altered.length - 1]! ^ 0xff;
    const err = await rejection(verifyTimestamp(altered, { digest: DIGEST }));
    expect(err.message).to.equal("the token's signature does not verify with its certificate");
  });

  it("reports an authority's refusal with its status", async function () {
    const refusal = new pkijs.TimeStampResp({
      status: new pkijs.PKIStatusInfo({
        status: pkijs.PKIStatus.rejection,
        statusStrings: [new asn1js.Utf8String({ value: "unsupported algorithm" })],
      }),
    });
    const err = await rejection(
      verifyTimestamp(new Uint8Array(refusal.toSchema().toBER()), { digest: DIGEST }),
    );
    expect(err.message).to.equal("time stamp not granted: rejection (unsupported algorithm)");
  });

  it("reports an HTTP error of the authority and bytes that are not a response", async function () {
    const unavailable = () => Promise.resolve(new Response("busy", { status: 503 }));
    expect((await rejection(requestTimestamp(tsa.url, DIGEST, { fetch: unavailable }))).message).to.equal(
      "time-stamping authority answered HTTP 503",
    );
    expect(
      (await rejection(verifyTimestamp(new Uint8Array([1, 2, 3]), { digest: DIGEST }))).message,
    ).to.match(/not a DER/);
  });

  it("chains the authority's certificate to its root CA, and not to an unrelated CA", async function () {
    const ca = parseCertificates(await readFile(tsa.caPath, "utf8"));
    expect(await verifyTimestampChain(token, ca)).to.deep.equal([
      "CN=Rights Ledger Test TSA",
      "CN=Rights Ledger Test Root CA",
    ]);
    const other = parseCertificates(await readFile(tsa.otherCaPath, "utf8"));
    expect((await rejection(verifyTimestampChain(token, other))).message).to.match(/not trusted/);
  });

  it("checks the chain when asked to at request time", async function () {
    const other = parseCertificates(await readFile(tsa.otherCaPath, "utf8"));
    const err = await rejection(requestTimestamp(tsa.url, DIGEST, { trustedCerts: other }));
    expect(err.message).to.match(/not trusted/);
  });

  it("parses one or several PEM certificates, or one DER certificate", async function () {
    const both = `${await readFile(tsa.caPath, "utf8")}\n${await readFile(tsa.tsaCertPath, "utf8")}`;
    expect(parseCertificates(both)).to.have.length(2);
    const der = parseCertificates(both)[0]!.toSchema().toBER();
    expect(parseCertificates(new Uint8Array(der))).to.have.length(1);
    expect(() => parseCertificates("no certificate here")).to.throw(TimestampError);
  });
});
