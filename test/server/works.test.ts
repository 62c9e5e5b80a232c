import { createHash } from "node:crypto";
import { expect } from "chai";
import request from "supertest";
import type { JsonRpcSigner } from "ethers";
import { ApiKeys } from "../../server/auth/api-keys.ts";
import { commitAndReveal } from "../helpers/registry.ts";
import { sessionToken, startTestStack, type TestStack } from "../helpers/stack.ts";

interface UploadBody {
  sha256: string;
  cid: string;
  metadataURI: string;
  alreadyRegistered: boolean;
  typedData: {
    domain: { name: string; version: string; chainId: string; verifyingContract: string };
    types: Record<string, { name: string; type: string }[]>;
    message: Record<string, string>;
  } | null;
}

function sha256(bytes: Buffer): string {
  return "0x" + createHash("sha256").update(bytes).digest("hex");
}

const uploaderToken = await sessionToken("0x0000000000000000000000000000000000000005");

/** POST /v1/works as a signed-in creator: uploads need a session or an API key. */
const postWorks = (stack: TestStack) =>
  request(stack.app).post("/v1/works").set("Authorization", `Bearer ${uploaderToken}`);

async function upload(stack: TestStack, bytes: Buffer, fields: Record<string, string>) {
  let req = postWorks(stack);
  for (const [k, v] of Object.entries(fields)) req = req.field(k, v);
  return req.attach("file", bytes, { filename: "work.txt", contentType: "text/plain" });
}

async function sign(signer: JsonRpcSigner, typed: NonNullable<UploadBody["typedData"]>): Promise<string> {
  return signer.signTypedData(typed.domain, { Register: typed.types.Register! }, typed.message);
}

async function uploadAndSign(
  stack: TestStack,
  signer: JsonRpcSigner,
  bytes: Buffer,
  extra: Record<string, string> = {},
) {
  const res = await upload(stack, bytes, { creator: signer.address, title: "A work", ...extra });
  expect(res.status, JSON.stringify(res.body)).to.equal(201);
  const body = res.body as UploadBody;
  const signature = await sign(signer, body.typedData!);
  return { body, signature, registerBody: { ...body.typedData!.message, signature } };
}

async function anchored(stack: TestStack, hash: string) {
  return stack.waitFor(async () => {
    const res = await request(stack.app).get(`/v1/works/by-hash/${hash}/registration`);
    return res.body.status === "anchored" ? res.body : null;
  });
}

