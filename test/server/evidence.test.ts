import { execFile } from "node:child_process";
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import { Wallet, ZeroAddress, type JsonRpcSigner } from "ethers";
import pino from "pino";
import request from "supertest";
import { BUNDLE_PATHS } from "../../lib/evidence/manifest.ts";
import { parseCertificates } from "../../lib/evidence/timestamp.ts";
import { CHECK, fileCheckName, verifyBundle, type VerifyResult } from "../../lib/evidence/verify.ts";
import { PermanentError } from "../../server/errors.ts";
import { ApiKeys } from "../../server/auth/api-keys.ts";
import { DEV_EVIDENCE_SIGNER_KEY } from "../../server/config.ts";
import { ChainFactsPendingError } from "../../server/evidence/chain-facts.ts";
import { collectBundles } from "../../server/jobs/collect-bundles.ts";
import { buildEvidence, type EvidenceJobDeps } from "../../server/jobs/evidence.ts";
import { EvidenceFactsRepository } from "../../server/repositories/evidence-facts.ts";
import { EvidenceRequestsRepository } from "../../server/repositories/evidence-requests.ts";
import { EvidenceBundleStore } from "../../server/evidence/bundle-store.ts";
import { LicenseToken__factory, SplitFactory__factory } from "../../types/typechain/index.ts";
import { submitRegistration } from "../helpers/commerce.ts";
import { flipByte, readManifest, replaceText, rezip, unzip } from "../helpers/evidence.ts";
import { readPdf, squeeze } from "../helpers/pdf.ts";
import { commitAndReveal } from "../helpers/registry.ts";
import { signIn } from "../helpers/sign-in.ts";
import { startTestStack, type TestStack } from "../helpers/stack.ts";
import { startTestTsa, type TestTsa } from "../helpers/tsa.ts";

const PLATFORM_SIGNER = new Wallet(DEV_EVIDENCE_SIGNER_KEY).address;
const OBSERVED_AT = "2025-03-14T09:26:53.000Z";

interface RegisteredWork {
  workId: string | null;
  contentHash: string;
  bytes: Buffer;
  txHash: string;
}

const sha256 = (bytes: Uint8Array) => `0x${createHash("sha256").update(bytes).digest("hex")}`;

/** Uploads, signs and registers a file through the API and waits until it is anchored. */
async function registerThroughApi(
  stack: TestStack,
  signer: JsonRpcSigner,
  bytes: Buffer,
  extra: Record<string, string> = {},
): Promise<RegisteredWork> {
  const contentHash = await submitRegistration(stack, signer, bytes, extra);
  const done = await stack.waitFor(async () => {
    const res = await request(stack.app).get(`/v1/works/by-hash/${contentHash}/registration`);
    return res.body.status === "anchored" ? res.body : null;
  }, 30_000);
  return { workId: done.work?.workId ?? null, contentHash, bytes, txHash: done.txHash };
}

type Credentials = { apiKey: string } | { token: string } | Record<string, never>;

function authed(test: request.Test, credentials: Credentials): request.Test {
  if ("apiKey" in credentials) return test.set("X-Api-Key", credentials.apiKey);
  if ("token" in credentials) return test.set("Authorization", `Bearer ${credentials.token}`);
  return test;
}

const requestEvidence = (stack: TestStack, credentials: Credentials, body: object) =>
  authed(request(stack.app).post("/v1/evidence"), credentials).send(body);

/** Waits until the request is ready (or failed) and returns its status. */
async function settled(stack: TestStack, credentials: Credentials, id: string) {
  return stack.waitFor(async () => {
    const res = await authed(request(stack.app).get(`/v1/evidence/${id}`), credentials);
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    return res.body.status === "ready" || res.body.status === "failed" ? res.body : null;
  }, 30_000);
}

async function download(stack: TestStack, credentials: Credentials, id: string): Promise<Buffer> {
  const res = await authed(request(stack.app).get(`/v1/evidence/${id}/bundle.zip`), credentials)
    .buffer(true)
    .parse((response, done) => {
      const chunks: Buffer[] = [];
      response.on("data", (c: Buffer) => chunks.push(c));
      response.on("end", () => done(null, Buffer.concat(chunks)));
    });
  expect(res.status).to.equal(200);
  return res.body as Buffer;
}

/** Requests evidence, waits for it and downloads the bundle. */
async function bundleOf(stack: TestStack, credentials: Credentials, body: object) {
  const res = await requestEvidence(stack, credentials, body);
  expect(res.status, JSON.stringify(res.body)).to.equal(202);
  const status = await settled(stack, credentials, res.body.id);
  expect(status.status, status.error).to.equal("ready");
  return { id: res.body.id as string, status, zip: await download(stack, credentials, res.body.id) };
}

const failedChecks = (result: VerifyResult) => result.checks.filter((c) => !c.ok).map((c) => c.name);
const passedChecks = (result: VerifyResult) =>
  result.checks.filter((c) => c.ok && !c.skipped).map((c) => c.name);
const skippedChecks = (result: VerifyResult) => result.checks.filter((c) => c.skipped).map((c) => c.name);

function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile("npx", ["--offline", "rights-ledger", ...args], (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code) : 0, stdout, stderr });
    });
  });
}

