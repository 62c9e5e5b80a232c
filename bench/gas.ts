/**
 * Gas used per transaction on a fresh in-process Hardhat network: `npm run bench:gas`.
 * Writes bench/results/gas.json.
 */
import { createHash, randomBytes } from "node:crypto";
import { network } from "hardhat";
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { TypedDataEncoder, type ContractTransactionResponse } from "ethers";
import { deployContracts, DEV_SETTLEMENT_TREASURY_INDEX } from "../scripts/deploy-contracts.ts";
import { REGISTER_TYPES, registryDomain } from "../lib/eip712.ts";
import { BATCH_LEAF_ENCODING, commitmentOf, committedWorkId } from "../lib/evidence/registry.ts";
import {
  GameItems__factory,
  ItemEscrow__factory,
  LicenseToken__factory,
  PayoutSettlement__factory,
  SplitFactory__factory,
  RevenueSplit__factory,
  DevStablecoin__factory,
  WorkRegistry__factory,
} from "../types/typechain/index.ts";
import { report } from "./lib/report.ts";

const CID = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku";

function sha256(text: string): string {
  return "0x" + createHash("sha256").update(text).digest("hex");
}

async function gasOf(tx: Promise<ContractTransactionResponse>): Promise<number> {
  const receipt = await (await tx).wait();
  if (!receipt) throw new Error("no receipt");
  return Number(receipt.gasUsed);
}

const { ethers, networkHelpers } = await network.create();
const signers = await ethers.getSigners();
const [deployer, relayer, arbiter, treasury, studio, creator, buyer, buyer2, seller, player] = signers;
const deployment = await deployContracts(
  deployer!,
  {
    admin: deployer!.address,
    relayer: relayer!.address,
    arbiter: arbiter!.address,
    treasury: treasury!.address,
    studio: studio!.address,
    revoker: relayer!.address,
  },
  { devTreasury: signers[DEV_SETTLEMENT_TREASURY_INDEX]! },
);
const c = deployment.contracts;
const registry = WorkRegistry__factory.connect(c.WorkRegistry.address, creator);
const licenses = LicenseToken__factory.connect(c.LicenseToken.address, creator);
const splits = SplitFactory__factory.connect(c.SplitFactory.address, creator);
const items = GameItems__factory.connect(c.GameItems.address, studio);
const escrow = ItemEscrow__factory.connect(c.ItemEscrow.address, seller);
const stablecoin = await new DevStablecoin__factory(deployer).deploy();
const figures: Record<string, number> = {};

/** A creator's random 128-bit salt, as the API hands out. */
function salt(): bigint {
  return BigInt(`0x${randomBytes(16).toString("hex")}`);
}

/** The squat-proof path for one work: commit, then reveal in a later block, both sent by `sender`. */
async function commitReveal(contentHash: string): Promise<number> {
  const nonce = salt();
  const commitTx = await registry.commit(commitmentOf(creator!.address, contentHash, nonce));
  const commitReceipt = (await commitTx.wait())!;
  const workId = committedWorkId(commitReceipt.logs)!;
  return (
    Number(commitReceipt.gasUsed) +
    (await gasOf(registry.reveal(workId, contentHash, nonce, CID, `ipfs://${CID}`, 0)))
  );
}

// Warm-up registration so the measured one pays for its own storage only.
await commitReveal(sha256("warm-up"));
figures.register = await commitReveal(sha256("work-1"));

const chainId = (await ethers.provider.getNetwork()).chainId;
const message = {
  creator: creator!.address,
  contentHash: sha256("work-2"),
  cid: CID,
  metadataURI: `ipfs://${CID}`,
  parentId: 0n,
  nonce: salt(),
  deadline: BigInt(Math.floor(Date.now() / 1000) + 3600),
};
const domain = registryDomain(chainId, c.WorkRegistry.address);
const signature = await creator!.signTypedData(domain, REGISTER_TYPES, message);
const relayedCommit = (await (
  await registry.connect(relayer).commit(commitmentOf(message.creator, message.contentHash, message.nonce))
).wait())!;
figures.registerFor =
  Number(relayedCommit.gasUsed) +
  (await gasOf(
    registry.connect(relayer).revealFor(committedWorkId(relayedCommit.logs)!, message, signature),
  ));

const leaves = Array.from({ length: 1000 }, (_, i) => [
  BigInt(i),
  creator!.address,
  sha256(`batch-${i}`),
  sha256(`digest-${i}`),
]);
const tree = StandardMerkleTree.of(leaves, [...BATCH_LEAF_ENCODING]);
await gasOf(registry.connect(relayer).anchorBatch(sha256("warm-up-batch"), 1, CID));
figures.anchorBatch1000 = await gasOf(registry.connect(relayer).anchorBatch(tree.root, 1000, CID));
figures.anchorBatchPerWork1000 = Math.ceil(figures.anchorBatch1000 / 1000);

// Claiming the leaves of an anchored batch of 51 signed registrations: one alone, then 50 in one transaction.
const claimMessages = await Promise.all(
  Array.from({ length: 51 }, async (_, i) => {
    const m = { ...message, contentHash: sha256(`claimed-${i}`), nonce: salt() };
    return { m, signature: await creator!.signTypedData(domain, REGISTER_TYPES, m) };
  }),
);
const claimTree = StandardMerkleTree.of(
  claimMessages.map(({ m }, i) => [
    BigInt(i),
    m.creator,
    m.contentHash,
    TypedDataEncoder.hash(domain, REGISTER_TYPES, m),
  ]),
  [...BATCH_LEAF_ENCODING],
);
const claimAnchor = (await (
  await registry.connect(relayer).anchorBatch(claimTree.root, claimMessages.length, CID)
).wait())!;
const claimBatchId = claimAnchor.logs
  .map((log) => registry.interface.parseLog(log))
  .find((parsed) => parsed?.name === "BatchAnchored")!.args.batchId as bigint;