describe("works API (direct notarization)", function () {
  let stack: TestStack;
  let creator: JsonRpcSigner;
  let other: JsonRpcSigner;

  before(async () => {
    stack = await startTestStack("works_direct");
    creator = await stack.signer(5);
    other = await stack.signer(6);
  });
  after(async () => stack.stop());

  it("uploads, signs and registers a work that becomes anchored with the relayer paying gas", async () => {
    const bytes = Buffer.from("the first manuscript");
    const { body, registerBody } = await uploadAndSign(stack, creator, bytes);
    expect(body.sha256).to.equal(sha256(bytes));
    expect(body.cid).to.match(/^bafkrei/);
    expect(body.alreadyRegistered).to.equal(false);
    const balanceBefore = await stack.provider.getBalance(creator.address);
    const res = await request(stack.app).post(`/v1/works/${body.sha256}/register`).send(registerBody);
    expect(res.status, JSON.stringify(res.body)).to.equal(202);
    expect(res.body.status).to.be.oneOf(["pending", "submitted"]);
    const done = await anchored(stack, body.sha256);
    expect(done.work.creator.toLowerCase()).to.equal(creator.address.toLowerCase());
    expect(done.work.cid).to.equal(body.cid);
    expect(await stack.registry.workOf(body.sha256)).to.equal(BigInt(done.work.workId));
    expect(await stack.provider.getBalance(creator.address)).to.equal(balanceBefore);
    const byId = await request(stack.app).get(`/v1/works/${done.work.workId}`);
    expect(byId.status).to.equal(200);
    expect(byId.body.contentHash).to.equal(body.sha256);
    expect(byId.body.title).to.equal("A work");
  });

  it("keeps a public upload's bytes and metadata private until its registration is anchored", async () => {
    const { body, registerBody } = await uploadAndSign(stack, creator, Buffer.from("unpublished draft"), {
      visibility: "public",
    });
    const metadataCid = body.metadataURI.replace("ipfs://", "");
    for (const cid of [body.cid, metadataCid]) {
      const res = await request(stack.app).get(`/ipfs/${cid}`);
      expect(res.status, cid).to.equal(404);
      expect(res.body.error.code).to.equal("NOT_FOUND");
    }
    await request(stack.app).post(`/v1/works/${body.sha256}/register`).send(registerBody).expect(202);
    await anchored(stack, body.sha256);
    const file = await request(stack.app).get(`/ipfs/${body.cid}`).buffer(true);
    expect(file.status).to.equal(200);
    expect(Buffer.from(file.body as Buffer).toString()).to.equal("unpublished draft");
    expect((await request(stack.app).get(`/ipfs/${metadataCid}`)).status).to.equal(200);
  });

  it("commits first and reveals in a later block, one transaction each for the file", async () => {
    const { body, registerBody } = await uploadAndSign(stack, creator, Buffer.from("committed first"));
    await request(stack.app).post(`/v1/works/${body.sha256}/register`).send(registerBody).expect(202);
    await anchored(stack, body.sha256);
    const { rows } = await stack.db.pool.query<{ purpose: string; hash: string }>(
      `SELECT purpose, hash FROM relayer_transactions WHERE ref = $1 ORDER BY sent_at`,
      [body.sha256],
    );
    expect(rows.map((r) => r.purpose)).to.deep.equal(["commit", "revealFor"]);
    const [commit, reveal] = await Promise.all(rows.map((r) => stack.provider.getTransactionReceipt(r.hash)));
    expect(reveal!.blockNumber).to.be.greaterThan(commit!.blockNumber);
    // The commit's calldata shows only the commitment, never the file's hash.
    const sent = await stack.provider.getTransaction(rows[0]!.hash);
    expect(sent!.data.toLowerCase()).to.not.contain(body.sha256.slice(2));
  });

  it("shows a squatter who copies a registered hash as a superseded claim, never as its author", async () => {
    const { body, registerBody } = await uploadAndSign(stack, creator, Buffer.from("worth squatting"));
    await request(stack.app).post(`/v1/works/${body.sha256}/register`).send(registerBody).expect(202);
    const done = await anchored(stack, body.sha256);
    const squat = await commitAndReveal(stack.registry, other, body.sha256);
    expect((await stack.registry.getWork(squat.workId)).superseded).to.equal(true);
    const claim = await stack.waitFor(async () => {
      const res = await request(stack.app).get(`/v1/works/${squat.workId}`);
      return res.status === 200 && res.body.supersededBy !== null ? res.body : null;
    });
    expect(claim.supersededBy).to.equal(done.work.workId);
    expect(claim.creator.toLowerCase()).to.equal(other.address.toLowerCase());
    const registration = await request(stack.app).get(`/v1/works/by-hash/${body.sha256}/registration`);
    expect(registration.body.work.workId).to.equal(done.work.workId);
    expect(registration.body.work.creator.toLowerCase()).to.equal(creator.address.toLowerCase());
    expect(registration.body.work.supersededBy).to.equal(null);
  });

  it("answers 409 with the existing registration for a file registered already", async () => {
    const bytes = Buffer.from("registered twice");
    const { body, registerBody } = await uploadAndSign(stack, creator, bytes);
    await request(stack.app).post(`/v1/works/${body.sha256}/register`).send(registerBody).expect(202);
    const done = await anchored(stack, body.sha256);
    const again = await upload(stack, bytes, { creator: other.address });
    expect(again.status).to.equal(201);
    expect(again.body.alreadyRegistered).to.equal(true);
    expect(again.body.typedData).to.equal(null);
    const res = await request(stack.app).post(`/v1/works/${body.sha256}/register`).send(registerBody);
    expect(res.status).to.equal(409);
    expect(res.body.error.code).to.equal("ALREADY_REGISTERED");
    expect(res.body.error.details.workId).to.equal(done.work.workId);
  });

  it("refuses a payload signed by a wallet other than the creator it names, and records nothing", async () => {
    const bytes = Buffer.from("signed by the wrong wallet");
    const res = await upload(stack, bytes, { creator: creator.address });
    const typed = (res.body as UploadBody).typedData!;
    const signature = await sign(other, typed);
    const reg = await request(stack.app)
      .post(`/v1/works/${res.body.sha256}/register`)
      .send({ ...typed.message, signature });
    expect(reg.status).to.equal(403);
    expect(reg.body.error.code).to.equal("SIGNATURE_MISMATCH");
    const { rowCount } = await stack.db.pool.query(
      `SELECT 1 FROM registration_requests WHERE content_hash = $1`,
      [res.body.sha256],
    );
    expect(rowCount).to.equal(0);
  });

  it("links a new version to its parent and lists the version chain", async () => {
    const first = await uploadAndSign(stack, creator, Buffer.from("draft one"));
    await request(stack.app)
      .post(`/v1/works/${first.body.sha256}/register`)
      .send(first.registerBody)
      .expect(202);
    const v1 = await anchored(stack, first.body.sha256);
    const second = await uploadAndSign(stack, creator, Buffer.from("draft two"), {
      parentId: v1.work.workId,
    });
    await request(stack.app)
      .post(`/v1/works/${second.body.sha256}/register`)
      .send(second.registerBody)
      .expect(202);
    const v2 = await anchored(stack, second.body.sha256);
    expect(v2.work.parentId).to.equal(v1.work.workId);
    const versions = await request(stack.app).get(`/v1/works/${v2.work.workId}/versions`).expect(200);
    expect(versions.body.items.map((w: { workId: string }) => w.workId)).to.deep.equal([
      v1.work.workId,
      v2.work.workId,
    ]);
    const forOther = await upload(stack, Buffer.from("not your parent"), {
      creator: other.address,
      parentId: v1.work.workId,
    });
    const signature = await sign(other, forOther.body.typedData);
    const res = await request(stack.app)
      .post(`/v1/works/${forOther.body.sha256}/register`)
      .send({ ...forOther.body.typedData.message, signature });
    expect(res.status).to.equal(403);
    expect(res.body.error.code).to.equal("PARENT_NOT_OWNED");
  });

  it("shows the title the registering creator signed, not that of an earlier upload of the same bytes", async () => {
    const bytes = Buffer.from("uploaded first by someone else");
    expect((await upload(stack, bytes, { creator: other.address, title: "Stolen title" })).status).to.equal(
      201,
    );
    const { body, registerBody } = await uploadAndSign(stack, creator, bytes, { title: "The real title" });
    await request(stack.app).post(`/v1/works/${body.sha256}/register`).send(registerBody).expect(202);
    const done = await anchored(stack, body.sha256);
    const work = await request(stack.app).get(`/v1/works/${done.work.workId}`).expect(200);
    expect(work.body.title).to.equal("The real title");
  });

  it("returns a work whose strings someone chose to be hostile safely, saying which were changed or cut", async () => {
    const hash = sha256(Buffer.from("hostile strings"));
    const long = `ipfs://${"\u202E".repeat(5000)}`;
    await commitAndReveal(stack.registry, await stack.signer(7), hash, {
      cid: "a\u0000b\u202Egpj.exe",
      metadataURI: long,
    });
    const work = await stack.waitFor(async () => {
      const res = await request(stack.app).get(`/v1/works/by-hash/${hash}`);
      return res.status === 200 ? res.body : null;
    });
    expect(work.cid).to.equal("a\uFFFDb\u202Egpj.exe");
    expect(Buffer.byteLength(work.metadataURI)).to.be.below(Buffer.byteLength(long));
    expect(long.startsWith(work.metadataURI)).to.equal(true);
    expect(work.valueNotes.cid).to.include({ cut: false, replaced: true, length: 13 });
    expect(work.valueNotes.metadataURI).to.include({
      cut: true,
      replaced: false,
      length: Buffer.byteLength(long),
    });
  });

  it("lists works by creator with cursor pagination", async () => {
    const page1 = await request(stack.app).get(`/v1/works?creator=${creator.address}&limit=2`).expect(200);
    expect(page1.body.items).to.have.length(2);
    expect(page1.body.nextCursor).to.be.a("string");
    const page2 = await request(stack.app).get(
      `/v1/works?creator=${creator.address}&limit=2&cursor=${page1.body.nextCursor}`,
    );
    expect(page2.status).to.equal(200);
    const ids = [...page1.body.items, ...page2.body.items].map((w: { workId: string }) => Number(w.workId));
    expect(ids).to.deep.equal([...ids].sort((a, b) => b - a));
    expect(new Set(ids).size).to.equal(ids.length);
  });

  describe("bad input answers a clear 4xx and writes nothing", () => {
    const cases: [string, () => PromiseLike<request.Response>, number, string][] = [
      ["an unknown work id", () => request(stack.app).get("/v1/works/999999"), 404, "NOT_FOUND"],
      ["a non-numeric work id", () => request(stack.app).get("/v1/works/abc"), 400, "VALIDATION_FAILED"],
      [
        "a SQL-looking work id",
        () => request(stack.app).get("/v1/works/1%20OR%201=1"),
        400,
        "VALIDATION_FAILED",
      ],
      ["a malformed hash", () => request(stack.app).get("/v1/works/by-hash/xyz"), 400, "VALIDATION_FAILED"],
      [
        "a malformed creator filter",
        () => request(stack.app).get("/v1/works?creator=0x12"),
        400,
        "VALIDATION_FAILED",
      ],
      [
        "a limit out of range",
        () => request(stack.app).get("/v1/works?limit=100000"),
        400,
        "VALIDATION_FAILED",
      ],
      ["a JSON body instead of multipart", () => postWorks(stack).send({ a: 1 }), 400, "INVALID_UPLOAD"],
      [
        "an upload with no file",
        () => postWorks(stack).field("creator", "0x0000000000000000000000000000000000000001"),
        400,
        "INVALID_UPLOAD",
      ],
      [
        "an upload without a creator",
        async () => {
          // An API key names no creator, so the upload must.
          const { key } = await new ApiKeys(stack.db.pool).create("integrator", []);
          return request(stack.app)
            .post("/v1/works")
            .set("X-Api-Key", key)
            .attach("file", Buffer.from("x"), "x.txt");
        },
        400,
        "VALIDATION_FAILED",
      ],
      [
        "a registration of a file never uploaded",
        () =>
          request(stack.app)
            .post(`/v1/works/0x${"ab".repeat(32)}/register`)
            .send({
              creator: "0x0000000000000000000000000000000000000001",
              cid: "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku",
              metadataURI: "ipfs://x",
              nonce: "1",
              deadline: "99999999999",
              signature: "0x" + "11".repeat(65),
            }),
        404,
        "UPLOAD_NOT_FOUND",
      ],
      [
        "a registration with wrong types",
        () =>
          request(stack.app)
            .post(`/v1/works/0x${"ab".repeat(32)}/register`)
            .send({ creator: 5, nonce: -1 }),
        400,
        "VALIDATION_FAILED",
      ],
      [
        "malformed JSON",
        () =>
          request(stack.app)
            .post(`/v1/works/0x${"ab".repeat(32)}/register`)
            .set("content-type", "application/json")
            .send("{"),
        400,
        "ENTITY_PARSE_FAILED",
      ],
      ["an unknown route", () => request(stack.app).get("/v1/nothing-here"), 404, "ROUTE_NOT_FOUND"],
    ];
    for (const [name, send, status, code] of cases) {
      it(`rejects ${name} with ${status} ${code}`, async () => {
        const before = await stack.db.pool.query(
          `SELECT (SELECT count(*) FROM uploads) + (SELECT count(*) FROM registration_requests) AS n`,
        );
        const res = await send();
        expect(res.status, JSON.stringify(res.body)).to.equal(status);
        expect(res.body.error.code).to.equal(code);
        expect(res.body.error.message).to.be.a("string").and.not.equal("");
        const after = await stack.db.pool.query(
          `SELECT (SELECT count(*) FROM uploads) + (SELECT count(*) FROM registration_requests) AS n`,
        );
        expect(after.rows[0].n).to.equal(before.rows[0].n);
      });
    }

    it("answers 400 to a multipart body cut off inside the file, and keeps serving", async () => {
      const boundary = "----cut";
      const body =
        `--${boundary}\r\nContent-Disposition: form-data; name="creator"\r\n\r\n${creator.address}\r\n` +
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="cut.txt"\r\n` +
        `Content-Type: text/plain\r\n\r\nthe body ends here`;
      const res = await postWorks(stack)
        .set("content-type", `multipart/form-data; boundary=${boundary}`)
        .send(body);
      expect(res.status).to.equal(400);
      expect(res.body.error.code).to.equal("INVALID_UPLOAD");
      await request(stack.app).get("/healthz").expect(200);
    });

    it("answers 400 to text with a NUL character instead of failing in the database", async () => {
      const res = await request(stack.app).get("/v1/works?q=%00");
      expect(res.status).to.equal(400);
      expect(res.body.error.code).to.equal("VALIDATION_FAILED");
      const upload = await postWorks(stack)
        .field("creator", creator.address)
        .field("title", "bad\u0000title")
        .attach("file", Buffer.from("nul title"), "nul.txt");
      expect(upload.status).to.equal(400);
    });

    it("keeps only the last path segment of a file name with path tricks", async () => {
      const res = await postWorks(stack)
        .field("creator", creator.address)
        .attach("file", Buffer.from("path tricks"), {
          filename: "../../etc/passwd",
          contentType: "text/plain",
        });
      expect(res.status).to.equal(201);
      const { rows } = await stack.db.pool.query(`SELECT filename FROM uploads WHERE content_hash = $1`, [
        res.body.sha256,
      ]);
      expect(rows[0].filename).to.equal("passwd");
    });
  });

  // Last in this stack: it moves the chain's clock a month ahead of the wall clock, as a dev chain does.
  it("sets and checks signature deadlines by the chain's clock, so a chain ahead of the wall clock still registers", async () => {
    await stack.provider.send("evm_increaseTime", [31 * 24 * 3600]);
    await stack.provider.send("evm_mine", []);
    const chainNow = (await stack.provider.getBlock("latest"))!.timestamp;
    const { body, registerBody } = await uploadAndSign(
      stack,
      creator,
      Buffer.from("after a month of chain time"),
    );
    expect(Number(body.typedData!.message.deadline)).to.be.greaterThan(chainNow);
    await request(stack.app).post(`/v1/works/${body.sha256}/register`).send(registerBody).expect(202);
    expect((await anchored(stack, body.sha256)).work.workId).to.be.a("string");

    const stale = await uploadAndSign(stack, creator, Buffer.from("signed with a wall-clock deadline"));
    const wallDeadline = String(Math.floor(Date.now() / 1000) + 3600);
    const message = { ...stale.body.typedData!.message, deadline: wallDeadline };
    const signature = await sign(creator, { ...stale.body.typedData!, message });
    const res = await request(stack.app)
      .post(`/v1/works/${stale.body.sha256}/register`)
      .send({ ...message, signature });
    expect(res.status).to.equal(400);
    expect(res.body.error.code).to.equal("SIGNATURE_EXPIRED");
  });
});

describe("works API (oversized uploads)", function () {
  let stack: TestStack;
  before(async () => {
    stack = await startTestStack("works_limit", { env: { UPLOAD_MAX_BYTES: "1024" }, workers: false });
  });
  after(async () => stack.stop());

  it("answers 413 for a file over the configured limit and records nothing", async () => {
    const creator = await stack.signer(5);
    const res = await postWorks(stack)
      .field("creator", creator.address)
      .attach("file", Buffer.alloc(4096, 7), "big.bin");
    expect(res.status).to.equal(413);
    expect(res.body.error.code).to.equal("PAYLOAD_TOO_LARGE");
    const { rows } = await stack.db.pool.query(`SELECT count(*)::int AS n FROM uploads`);
    expect(rows[0].n).to.equal(0);
  });
});

describe("works API (batch notarization)", function () {
  let stack: TestStack;
  before(async () => {
    stack = await startTestStack("works_batch", {
      // Flushed by size: a timer flush on a loaded machine could split the three registrations.
      env: { NOTARIZE_MODE: "batch", BATCH_MAX_WORKS: "3", BATCH_FLUSH_SECONDS: "600" },
    });
  });
  after(async () => stack.stop());

  it("anchors several registrations in one Merkle batch and stores each proof", async () => {
    const creators = await Promise.all([5, 6, 7].map((i) => stack.signer(i)));
    // Uploaded first, then registered together: a batch is anchored once its oldest request is 1 s old.
    const signed = [];
    for (const [i, signer] of creators.entries())
      signed.push(await uploadAndSign(stack, signer, Buffer.from(`batch work ${i}`)));
    const hashes: string[] = [];
    for (const { body, registerBody } of signed) {
      await request(stack.app).post(`/v1/works/${body.sha256}/register`).send(registerBody).expect(202);
      hashes.push(body.sha256);
    }
    const results = await Promise.all(hashes.map((h) => anchored(stack, h)));
    const roots = new Set(results.map((r) => r.batch.merkleRoot));
    expect(roots.size).to.equal(1);
    const [root] = [...roots];
    const { rows } = await stack.db.pool.query(`SELECT batch_id::text FROM batches WHERE merkle_root = $1`, [
      root,
    ]);
    expect(rows).to.have.length(1);
    for (const [i, r] of results.entries()) {
      const values = [
        r.batch.leafIndex,
        creators[i]!.address,
        hashes[i]!,
        r.batch.registrationDigest,
      ] as const;
      expect(await stack.registry.leafOf(...values)).to.equal(r.batch.leaf);
      expect(
        await stack.registry.verifyAnchored(BigInt(rows[0].batch_id), ...values, r.batch.proof),
      ).to.equal(true);
    }
  });
});
