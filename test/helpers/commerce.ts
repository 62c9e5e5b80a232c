/** Fixtures for the commerce tests: works, splits and offers published through the API, a card shop on a stand-in for Stripe, and a switchable RPC proxy. */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { expect } from "chai";
import { ethers, type JsonRpcSigner } from "ethers";
import request from "supertest";
import { CREATE_OFFER_TYPES, licenseDomain, SET_REFERRER_TYPES } from "../../lib/eip712.ts";
import { SplitFactory__factory, WorkRegistry__factory } from "../../types/typechain/index.ts";
import { type FakeStripe, startFakeStripe } from "./fake-stripe.ts";
import { commitAndReveal } from "./registry.ts";
import { sessionToken, startTestStack, UNLIMITED_RATES, type TestStack } from "./stack.ts";

export interface OfferTermsInput {
  currency: string;
  price: string;
  duration: string;
  maxSupply: number;
  transferable: boolean;
  commercialUse: boolean;
  referrerBps: number;
  royaltyBps: number;
  split: string;
  territory: string;
  revocable: boolean;
}

let works = 0;

/**
 * Uploads `bytes` as `signer` (signed in), signs the registration the API answers with and submits
 * it: the registration is queued (202). Answers the file's SHA-256.
 */
export async function submitRegistration(
  stack: TestStack,
  signer: JsonRpcSigner,
  bytes: Buffer,
  fields: Record<string, string> = {},
): Promise<string> {
  const upload = await request(stack.app)
    .post("/v1/works")
    .set("Authorization", `Bearer ${await sessionToken(signer.address)}`)
    .field("creator", signer.address)
    .field("title", "Harbour at dusk")
    .field(fields)
    .attach("file", bytes, { filename: "harbour at dusk.txt", contentType: "text/plain" });
  expect(upload.status, JSON.stringify(upload.body)).to.equal(201);
  const typed = upload.body.typedData;
  const signature = await signer.signTypedData(
    typed.domain,
    { Register: typed.types.Register },
    typed.message,
  );
  await request(stack.app)
    .post(`/v1/works/${upload.body.sha256}/register`)
    .send({ ...typed.message, signature })
    .expect(202);
  return upload.body.sha256 as string;
}

/** Registers a new work by `creator` directly on chain and returns its id. */
export async function registerWork(stack: TestStack, creator: JsonRpcSigner): Promise<string> {
  const registry = WorkRegistry__factory.connect(stack.deployment.contracts.WorkRegistry.address, creator);
  works += 1;
  const hash = ethers.id(`${stack.db.name} work ${works} ${Date.now()}`);
  const { workId } = await commitAndReveal(registry, creator, hash, {
    cid: "bafkreiwork",
    metadataURI: "ipfs://work",
  });
  // Offers are checked against the indexed work: wait until the indexer has it.
  await stack.waitFor(async () => (await request(stack.app).get(`/v1/works/${workId}`)).status === 200);
  return workId.toString();
}

/** The creator's sole-recipient split, created on chain if needed. */
export async function soleSplit(stack: TestStack, creator: JsonRpcSigner): Promise<string> {
  const factory = SplitFactory__factory.connect(stack.deployment.contracts.SplitFactory.address, creator);
  const split = await factory.predictSplit([creator.address], [10_000]);
  if (!(await factory.isSplit(split))) await (await factory.createSplit([creator.address], [10_000])).wait();
  return split;
}

/** A new work of `creator` offered under a split paying the creator alone, by card at `fiatPrice`; the offer's id. */
export async function soleCreatorOffer(
  stack: TestStack,
  creator: JsonRpcSigner,
  fiatPrice?: { amount: number; currency: string },
): Promise<string> {
  const workId = await registerWork(stack, creator);
  return publishOffer(stack, creator, workId, offerTerms(await soleSplit(stack, creator)), fiatPrice);
}

export function offerTerms(split: string, overrides: Partial<OfferTermsInput> = {}): OfferTermsInput {
  return {
    currency: ethers.ZeroAddress,
    price: ethers.parseEther("0.01").toString(),
    duration: String(30 * 24 * 3600),
    maxSupply: 0,
    transferable: true,
    commercialUse: true,
    referrerBps: 500,
    royaltyBps: 0,
    split,
    territory: "WORLD",
    revocable: false,
    ...overrides,
  };
}

let nonces = 0;

/** The body of POST /v1/works/:id/offers, signed by `signer` (the creator, unless testing a mismatch). */
export async function signedOfferBody(
  stack: TestStack,
  signer: JsonRpcSigner,
  creator: string,
  workId: string,
  terms: OfferTermsInput,
  extra: Record<string, unknown> = {},
  nonce = String(Date.now() * 1000 + ++nonces),
) {
  const deadline = String(Math.floor(Date.now() / 1000) + 3600);
  const message = { creator, workId, ...terms, nonce, deadline };
  const signature = await signer.signTypedData(
    licenseDomain(BigInt(stack.chainId), stack.deployment.contracts.LicenseToken.address),
    { CreateOffer: [...CREATE_OFFER_TYPES.CreateOffer] },
    message,
  );
  return { creator, ...terms, nonce, deadline, signature, ...extra };
}

