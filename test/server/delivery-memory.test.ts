import { expect } from "chai";
import { downloadWatchingMemory, licensedPrivateWork } from "../helpers/delivery.ts";
import { startServerProcess, type ServerProcess } from "../helpers/server-process.ts";
import { sessionToken, startTestStack, type TestStack } from "../helpers/stack.ts";

const GiB = 1024 * 1024 * 1024;
const MB = 1_000_000;

describe("delivery of a large private work", function () {
  this.timeout(600_000);
  let stack: TestStack;
  let api: ServerProcess;

  before(async () => {
    stack = await startTestStack("delivery_memory");
    api = await startServerProcess(stack, { part: "api" });
  });
  after(async () => {
    await api?.stop();
    await stack?.stop();
  });

  it("streams a 1 GiB private file through decryption to its holder, exact, with the API's memory growing under 64 MB", async () => {
    const creator = await stack.signer(5);
    const buyer = await stack.signer(6);
    const work = await licensedPrivateWork(stack, creator, buyer, "one gibibyte", GiB);
    const link = await fetch(`${api.url}/v1/works/${work.workId}/downloads`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${await sessionToken(buyer.address)}`,
        "content-type": "application/json",
      },
      body: "{}",
    });
    expect(link.status).to.equal(201);
    const { url } = (await link.json()) as { url: string };
    // A first small range warms the process up, so the baseline is the API at work, not idle.
    const warm = await fetch(`${api.url}${url}`, { headers: { range: "bytes=0-1048575" } });
    expect(warm.status).to.equal(206);
    await warm.arrayBuffer();

    const got = await downloadWatchingMemory(`${api.url}${url}`, api.pid);
    expect(got.bytes).to.equal(GiB);
    expect(got.sha256).to.equal(work.contentHash);
    expect(got.rssGrowth, `grew by ${(got.rssGrowth / MB).toFixed(1)} MB`).to.be.below(64 * 1024 * 1024);
  });
});