const leafClaim = (i: number) => ({
  batchId: claimBatchId,
  index: BigInt(i),
  registration: claimMessages[i]!.m,
  signature: claimMessages[i]!.signature,
  proof: claimTree.getProof(i),
});
figures.claimBatched = await gasOf(
  registry
    .connect(relayer)
    .claimBatched(claimBatchId, 0n, claimMessages[0]!.m, claimMessages[0]!.signature, claimTree.getProof(0)),
);
figures.claimBatchedMany50 = await gasOf(
  registry.connect(relayer).claimBatchedMany(Array.from({ length: 50 }, (_, i) => leafClaim(i + 1))),
);
figures.claimBatchedPerWork50 = Math.ceil(figures.claimBatchedMany50 / 50);

const recipients = [creator!.address, seller!.address, player!.address].sort();
await gasOf(splits.createSplit(recipients, [5000, 3000, 2000]));
const split = await splits.predictSplit(recipients, [5000, 3000, 2000]);
const workId = await registry.workOf(sha256("work-1"));
const offer = {
  workId,
  currency: ethers.ZeroAddress,
  price: ethers.parseEther("0.01"),
  duration: 30n * 24n * 3600n,
  maxSupply: 0,
  transferable: true,
  commercialUse: true,
  referrerBps: 500,
  royaltyBps: 500,
  split,
  territory: "WORLD",
  revocable: false,
};
await gasOf(licenses.createOffer(offer));
await gasOf(licenses.createOffer({ ...offer, currency: await stablecoin.getAddress(), price: 25_000_000n }));
const nativeOffer = 1n;
const erc20Offer = 2n;

await gasOf(
  licenses.connect(buyer2).purchase(nativeOffer, buyer2!.address, ethers.ZeroAddress, { value: offer.price }),
);
figures.purchaseNative = await gasOf(
  licenses.connect(buyer).purchase(nativeOffer, buyer!.address, ethers.ZeroAddress, { value: offer.price }),
);
await gasOf(stablecoin.mint(buyer!.address, 1_000_000_000n));
await gasOf(stablecoin.connect(buyer).approve(c.LicenseToken.address, ethers.MaxUint256));
figures.purchaseErc20 = await gasOf(
  licenses.connect(buyer).purchase(erc20Offer, buyer!.address, ethers.ZeroAddress),
);
figures.mintForFiat = await gasOf(
  licenses.connect(relayer).mintForFiat(nativeOffer, player!.address, ethers.id("cs_test_gas_bench")),
);
const fiatBatch = Array.from({ length: 50 }, (_, i) => ({
  offerId: nativeOffer,
  recipient: ethers.Wallet.createRandom().address,
  paymentRef: ethers.id(`cs_test_gas_batch_${i}`),
}));
figures.mintForFiatBatch50 = await gasOf(licenses.connect(relayer).mintForFiatBatch(fiatBatch));
figures.mintForFiatBatchPerLicense50 = Math.ceil(figures.mintForFiatBatch50 / 50);
const tokenId = 2n;
figures.renew = await gasOf(licenses.connect(buyer).renew(tokenId, { value: offer.price }));

await gasOf(items.defineItem(1, "ipfs://item-1", 0));
await gasOf(items.mint(seller!.address, 1, 10, "0x"));
await gasOf(items.connect(seller).setApprovalForAll(c.ItemEscrow.address, true));
const deadline = (await networkHelpers.time.latest()) + 7 * 24 * 3600;
figures.list = await gasOf(
  escrow.list(c.GameItems.address, 1, 1, ethers.parseEther("0.05"), ethers.ZeroAddress, deadline),
);
figures.buy = await gasOf(escrow.connect(buyer).buy(1, { value: ethers.parseEther("0.05") }));
figures.confirm = await gasOf(escrow.connect(buyer).confirm(1));
figures.claimItems = await gasOf(escrow.connect(buyer).claimItems(1));
figures.claimFunds = await gasOf(escrow.connect(seller).claimFunds(1));

figures.release = await gasOf(
  RevenueSplit__factory.connect(split, creator).release(ethers.ZeroAddress, creator!.address),
);

// Card revenue settled by the relayer from the deployment's funded treasury to 100 payees that never held the
// token, the costliest case (each balance is a new slot), with one card payment reference per payee.
const settlement = PayoutSettlement__factory.connect(c.PayoutSettlement.address, relayer);
const payees = Array.from({ length: 100 }, () => ethers.Wallet.createRandom().address).sort((a, b) =>
  BigInt(a) < BigInt(b) ? -1 : 1,
);
figures.settle100 = await gasOf(
  settlement.settle(
    ethers.id("settlement-gas-bench"),
    payees,
    payees.map((_, i) => 12_340_000n + BigInt(i)),
    payees.map((_, i) => ethers.id(`cs_test_settled_${i}`)),
  ),
);
figures.settlePerPayee100 = Math.ceil(figures.settle100 / 100);

await report("gas", figures, {
  register: "target <= 110,000 (commit + reveal)",
  anchorBatchPerWork1000: "target <= 100",
  purchaseNative: "target <= 160,000",
  confirm: "target <= 90,000",
  claimItems: "target <= 90,000",
  claimFunds: "target <= 90,000",
  settlePerPayee100: "target <= 40,000",
});
