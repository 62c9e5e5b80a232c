import { expect } from "chai";
import type { JsonRpcSigner } from "ethers";
import request from "supertest";
import { offerTerms, publishOffer, registerWork, soleSplit } from "../helpers/commerce.ts";
import { sessionToken, startTestStack, type TestStack } from "../helpers/stack.ts";

interface Upload {
  sha256: string;
  typedData: {
    domain: Record<string, string>;
    types: Record<string, { name: string; type: string }[]>;
    message: Record<string, string>;
  };
}

/** Uploads `text` as `signer`'s work and registers it with their signature; answers its hash. */
async function uploadAndRegister(stack: TestStack, signer: JsonRpcSigner, text: string): Promise<string> {
  const uploaded = await request(stack.app)
    .post("/v1/works")
    .set("Authorization", `Bearer ${await sessionToken(signer.address)}`)
    .field("creator", signer.address)
    .field("title", text)
    .attach("file", Buffer.from(text), { filename: "work.txt", contentType: "text/plain" });
  expect(uploaded.status, JSON.stringify(uploaded.body)).to.equal(201);
  const body = uploaded.body as Upload;
  const signature = await signer.signTypedData(
    body.typedData.domain,
    { Register: body.typedData.types.Register! },
    body.typedData.message,
  );
  const registered = await request(stack.app)
    .post(`/v1/works/${body.sha256}/register`)
    .send({ ...body.typedData.message, signature });
  expect(registered.status, JSON.stringify(registered.body)).to.equal(202);
  return body.sha256;
}

describe("the whole product on the embedded database (DEV_POSTGRES=embedded)", function () {
  let stack: TestStack;

  before(async () => {
    stack = await startTestStack("embedded", { database: "embedded" });
  });
  after(async () => stack.stop());

  it("registers works uploaded at once while their status is read concurrently, every one anchored", async () => {
    const creators = await Promise.all([5, 6, 7, 8].map((i) => stack.signer(i)));
    let reading = true;
    const reads: Promise<void>[] = [];
    const hashes = await Promise.all(
      creators.map(async (creator, i) => {
        const hash = await uploadAndRegister(stack, creator, `embedded work ${i} ${Date.now()}`);
        reads.push(
          (async () => {
            while (reading) {
              const res = await request(stack.app).get(`/v1/works/by-hash/${hash}/registration`);
              expect(res.status, JSON.stringify(res.body)).to.equal(200);
            }
          })(),
        );
        return hash;
      }),
    );
    const anchored = await Promise.all(
      hashes.map((hash) =>
        stack.waitFor(async () => {
          const res = await request(stack.app).get(`/v1/works/by-hash/${hash}/registration`);
          return res.body.status === "anchored" ? res.body : null;
        }, 30_000),
      ),
    );
    reading = false;
    await Promise.all(reads);
    expect(anchored.map((r) => r.work.contentHash)).to.deep.equal(hashes);
    const listed = await request(stack.app).get("/v1/works?limit=10").expect(200);
    expect(listed.body.items).to.have.length(4);
  });

  it("publishes an offer and answers license checks", async () => {
    const creator = await stack.signer(9);
    const workId = await registerWork(stack, creator);
    const offerId = await publishOffer(stack, creator, workId, offerTerms(await soleSplit(stack, creator)));
    const offer = await request(stack.app).get(`/v1/offers/${offerId}`).expect(200);
    expect(offer.body.workId).to.equal(workId);
    const check = await request(stack.app)
      .get(`/v1/licenses/verify?workId=${workId}&holder=${creator.address}`)
      .expect(200);
    expect(check.body.valid).to.equal(false);
  });

  it("answers many concurrent /ipfs lookups of a private original, each one 404", async () => {
    const creator = await stack.signer(10);
    const uploaded = await request(stack.app)
      .post("/v1/works")
      .set("Authorization", `Bearer ${await sessionToken(creator.address)}`)
      .field("creator", creator.address)
      .field("title", "sealed")
      .attach("file", Buffer.from(`sealed ${Date.now()}`), { filename: "w.txt", contentType: "text/plain" });
    expect(uploaded.status, JSON.stringify(uploaded.body)).to.equal(201);
    const answers = await Promise.all(
      Array.from({ length: 24 }, () => request(stack.app).get(`/ipfs/${uploaded.body.cid}`)),
    );
    expect(answers.map((r) => r.status)).to.deep.equal(answers.map(() => 404));
  });

  it("reports itself ready, with nothing quarantined", async () => {
    const ready = await request(stack.app).get("/readyz").expect(200);
    expect(ready.body.quarantinedEvents).to.equal(0);
  });
});