/** Jobs of the evidence queue in any state. */
async function evidenceJobs(stack: TestStack): Promise<number> {
  const counts = await stack.queues.evidence.getJobCounts();
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

async function evidenceCount(stack: TestStack): Promise<number> {
  const { rows } = await stack.db.pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM evidence_requests`,
  );
  return rows[0]!.n;
}

describe("evidence API (direct registrations)", function () {
  let stack: TestStack;
  let creator: JsonRpcSigner;
  let other: JsonRpcSigner;
  let buyer: JsonRpcSigner;
  let legal: { apiKey: string };
  let work: RegisteredWork;
  let first: { id: string; zip: Buffer; status: { requestedBy: { kind: string; id: string } } };

  before(async function () {
    stack = await startTestStack("evidence_direct", { env: { EVIDENCE_MIN_CONFIRMATIONS: "1" } });
    creator = await stack.signer(5);
    other = await stack.signer(6);
    buyer = await stack.signer(7);
    legal = { apiKey: (await new ApiKeys(stack.db.pool).create("legal team", ["legal"])).key };
    work = await registerThroughApi(stack, creator, Buffer.from("\u0089PNG harbour at dusk, 2024\n"));
    first = await bundleOf(stack, legal, {
      workId: work.workId,
      infringement: {
        url: "https://pirate.example/gallery/harbour.png",
        observedAt: OBSERVED_AT,
        notes: "Offered for sale without a license.",
        suspectSha256: work.contentHash,
      },
    });
  });
  after(async () => stack?.stop());

  it("builds a bundle for a legal API key that passes every offline and online check", async function () {
    const result = await verifyBundle(first.zip, {
      provider: stack.provider,
      minConfirmations: 1,
      expectedSigner: PLATFORM_SIGNER,
    });
    expect(failedChecks(result)).to.deep.equal([]);
    expect(skippedChecks(result)).to.deep.equal([CHECK.timestamp, CHECK.timestampChain, CHECK.original]);
    const manifest = result.manifest!;
    expect(manifest.work).to.include({ workId: work.workId, contentHash: work.contentHash });
    expect(manifest.work.creator).to.equal(creator.address);
    expect(manifest.work.title).to.equal("Harbour at dusk");
    expect(manifest.registration).to.include({
      kind: "direct",
      chainId: stack.chainId,
      registry: stack.deployment.contracts.WorkRegistry.address,
      txHash: work.txHash,
    });
    expect(manifest.infringement).to.deep.equal({
      url: "https://pirate.example/gallery/harbour.png",
      observedAt: OBSERVED_AT,
      notes: "Offered for sale without a license.",
      suspectSha256: work.contentHash,
      suspectMatchesWork: true,
    });
    expect(first.status.requestedBy.kind).to.equal("apiKey");
  });

  it("serves the zip as an attachment with a safe name and its SHA-256 as ETag, and revalidates", async function () {
    const res = await authed(request(stack.app).get(`/v1/evidence/${first.id}/bundle.zip`), legal).buffer(
      true,
    );
    expect(res.headers["content-type"]).to.equal("application/zip");
    expect(res.headers["content-disposition"]).to.equal(
      `attachment; filename="rights-ledger-evidence-work-${work.workId}-${first.id.slice(0, 8)}.zip"`,
    );
    const digest = sha256(first.zip).slice(2);
    expect(res.headers.etag).to.equal(`"${digest}"`);
    const status = await authed(request(stack.app).get(`/v1/evidence/${first.id}`), legal).expect(200);
    expect(status.body.bundle).to.deep.equal({
      sha256: digest,
      size: first.zip.byteLength,
      url: `/v1/evidence/${first.id}/bundle.zip`,
    });
    const again = await authed(request(stack.app).get(`/v1/evidence/${first.id}/bundle.zip`), legal).set(
      "If-None-Match",
      `"${digest}"`,
    );
    expect(again.status).to.equal(304);
  });

  it("writes a report whose text holds the content hash, transaction hash and block hash", async function () {
    const files = await unzip(first.zip);
    const manifest = readManifest(files);
    const pdf = await readPdf(files.get(BUNDLE_PATHS.report)!);
    const text = squeeze(pdf.pages.join(" "));
    // The report prints the content hash as sha256sum does, without 0x.
    expect(text).to.contain(work.contentHash.slice(2));
    expect(text).to.contain(work.txHash);
    expect(text).to.contain(manifest.registration.blockHash);
  });

  it("lets the creator request evidence with a SIWE session, recording a suspect copy that does not match", async function () {
    const token = await signIn(stack, creator);
    const suspect = sha256(Buffer.from("a re-encoded copy"));
    const { status, zip } = await bundleOf(
      stack,
      { token },
      { contentHash: work.contentHash, infringement: { observedAt: OBSERVED_AT, suspectSha256: suspect } },
    );
    expect(status.requestedBy).to.deep.equal({ kind: "address", id: creator.address });
    const result = await verifyBundle(zip, { provider: stack.provider, minConfirmations: 1 });
    expect(failedChecks(result)).to.deep.equal([]);
    expect(result.manifest!.infringement).to.include({ suspectSha256: suspect, suspectMatchesWork: false });
  });

  it("puts the original file into the bundle on request, and the verifier checks it", async function () {
    const { zip } = await bundleOf(stack, legal, {
      workId: work.workId,
      includeOriginal: true,
      infringement: { observedAt: OBSERVED_AT },
    });
    const files = await unzip(zip);
    expect(files.get("original/harbour_at_dusk.txt")).to.deep.equal(new Uint8Array(work.bytes));
    const result = await verifyBundle(zip, { provider: stack.provider, minConfirmations: 1 });
    expect(failedChecks(result)).to.deep.equal([]);
    expect(passedChecks(result)).to.include(CHECK.original);
  });

  it("makes exactly the right checks fail when an API bundle is tampered with", async function () {
    const { zip } = await bundleOf(stack, legal, {
      workId: work.workId,
      includeOriginal: true,
      infringement: { observedAt: OBSERVED_AT, notes: "Offered for sale without a license." },
    });
    const cases: [string, (files: Map<string, Uint8Array>) => void, string[]][] = [
      [
        "the manifest",
        (f) =>
          f.set(BUNDLE_PATHS.manifest, replaceText(f.get(BUNDLE_PATHS.manifest)!, "for sale", "for rent")),
        [CHECK.signature],
      ],
      [
        "the report",
        (f) => f.set(BUNDLE_PATHS.report, flipByte(f.get(BUNDLE_PATHS.report)!, 200)),
        [fileCheckName(BUNDLE_PATHS.report)],
      ],
      [
        "the original",
        (f) => f.set("original/harbour_at_dusk.txt", flipByte(f.get("original/harbour_at_dusk.txt")!, 3)),
        [fileCheckName("original/harbour_at_dusk.txt"), CHECK.original],
      ],
      ["the signature (removed)", (f) => f.delete(BUNDLE_PATHS.signature), [CHECK.signature]],
    ];
    for (const [what, tamper, expected] of cases) {
      const files = await unzip(zip);
      tamper(files);
      const result = await verifyBundle(await rezip(files), {
        provider: stack.provider,
        minConfirmations: 1,
      });
      expect(failedChecks(result), what).to.deep.equal(expected);
    }
  });

  it("states the work's co-authors, its version chain and every license issued for it", async function () {
    const v2 = await registerThroughApi(stack, creator, Buffer.from("harbour at dusk, second edit"), {
      parentId: work.workId!,
    });
    await (await stack.registry.connect(creator).setCoAuthors(v2.workId!, [other.address])).wait();
    const c = stack.deployment.contracts;
    const splits = SplitFactory__factory.connect(c.SplitFactory.address, creator);
    await (await splits.createSplit([creator.address], [10_000])).wait();
    const licenses = LicenseToken__factory.connect(c.LicenseToken.address, creator);
    await (
      await licenses.createOffer({
        workId: v2.workId!,
        currency: ZeroAddress,
        price: 10n ** 15n,
        duration: 0n,
        maxSupply: 0,
        transferable: false,
        commercialUse: true,
        referrerBps: 0,
        royaltyBps: 0,
        split: await splits.predictSplit([creator.address], [10_000]),
        territory: "WORLD",
        revocable: false,
      })
    ).wait();
    const offerId = await stack.waitFor(async () => {
      const { rows } = await stack.db.pool.query(`SELECT offer_id::text FROM offers WHERE work_id = $1`, [
        v2.workId,
      ]);
      return rows[0]?.offer_id as string | undefined;
    });
    const purchases: string[] = [];
    for (let i = 0; i < 2; i++) {
      const tx = await licenses
        .connect(buyer)
        .purchase(offerId, buyer.address, ZeroAddress, { value: 10n ** 15n });
      await tx.wait();
      purchases.push(tx.hash);
    }
    await stack.waitFor(async () => {
      const { rows } = await stack.db.pool.query(
        `SELECT (SELECT count(*)::int FROM licenses WHERE work_id = $1) AS licenses,
                (SELECT cardinality(co_authors) FROM works WHERE work_id = $1) AS co_authors`,
        [v2.workId],
      );
      return rows[0].licenses === 2 && rows[0].co_authors === 1;
    });

    const { zip } = await bundleOf(stack, legal, {
      workId: v2.workId!,
      infringement: { observedAt: OBSERVED_AT },
    });
    const result = await verifyBundle(zip, { provider: stack.provider, minConfirmations: 1 });
    expect(failedChecks(result)).to.deep.equal([]);
    const manifest = result.manifest!;
    expect(manifest.work.coAuthors).to.deep.equal([other.address]);
    expect(manifest.work.versions.map((v) => [v.workId, v.contentHash, v.parentId, v.txHash])).to.deep.equal([
      [work.workId, work.contentHash, "0", work.txHash],
      [v2.workId, v2.contentHash, work.workId, v2.txHash],
    ]);
    // A version's registration time is when its commitment reserved its id, not its reveal's block.
    const { registeredAt } = await stack.registry.getWork(BigInt(work.workId!));
    expect(manifest.work.versions[0]!.registeredAt).to.equal(
      new Date(Number(registeredAt) * 1000).toISOString(),
    );
    expect(manifest.licenses.map((l) => l.txHash)).to.deep.equal(purchases);
    for (const license of manifest.licenses) {
      expect(license.issuedAt).to.be.a("string");
      expect(license).to.include({
        offerId,
        holder: buyer.address,
        expiresAt: 0,
        revoked: false,
        commercialUse: true,
        territory: "WORLD",
      });
    }
  });

  it("is checked by `npx rights-ledger verify --rpc` with every check passing", async function () {
    const dir = await mkdtemp(path.join(tmpdir(), "rl-evidence-"));
    try {
      const file = path.join(dir, "bundle.zip");
      await writeFile(file, first.zip);
      const run = await runCli([
        "verify",
        file,
        "--rpc",
        stack.rpcUrl,
        "--confirmations",
        "1",
        "--signer",
        PLATFORM_SIGNER,
      ]);
      expect(run.code, run.stdout + run.stderr).to.equal(0);
      expect(run.stdout).to.not.match(/^FAIL/m);
      expect(run.stdout).to.match(/^PASS {2}registration on chain /m);
      expect(run.stdout.trim().split("\n").pop()).to.match(/^PASS: \d+ checks passed, 3 not checked$/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("documents the three routes in the OpenAPI document, the download as application/zip", async function () {
    const { body } = await request(stack.app).get("/openapi.json").expect(200);
    expect(body.paths["/v1/evidence"].post.responses).to.have.property("202");
    expect(body.paths["/v1/evidence/{id}"].get.parameters[0]).to.include({ name: "id", in: "path" });
    const download = body.paths["/v1/evidence/{id}/bundle.zip"].get;
    expect(Object.keys(download.responses["200"].content)).to.deep.equal(["application/zip"]);
  });

  describe("who may ask", () => {
    const body = () => ({ workId: work.workId, infringement: { observedAt: OBSERVED_AT } });

    it("refuses anonymous callers with 401 on every route and writes nothing", async function () {
      const before = await evidenceCount(stack);
      const post = await requestEvidence(stack, {}, body());
      expect(post.status).to.equal(401);
      expect(post.body.error.code).to.equal("AUTH_REQUIRED");
      expect((await request(stack.app).get(`/v1/evidence/${first.id}`)).status).to.equal(401);
      expect((await request(stack.app).get(`/v1/evidence/${first.id}/bundle.zip`)).status).to.equal(401);
      expect(await evidenceCount(stack)).to.equal(before);
    });

    it("refuses another wallet with 403 on every route and writes nothing", async function () {
      const token = await signIn(stack, other);
      const before = await evidenceCount(stack);
      const post = await requestEvidence(stack, { token }, body());
      expect(post.status).to.equal(403);
      expect(post.body.error.code).to.equal("NOT_WORK_CREATOR");
      const status = await authed(request(stack.app).get(`/v1/evidence/${first.id}`), { token });
      expect(status.status).to.equal(403);
      const zip = await authed(request(stack.app).get(`/v1/evidence/${first.id}/bundle.zip`), { token });
      expect(zip.status).to.equal(403);
      expect(await evidenceCount(stack)).to.equal(before);
    });

    it("refuses an API key without the legal scope with 403", async function () {
      const admin = { apiKey: (await new ApiKeys(stack.db.pool).create("ops", ["admin"])).key };
      const before = await evidenceCount(stack);
      const post = await requestEvidence(stack, admin, body());
      expect(post.status).to.equal(403);
      expect(post.body.error.code).to.equal("FORBIDDEN");
      expect(await evidenceCount(stack)).to.equal(before);
    });

    it("answers 404 to a legal key of another organisation on every route, and serves the requester's colleagues", async function () {
      const keys = new ApiKeys(stack.db.pool);
      const firmA = await keys.create("firm A, litigation", ["legal"], "Firm A");
      const firmB = { apiKey: (await keys.create("firm B", ["legal"], "Firm B")).key };
      const colleague = { apiKey: (await keys.create("firm A, paralegal", ["legal"], "Firm A")).key };
      const made = await requestEvidence(stack, { apiKey: firmA.key }, body());
      expect(made.status, JSON.stringify(made.body)).to.equal(202);
      for (const path of [`/v1/evidence/${made.body.id}`, `/v1/evidence/${made.body.id}/bundle.zip`]) {
        const res = await authed(request(stack.app).get(path), firmB);
        expect(res.status, path).to.equal(404);
        expect(res.body.error.code).to.equal("NOT_FOUND");
      }
      const status = await authed(request(stack.app).get(`/v1/evidence/${made.body.id}`), colleague);
      expect(status.status).to.equal(200);
      // The first key made here belongs to an organisation of its own.
      expect((await authed(request(stack.app).get(`/v1/evidence/${first.id}`), firmB)).status).to.equal(404);
    });

    it("lets the creator follow and download a request a legal key made", async function () {
      const token = await signIn(stack, creator);
      const zip = await download(stack, { token }, first.id);
      expect(zip).to.deep.equal(first.zip);
    });
  });

  describe("bundle storage", () => {
    const body = () => ({ workId: work.workId, infringement: { observedAt: OBSERVED_AT } });
    const keys = () => new ApiKeys(stack.db.pool);
    const bundleDir = () => stack.config.evidence.dir;

    /** Raw bytes of the bundle, with the status and headers the route answered. */
    const fetchBundle = (credentials: Credentials, id: string, headers: Record<string, string> = {}) =>
      authed(request(stack.app).get(`/v1/evidence/${id}/bundle.zip`), credentials)
        .set(headers)
        .buffer(true)
        .parse((response, done) => {
          const chunks: Buffer[] = [];
          response.on("data", (c: Buffer) => chunks.push(c));
          response.on("end", () => done(null, Buffer.concat(chunks)));
        });

    /** A request of `keyId` still building, as a build that has not finished would leave it. */
    async function buildingRequest(keyId: string): Promise<void> {
      await stack.db.pool.query(
        `INSERT INTO evidence_requests (id, work_id, content_hash, creator, requested_by_key, infringement,
           include_original, status)
         VALUES ($1, $2, $3, $4, $5, '{"observedAt":"2025-03-14T09:26:53.000Z"}', false, 'building')`,
        [randomUUID(), work.workId, work.contentHash, creator.address.toLowerCase(), keyId],
      );
    }

    /** A ready request of `keyId` whose stored bundle takes `size` bytes, as bundles stored earlier would. */
    async function storedBundle(keyId: string, size: number): Promise<void> {
      const id = randomUUID();
      await stack.db.pool.query(
        `INSERT INTO evidence_requests (id, work_id, content_hash, creator, requested_by_key, infringement,
           include_original, status, bundle_sha256, bundle_size, bundle_location, completed_at)
         VALUES ($1, $2, $3, $4, $5, '{"observedAt":"2025-03-14T09:26:53.000Z"}', false, 'ready', $6, $7, $8, now())`,
        [
          id,
          work.workId,
          work.contentHash,
          creator.address.toLowerCase(),
          keyId,
          "0".repeat(64),
          size,
          `${id}-${randomUUID()}.zip`,
        ],
      );
    }

    it("keeps the bundle as a file outside PostgreSQL's rows: the row holds its location, size and SHA-256", async function () {
      const { rows } = await stack.db.pool.query(
        `SELECT bundle IS NULL AS outside, bundle_location, bundle_size::int AS size, bundle_sha256
           FROM evidence_requests WHERE id = $1`,
        [first.id],
      );
      expect(rows[0]).to.include({ outside: true, size: first.zip.length });
      const file = await readFile(path.join(bundleDir(), rows[0].bundle_location));
      expect(file).to.deep.equal(first.zip);
      expect(sha256(file).slice(2)).to.equal(rows[0].bundle_sha256);
    });

    it("streams the download, whole or one byte range, matching the stored hash; another organisation gets 404", async function () {
      const whole = await fetchBundle(legal, first.id);
      expect(whole.status).to.equal(200);
      expect(whole.headers["accept-ranges"]).to.equal("bytes");
      expect(`"${sha256(whole.body as Buffer).slice(2)}"`).to.equal(whole.headers.etag);
      const head = await fetchBundle(legal, first.id, { Range: "bytes=0-99" });
      expect(head.status).to.equal(206);
      expect(head.headers["content-range"]).to.equal(`bytes 0-99/${first.zip.length}`);
      expect(head.body).to.deep.equal(first.zip.subarray(0, 100));
      const tail = await fetchBundle(legal, first.id, { Range: "bytes=-10" });
      expect(tail.body).to.deep.equal(first.zip.subarray(-10));
      const beyond = await fetchBundle(legal, first.id, { Range: `bytes=${first.zip.length}-` });
      expect(beyond.status).to.equal(416);
      expect(beyond.headers["content-range"]).to.equal(`bytes */${first.zip.length}`);
      const stale = await fetchBundle(legal, first.id, { Range: "bytes=0-9", "If-Range": '"other"' });
      expect(stale.status).to.equal(200);

      const stranger = { apiKey: (await keys().create("another firm", ["legal"], "Another firm")).key };
      for (const headers of [{}, { Range: "bytes=0-99" }] as Record<string, string>[]) {
        const res = await fetchBundle(stranger, first.id, headers);
        expect(res.status).to.equal(404);
      }
    });

    it("serves a bundle stored in its row before bundles left PostgreSQL, a chunk at a time", async function () {
      const legacy = Buffer.concat([first.zip, randomBytes(2 * 1024 * 1024 + 123)]);
      const id = randomUUID();
      await stack.db.pool.query(
        `INSERT INTO evidence_requests (id, work_id, content_hash, creator, requested_by_key, infringement,
           include_original, status, bundle, bundle_sha256, bundle_size, completed_at)
         VALUES ($1, $2, $3, $4, $5, '{"observedAt":"2025-03-14T09:26:53.000Z"}', false, 'ready', $6, $7, $8, now())`,
        [
          id,
          work.workId,
          work.contentHash,
          creator.address.toLowerCase(),
          first.status.requestedBy.id,
          legacy,
          sha256(legacy).slice(2),
          legacy.length,
        ],
      );
      const whole = await fetchBundle(legal, id);
      expect(whole.status).to.equal(200);
      expect(sha256(whole.body as Buffer)).to.equal(sha256(legacy));
      const across = 1024 * 1024;
      const range = await fetchBundle(legal, id, { Range: `bytes=${across - 5}-${across + 4}` });
      expect(range.status).to.equal(206);
      expect(range.body).to.deep.equal(legacy.subarray(across - 5, across + 5));
    });

    it("refuses a request with 429 once its organisation's stored bundles take the quota; other organisations still ask", async function () {
      const full = await keys().create("full firm", ["legal"], "Full firm");
      await storedBundle(full.apiKey.id, stack.config.evidence.quotaBytes);
      const before = await evidenceCount(stack);
      const refused = await requestEvidence(stack, { apiKey: full.key }, body());
      expect(refused.status).to.equal(429);
      expect(refused.body.error.code).to.equal("EVIDENCE_QUOTA_EXCEEDED");
      expect(refused.body.error.details).to.deep.equal({
        quotaBytes: stack.config.evidence.quotaBytes,
        usedBytes: stack.config.evidence.quotaBytes,
      });
      expect(await evidenceCount(stack)).to.equal(before);
      const colleague = await keys().create("full firm, paralegal", ["legal"], "Full firm");
      expect((await requestEvidence(stack, { apiKey: colleague.key }, body())).status).to.equal(429);
      const other = await keys().create("roomy firm", ["legal"], "Roomy firm");
      expect((await requestEvidence(stack, { apiKey: other.key }, body())).status).to.equal(202);
    });

    it("refuses a request with 429 while its organisation has as many builds running as it may, however little it stores", async function () {
      const busy = await keys().create("busy firm", ["legal"], "Busy firm");
      for (let i = 0; i < stack.config.evidence.pendingMax; i++) await buildingRequest(busy.apiKey.id);
      const before = await evidenceCount(stack);
      const refused = await requestEvidence(stack, { apiKey: busy.key }, body());
      expect(refused.status).to.equal(429);
      expect(refused.body.error.code).to.equal("EVIDENCE_PENDING_LIMIT");
      expect(refused.body.error.details).to.deep.equal({
        pendingMax: stack.config.evidence.pendingMax,
        pending: stack.config.evidence.pendingMax,
      });
      expect(await evidenceCount(stack)).to.equal(before);
      const other = await keys().create("quiet firm", ["legal"], "Quiet firm");
      expect((await requestEvidence(stack, { apiKey: other.key }, body())).status).to.equal(202);
    });

    it("fails a build that would take its organisation over the quota, and keeps no file of it", async function () {
      const nearly = await keys().create("nearly full firm", ["legal"], "Nearly full firm");
      await storedBundle(nearly.apiKey.id, stack.config.evidence.quotaBytes - 100);
      const made = await requestEvidence(stack, { apiKey: nearly.key }, body());
      expect(made.status, JSON.stringify(made.body)).to.equal(202);
      const status = await settled(stack, { apiKey: nearly.key }, made.body.id);
      expect(status.status).to.equal("failed");
      expect(status.error).to.match(/over its quota of \d+ bytes/);
      const files = await readdir(bundleDir());
      expect(files.filter((f) => f.includes(made.body.id as string))).to.deep.equal([]);
    });

    it("collects bundle files no request records once they are old, and keeps recorded and recent ones", async function () {
      const { rows } = await stack.db.pool.query<{ location: string }>(
        `SELECT bundle_location AS location FROM evidence_requests WHERE id = $1`,
        [first.id],
      );
      const recorded = rows[0]!.location;
      const orphan = `${randomUUID()}-${randomUUID()}.zip`;
      const partial = `.${randomUUID()}-${randomUUID()}.zip.partial`;
      const fresh = `${randomUUID()}-${randomUUID()}.zip`;
      for (const name of [orphan, partial, fresh])
        await writeFile(path.join(bundleDir(), name), "left behind");
      const twoDaysAgo = new Date(Date.now() - 2 * 24 * 3600 * 1000);
      for (const name of [orphan, partial, recorded])
        await utimes(path.join(bundleDir(), name), twoDaysAgo, twoDaysAgo);
      const removed = await collectBundles({
        db: stack.db.pool,
        bundles: new EvidenceBundleStore(bundleDir()),
        logger: pino({ level: "silent" }),
        collectAfterSeconds: 24 * 3600,
      });
      expect(removed).to.equal(2);
      const files = await readdir(bundleDir());
      expect(files).to.include.members([recorded, fresh]);
      expect(files).to.not.include.members([orphan]);
      expect(files).to.not.include.members([partial]);
      await fetchBundle(legal, first.id).then((res) => expect(res.status).to.equal(200));
    });
  });

  describe("the evidence job", () => {
    let deps: EvidenceJobDeps;
    const requests = () => new EvidenceRequestsRepository(stack.db.pool);

    before(async function () {
      deps = {
        requests: requests(),
        facts: new EvidenceFactsRepository(stack.db.pool),
        bundles: new EvidenceBundleStore(stack.config.evidence.dir),
        quotaBytes: stack.config.evidence.quotaBytes,
        provider: stack.provider,
        originals: stack.originals,
        chainId: stack.chainId,
        registryAddress: stack.deployment.contracts.WorkRegistry.address,
        signer: new Wallet(DEV_EVIDENCE_SIGNER_KEY),
        minConfirmations: 1,
        logger: pino({ level: "silent" }),
      };
    });

    async function queuedRequest(): Promise<string> {
      const { request: created } = await requests().insert(
        {
          id: randomUUID(),
          workId: work.workId,
          contentHash: work.contentHash,
          creator: creator.address.toLowerCase(),
          // The legal key's own request, so that key may read it.
          requestedBy: { kind: "apiKey", keyId: legal.apiKey.split("_")[1]! },
          infringement: { observedAt: OBSERVED_AT },
          includeOriginal: false,
        },
        { queue: false },
      );
      return created.id;
    }

    it("does nothing when run again for a ready request", async function () {
      const before = await requests().find(first.id);
      expect(await buildEvidence(deps, first.id, { finalAttempt: false })).to.deep.equal({
        status: "skipped",
      });
      const after = await requests().find(first.id);
      expect(after).to.deep.equal(before);
      expect(await readFile(path.join(stack.config.evidence.dir, after!.bundleLocation!))).to.deep.equal(
        first.zip,
      );
    });

    it("keeps a request building while its block lacks confirmations, and fails it on the last attempt", async function () {
      const id = await queuedRequest();
      const waiting = { ...deps, minConfirmations: 1_000_000 };
      await buildEvidence(waiting, id, { finalAttempt: false }).then(
        () => expect.fail("built without enough confirmations"),
        (err) => expect(err).to.be.instanceOf(ChainFactsPendingError),
      );
      expect((await requests().find(id))!.status).to.equal("building");
      await buildEvidence(waiting, id, { finalAttempt: true }).catch(() => undefined);
      const failed = (await requests().find(id))!;
      expect(failed.status).to.equal("failed");
      expect(failed.error).to.match(/confirmations, waiting for 1000000$/);
    });

    it("fails a request for good when its facts contradict the chain", async function () {
      const id = await queuedRequest();
      const wrongRegistry = { ...deps, registryAddress: stack.deployment.contracts.LicenseToken.address };
      await buildEvidence(wrongRegistry, id, { finalAttempt: false }).then(
        () => expect.fail("built from contradicting facts"),
        (err) => expect(err).to.be.instanceOf(PermanentError),
      );
      const failed = (await requests().find(id))!;
      expect(failed.status).to.equal("failed");
      expect(failed.error).to.match(/no WorkRegistered event/);
      const res = await authed(request(stack.app).get(`/v1/evidence/${id}/bundle.zip`), legal);
      expect(res.status).to.equal(409);
      expect(res.body.error).to.deep.include({
        code: "EVIDENCE_NOT_READY",
        details: { status: "failed", error: failed.error },
      });
    });

    it("answers 409 for the bundle of a request still queued", async function () {
      const id = await queuedRequest();
      const res = await authed(request(stack.app).get(`/v1/evidence/${id}/bundle.zip`), legal);
      expect(res.status).to.equal(409);
      expect(res.body.error.code).to.equal("EVIDENCE_NOT_READY");
    });
  });

  describe("bad input answers a clear 4xx and writes nothing", () => {
    const valid = () => ({ workId: work.workId, infringement: { observedAt: OBSERVED_AT } });
    const cases: [string, () => request.Test, number, string][] = [
      [
        "an unknown work",
        () => requestEvidence(stack, legal, { ...valid(), workId: "999999" }),
        404,
        "WORK_NOT_FOUND",
      ],
      [
        "an unknown content hash",
        () =>
          requestEvidence(stack, legal, {
            contentHash: `0x${"ab".repeat(32)}`,
            infringement: valid().infringement,
          }),
        404,
        "WORK_NOT_FOUND",
      ],
      [
        "a malformed work id",
        () => requestEvidence(stack, legal, { ...valid(), workId: "1 OR 1=1" }),
        400,
        "VALIDATION_FAILED",
      ],
      [
        "a numeric work id",
        () => requestEvidence(stack, legal, { ...valid(), workId: 1 }),
        400,
        "VALIDATION_FAILED",
      ],
      [
        "both a work id and a content hash",
        () => requestEvidence(stack, legal, { ...valid(), contentHash: work.contentHash }),
        400,
        "VALIDATION_FAILED",
      ],
      [
        "no work at all",
        () => requestEvidence(stack, legal, { infringement: valid().infringement }),
        400,
        "VALIDATION_FAILED",
      ],
      [
        "a missing observedAt",
        () => requestEvidence(stack, legal, { ...valid(), infringement: {} }),
        400,
        "VALIDATION_FAILED",
      ],
      [
        "an observedAt without a time zone",
        () => requestEvidence(stack, legal, { ...valid(), infringement: { observedAt: "2025-03-14 09:26" } }),
        400,
        "VALIDATION_FAILED",
      ],
      [
        "an observedAt in the future",
        () =>
          requestEvidence(stack, legal, { ...valid(), infringement: { observedAt: "2999-01-01T00:00:00Z" } }),
        400,
        "VALIDATION_FAILED",
      ],
      [
        "a bad suspectSha256",
        () =>
          requestEvidence(stack, legal, {
            ...valid(),
            infringement: { observedAt: OBSERVED_AT, suspectSha256: "0x1234" },
          }),
        400,
        "VALIDATION_FAILED",
      ],
      [
        "a URL that is not http(s)",
        () =>
          requestEvidence(stack, legal, {
            ...valid(),
            infringement: { observedAt: OBSERVED_AT, url: "javascript:alert(1)" },
          }),
        400,
        "VALIDATION_FAILED",
      ],
      [
        "a non-boolean includeOriginal",
        () => requestEvidence(stack, legal, { ...valid(), includeOriginal: "yes" }),
        400,
        "VALIDATION_FAILED",
      ],
      [
        "malformed JSON",
        () =>
          authed(request(stack.app).post("/v1/evidence"), legal)
            .set("content-type", "application/json")
            .send("{"),
        400,
        "ENTITY_PARSE_FAILED",
      ],
      [
        "an unknown evidence id",
        () => authed(request(stack.app).get(`/v1/evidence/${randomUUID()}`), legal),
        404,
        "NOT_FOUND",
      ],
      [
        "an unknown evidence id (download)",
        () => authed(request(stack.app).get(`/v1/evidence/${randomUUID()}/bundle.zip`), legal),
        404,
        "NOT_FOUND",
      ],
      [
        "a malformed evidence id",
        () => authed(request(stack.app).get("/v1/evidence/12345"), legal),
        400,
        "VALIDATION_FAILED",
      ],
      [
        "a malformed evidence id (download)",
        () => authed(request(stack.app).get("/v1/evidence/not-a-uuid/bundle.zip"), legal),
        400,
        "VALIDATION_FAILED",
      ],
    ];
    for (const [name, send, status, code] of cases) {
      it(`rejects ${name} with ${status} ${code}`, async function () {
        const before = await evidenceCount(stack);
        const jobs = await evidenceJobs(stack);
        const res = await send();
        expect(res.status, JSON.stringify(res.body)).to.equal(status);
        expect(res.body.error.code).to.equal(code);
        expect(res.body.error.message).to.be.a("string").and.not.equal("");
        expect(await evidenceCount(stack)).to.equal(before);
        expect(await evidenceJobs(stack)).to.equal(jobs);
      });
    }

    it("refuses to include the original of a work never uploaded here, with 409", async function () {
      const bytes = Buffer.from("registered straight on chain");
      await commitAndReveal(stack.registry, creator, sha256(bytes), {
        cid: "bafkrei",
        metadataURI: "ipfs://elsewhere",
      });
      const facts = new EvidenceFactsRepository(stack.db.pool);
      const indexed = await stack.waitFor(() => facts.workByHash(sha256(bytes)));
      const before = await evidenceCount(stack);
      const res = await requestEvidence(stack, legal, {
        workId: indexed.workId,
        includeOriginal: true,
        infringement: { observedAt: OBSERVED_AT },
      });
      expect(res.status).to.equal(409);
      expect(res.body.error.code).to.equal("ORIGINAL_UNAVAILABLE");
      expect(await evidenceCount(stack)).to.equal(before);
    });
  });
});

describe("evidence API (Merkle batches and time-stamps)", function () {
  let stack: TestStack;
  let tsa: TestTsa;
  let legal: { apiKey: string };
  let work: RegisteredWork;
  let zip: Buffer;

  before(async function () {
    tsa = await startTestTsa();
    stack = await startTestStack("evidence_batch", {
      env: {
        NOTARIZE_MODE: "batch",
        BATCH_MAX_WORKS: "2",
        // The second registration fills the batch, so both leaves share one root and each has a proof.
        BATCH_FLUSH_SECONDS: "3600",
        EVIDENCE_MIN_CONFIRMATIONS: "1",
        TSA_URL: tsa.url,
        TSA_CA_FILE: tsa.caPath,
      },
    });
    legal = { apiKey: (await new ApiKeys(stack.db.pool).create("legal team", ["legal"])).key };
    const creator = await stack.signer(5);
    const [registered] = await Promise.all([
      registerThroughApi(stack, creator, Buffer.from("batch work: harbour at dawn")),
      registerThroughApi(stack, await stack.signer(6), Buffer.from("batch work: another creator's sketch")),
    ]);
    work = registered;
    ({ zip } = await bundleOf(stack, legal, {
      contentHash: work.contentHash,
      infringement: { observedAt: OBSERVED_AT },
    }));
  });
  after(async () => {
    await stack?.stop();
    await tsa?.close();
  });

  it("builds the bundle of a batch-registered work with its Merkle proof, and it verifies on chain", async function () {
    const result = await verifyBundle(zip, { provider: stack.provider, minConfirmations: 1 });
    expect(failedChecks(result)).to.deep.equal([]);
    const manifest = result.manifest!;
    expect(manifest.work.workId).to.equal(undefined);
    expect(manifest.work.contentHash).to.equal(work.contentHash);
    expect(manifest.registration.kind).to.equal("batch");
    if (manifest.registration.kind !== "batch") return;
    expect(manifest.registration.txHash).to.equal(work.txHash);
    expect(manifest.registration.proof).to.have.length(1);
    expect(
      await stack.registry.leafOf(
        manifest.registration.leafIndex,
        manifest.work.creator,
        work.contentHash,
        manifest.registration.registrationDigest,
      ),
    ).to.equal(manifest.registration.leaf);
    expect(passedChecks(result)).to.include.members([CHECK.merkle, CHECK.registrationOnChain]);
  });

  it("time-stamps the manifest with the configured authority, and the token chains to its CA", async function () {
    const files = await unzip(zip);
    expect(files.has(BUNDLE_PATHS.timestamp)).to.equal(true);
    expect(tsa.requests()).to.be.at.least(1);
    const result = await verifyBundle(zip, {
      provider: stack.provider,
      minConfirmations: 1,
      trustedCerts: parseCertificates(await readFile(tsa.caPath)),
      expectedSigner: PLATFORM_SIGNER,
    });
    expect(failedChecks(result)).to.deep.equal([]);
    expect(skippedChecks(result)).to.deep.equal([CHECK.original]);
    expect(result.checks.find((c) => c.name === CHECK.timestampChain)!.detail).to.contain(
      "Rights Ledger Test Root CA",
    );
  });

  it("builds the bundle of a batch-registered work by the work id its claimed leaf holds, naming its creator", async function () {
    const workId = await stack.waitFor(async () => {
      const id = await stack.registry.workOf(work.contentHash);
      const res = await request(stack.app).get(`/v1/works/by-hash/${work.contentHash}`);
      return id !== 0n && res.status === 200 ? id : null;
    });
    const { zip: byId } = await bundleOf(stack, legal, {
      workId: workId.toString(),
      infringement: { observedAt: OBSERVED_AT },
    });
    const result = await verifyBundle(byId, { provider: stack.provider, minConfirmations: 1 });
    expect(failedChecks(result)).to.deep.equal([]);
    expect(result.manifest!.work.workId).to.equal(workId.toString());
    expect(result.manifest!.work.creator.toLowerCase()).to.equal(
      (await stack.signer(5)).address.toLowerCase(),
    );
  });
});
