import { randomBytes } from "node:crypto";
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { expect } from "chai";
import { Wallet } from "ethers";
import express from "express";
import JSZip from "jszip";
import { network } from "hardhat";
import pino from "pino";
import request from "supertest";
import type { ZipLimits } from "../../lib/evidence/zip.ts";
import { buildBundle } from "../../server/evidence/build-bundle.ts";
import { errorHandler, routeNotFound } from "../../server/errors.ts";
import { OpenApiRegistry } from "../../server/http/openapi.ts";
import { evidenceVerifyRouter } from "../../server/routes/evidence-verify.ts";
import {
  multipartHead,
  multipartTail,
  postBigBody,
  residentMemory,
  resetPeakMemory,
  type BigBodyAnswer,
} from "../helpers/big-body.ts";
import { deployEvidenceChain, directInput, registerFile, sampleFile } from "../helpers/evidence.ts";
import { startServerProcess, type ServerProcess } from "../helpers/server-process.ts";
import { startTestStack, type TestStack } from "../helpers/stack.ts";
import { zipBomb } from "../helpers/zip-bomb.ts";

const { ethers } = await network.create();
const MiB = 1024 * 1024;
const platform = Wallet.createRandom();

const LIMITS: ZipLimits = {
  maxEntries: 16,
  maxEntryBytes: 4 * MiB,
  maxTotalBytes: 6 * MiB,
  maxRatio: 200,
  ratioFloorBytes: MiB,
};