/** The body of PUT /v1/offers/:id/referrers/:address, signed by `signer` (the offer's creator, unless testing a forgery). */
export async function signedReferrerBody(
  stack: TestStack,
  signer: JsonRpcSigner,
  offerId: string,
  referrer: string,
  approved = true,
  overrides: { nonce?: string; deadline?: string } = {},
) {
  const nonce = overrides.nonce ?? String(Date.now() * 1000 + ++nonces);
  const deadline = overrides.deadline ?? String(Math.floor(Date.now() / 1000) + 3600);
  const signature = await signer.signTypedData(
    licenseDomain(BigInt(stack.chainId), stack.deployment.contracts.LicenseToken.address),
    { SetReferrer: [...SET_REFERRER_TYPES.SetReferrer] },
    { offerId, referrer, approved, nonce, deadline },
  );
  return { approved, nonce, deadline, signature };
}

/** Publishes an offer through the API and waits until the indexer lists it; returns its id. */
export async function publishOffer(
  stack: TestStack,
  creator: JsonRpcSigner,
  workId: string,
  terms: OfferTermsInput,
  fiatPrice: { amount: number; currency: string } | null = { amount: 1200, currency: "usd" },
): Promise<string> {
  const body = await signedOfferBody(
    stack,
    creator,
    creator.address,
    workId,
    terms,
    fiatPrice ? { fiatPrice } : {},
  );
  // A card price is taken only from the creator's session.
  const res = await request(stack.app)
    .post(`/v1/works/${workId}/offers`)
    .set(fiatPrice ? { Authorization: `Bearer ${await sessionToken(creator.address)}` } : {})
    .send(body);
  expect(res.status, JSON.stringify(res.body)).to.equal(202);
  const published = await stack.waitFor(async () => {
    const p = await request(stack.app).get(`/v1/offers/publications/${res.body.id}`);
    if (p.body.status === "failed") throw new Error(`publication failed: ${p.body.error}`);
    return p.body.status === "published" ? (p.body as { offerId: string }) : null;
  });
  await stack.waitFor(
    async () => (await request(stack.app).get(`/v1/offers/${published.offerId}`)).status === 200,
  );
  return published.offerId;
}

/** Mines `blocks` empty blocks. */
export async function mine(stack: TestStack, blocks = 1): Promise<void> {
  await stack.provider.send("hardhat_mine", [ethers.toQuantity(blocks)]);
}

export interface RpcProxy {
  url: string;
  /** Refuse every request (the socket is dropped) until `up`. */
  down(): void;
  up(): void;
  close(): Promise<void>;
}

/** A JSON-RPC proxy to `target` that can be made unreachable, to play a chain outage. */
export async function startRpcProxy(target: string): Promise<RpcProxy> {
  let reachable = true;
  const server = createServer((req, res) => {
    if (!reachable) {
      req.socket.destroy();
      return;
    }
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      try {
        const upstream = await fetch(target, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: Buffer.concat(chunks),
        });
        res.writeHead(upstream.status, { "content-type": "application/json" });
        res.end(Buffer.from(await upstream.arrayBuffer()));
      } catch {
        req.socket.destroy();
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    down() {
      reachable = false;
      server.closeAllConnections();
    },
    up() {
      reachable = true;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A card shop for the checkout promotion tests: a stack on a stand-in for Stripe, with a creator's work. */
export interface CardShop {
  stack: TestStack;
  stripe: FakeStripe;
  /** Signer 5: owns the work and its sole split. */
  creator: JsonRpcSigner;
  /** Signer 6: another creator, the hostile one. */
  rival: JsonRpcSigner;
  workId: string;
  split: string;
  /** A new unlimited offer of the creator's work at $12.00 by card. */
  newOffer(): Promise<string>;
  /** POST /v1/checkout from a network of its own each time, so only the limits under test apply. */
  checkout(body: {
    offerId: string;
    wallet?: string;
    email?: string;
    coupon?: string;
    referrer?: string;
  }): request.Test;
  stop(): Promise<void>;
}

/**
 * Opens a card shop on its own database (`name`): rate limits no burst reaches, client addresses
 * from X-Forwarded-For, up to 1,000 live holds per wallet, and `env` on top.
 */
export async function openCardShop(name: string, env: Record<string, string> = {}): Promise<CardShop> {
  const stripe = await startFakeStripe();
  const stack = await startTestStack(name, {
    env: { ...stripe.env, ...UNLIMITED_RATES, TRUST_PROXY: "1", CHECKOUT_HOLDS_PER_WALLET: "1000", ...env },
  });
  const creator = await stack.signer(5);
  const rival = await stack.signer(6);
  const workId = await registerWork(stack, creator);
  const split = await soleSplit(stack, creator);
  let ips = 0;
  return {
    stack,
    stripe,
    creator,
    rival,
    workId,
    split,
    newOffer: () => publishOffer(stack, creator, workId, offerTerms(split, { maxSupply: 0 })),
    checkout: (body) =>
      request(stack.app)
        .post("/v1/checkout")
        .set("X-Forwarded-For", `10.9.${Math.floor(++ips / 250)}.${ips % 250}`)
        .send(body),
    async stop() {
      await stack.stop();
      await stripe.close();
    },
  };
}