describe("POST /v1/evidence/verify under abuse", function () {
  this.timeout(120_000);
  let server: Server;
  let url: string;
  let bundle: Uint8Array;

  before(async function () {
    const chain = await deployEvidenceChain(ethers);
    const reg = await registerFile(chain, sampleFile());
    bundle = await buildBundle(directInput(chain, reg, platform));
    const app = express();
    app.use(
      evidenceVerifyRouter(
        {
          provider: ethers.provider,
          expectedSigner: platform.address,
          minConfirmations: 1,
          maxBytes: 8 * MiB,
          zipLimits: LIMITS,
          concurrency: 2,
        },
        new OpenApiRegistry(),
      ),
    );
    app.use(routeNotFound);
    app.use(errorHandler(pino({ level: "silent" })));
    server = app.listen(0, "127.0.0.1");
    await new Promise((resolve) => server.once("listening", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/evidence/verify`;
  });

  after(async function () {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it("verifies a genuine bundle within the limits", async function () {
    const res = await request(server)
      .post("/v1/evidence/verify")
      .attach("bundle", Buffer.from(bundle), "bundle.zip");
    expect(res.status).to.equal(200);
    expect(res.body.ok).to.equal(true);
  });

  it("answers 413 to a zip bomb whose headers declare 10 bytes, without inflating it", async function () {
    const bomb = await zipBomb([{ name: "manifest.json", inflatedBytes: 256 * MiB, declaredBytes: 10 }]);
    const res = await request(server).post("/v1/evidence/verify").attach("bundle", bomb, "bundle.zip");
    expect(res.status).to.equal(413);
    expect(res.body.error.code).to.equal("BUNDLE_TOO_LARGE");
    expect(res.body.error.details.limit).to.equal("maxEntryBytes");
  });

  it("answers 413 to files that each pass but together inflate past the total", async function () {
    const zip = new JSZip();
    for (const i of [1, 2]) zip.file(`original/part${i}`, randomBytes(3.5 * MiB), { compression: "STORE" });
    const res = await request(server)
      .post("/v1/evidence/verify")
      .attach("bundle", await zip.generateAsync({ type: "nodebuffer" }), "bundle.zip");
    expect(res.status).to.equal(413);
    expect(res.body.error.details.limit).to.equal("maxTotalBytes");
  });

  it("answers 413 to an entry that inflates a thousand times its size", async function () {
    const res = await request(server)
      .post("/v1/evidence/verify")
      .attach("bundle", await zipBomb([{ name: "report.pdf", inflatedBytes: 3 * MiB }]), "bundle.zip");
    expect(res.status).to.equal(413);
    expect(res.body.error.details.limit).to.equal("maxRatio");
  });

  it("answers 413 to a declared length over the limit before a byte of the body is sent", async function () {
    const res = await postBigBody(url, { zeros: 100 * MiB, head: multipartHead("bundle"), holdMs: 60_000 });
    expect(res.status).to.equal(413);
    expect(res.body.error?.code).to.equal("PAYLOAD_TOO_LARGE");
    expect(res.sent).to.equal(0);
  });

  it("answers 413 to a chunked body once it passes the limit, reading no further", async function () {
    const res = await postBigBody(url, {
      zeros: 100 * MiB,
      head: multipartHead("bundle"),
      declareLength: false,
    });
    expect(res.status).to.equal(413);
    expect(res.body.error?.code).to.equal("PAYLOAD_TOO_LARGE");
    expect(res.sent).to.be.below(20 * MiB);
  });

  it("answers 429 with Retry-After while as many bundles as allowed are being received", async function () {
    const slow = () =>
      postBigBody(url, {
        head: multipartHead("bundle"),
        zeros: MiB,
        tail: multipartTail(),
        holdMs: 1_500,
      });
    const held = [slow(), slow()];
    await new Promise((r) => setTimeout(r, 300));
    const res = await request(server)
      .post("/v1/evidence/verify")
      .attach("bundle", Buffer.from(bundle), "b.zip");
    expect(res.status).to.equal(429);
    expect(res.body.error.code).to.equal("VERIFY_BUSY");
    expect(res.headers["retry-after"]).to.equal("1");
    const statuses = (await Promise.all(held)).map((a) => a.status);
    expect(statuses).to.deep.equal([200, 200]);
    const after = await request(server)
      .post("/v1/evidence/verify")
      .attach("bundle", Buffer.from(bundle), "b.zip");
    expect(after.status).to.equal(200);
  });
});

describe("POST /v1/evidence/verify: the API process's memory under a flood", function () {
  this.timeout(300_000);
  let stack: TestStack;
  let api: ServerProcess;

  before(async function () {
    stack = await startTestStack("evidence_verify_memory", { workers: false, indexer: false });
    api = await startServerProcess(stack, { part: "api" });
  });

  after(async function () {
    await api?.stop();
    await stack?.stop();
  });

  it("keeps its resident memory within 100 MB of where it was through zip bombs and 20 bodies of 100 MB, all answered 413 quickly", async function () {
    const url = `${api.url}/v1/evidence/verify`;
    // A bomb of 1 GiB in about 1 MB: what today's verifier would inflate whole.
    const bomb = await zipBomb([{ name: "manifest.json", inflatedBytes: 1024 * MiB }]);
    const small = await postBigBody(url, {
      head: multipartHead("bundle"),
      zeros: 1024,
      tail: multipartTail(),
    });
    expect(small.status).to.equal(200);
    await resetPeakMemory(api.pid);
    const before = await residentMemory(api.pid);

    const bombs: BigBodyAnswer[] = [];
    for (let i = 0; i < 3; i++) {
      const head = Buffer.concat([multipartHead("bundle", "bomb.zip"), bomb, multipartTail()]);
      bombs.push(await postBigBody(url, { head }));
    }
    const declared = Array.from({ length: 10 }, () =>
      postBigBody(url, { zeros: 100 * MiB, head: multipartHead("bundle") }),
    );
    const chunked = Array.from({ length: 10 }, () =>
      postBigBody(url, { zeros: 100 * MiB, head: multipartHead("bundle"), declareLength: false }),
    );
    const floods = await Promise.all([...declared, ...chunked]);
    const after = await residentMemory(api.pid);

    for (const answer of bombs) {
      expect(answer.status).to.equal(413);
      expect(answer.body.error?.code).to.equal("BUNDLE_TOO_LARGE");
    }
    for (const answer of floods.slice(0, 10)) expect(answer.status).to.equal(413);
    // Bodies beyond the verifications one process runs at once are refused before they are read.
    for (const answer of floods.slice(10)) expect(answer.status).to.be.oneOf([413, 429]);
    expect(floods.slice(10).filter((a) => a.status === 413)).to.have.length.of.at.least(1);
    for (const answer of [...bombs, ...floods]) expect(answer.ms).to.be.below(5_000);
    const growth = after.peak - before.rss;
    console.log(
      `      RSS ${(before.rss / MiB).toFixed(0)} MB before, peak ${(after.peak / MiB).toFixed(0)} MB: growth ${(growth / MiB).toFixed(1)} MB`,
    );
    expect(growth).to.be.below(100 * MiB);
  });
});
