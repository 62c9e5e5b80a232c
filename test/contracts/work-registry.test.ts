import { anyValue } from "@nomicfoundation/hardhat-ethers-chai-matchers/withArgs";
import { expect } from "chai";
import fc from "fast-check";
import { network } from "hardhat";
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { IWorkRegistry__factory, type WorkRegistry } from "../../types/typechain/index.js";
import { DOMAIN_VERSION, REGISTRY_DOMAIN_NAME, type RegisterMessage } from "../../lib/eip712.ts";
import { BATCH_LEAF_ENCODING, commitmentOf } from "../../lib/evidence/registry.ts";
import {
  SAMPLE_CID,
  SAMPLE_METADATA_URI,
  SINGLE_DIGEST_WALLET_CODE,
  commitAndReveal,
  committedWorkId,
  interfaceIdOf,
  registerDigest,
  sha256Hex,
  signRegister,
  type RegistryDomainRef,
} from "../helpers/registry.ts";

const { ethers, networkHelpers } = await network.create();

const REGISTRAR_ROLE = ethers.id("REGISTRAR_ROLE");
const DEFAULT_ADMIN_ROLE = ethers.ZeroHash;
const ERC165_ID = "0x01ffc9a7";
const ACCESS_CONTROL_ID = "0x7965db0b";
const MAX_CO_AUTHORS = 32;
const MANIFEST_CID = "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi";

async function deployRegistry() {
  const [admin, registrar, alice, bob, relayer, ...others] = await ethers.getSigners();
  if (!admin || !registrar || !alice || !bob || !relayer) throw new Error("too few accounts");
  const registry = await ethers.deployContract("WorkRegistry", [admin.address]);
  await registry.connect(admin).grantRole(REGISTRAR_ROLE, registrar.address);
  const domain: RegistryDomainRef = {
    chainId: (await ethers.provider.getNetwork()).chainId,
    registry: await registry.getAddress(),
  };
  return { registry, admin, registrar, alice, bob, relayer, others, domain };
}

function register(registry: WorkRegistry, creator: HardhatEthersSigner, contentHash: string, parentId = 0n) {
  return commitAndReveal(registry, creator, contentHash, { parentId });
}

async function registerMessage(
  creator: string,
  overrides: Partial<RegisterMessage> = {},
): Promise<RegisterMessage> {
  return {
    creator,
    contentHash: sha256Hex("a relayed work"),
    cid: SAMPLE_CID,
    metadataURI: SAMPLE_METADATA_URI,
    parentId: 0n,
    nonce: 1n,
    deadline: BigInt(await networkHelpers.time.latest()) + 3600n,
    ...overrides,
  };
}

/** The relayer commits to a signed message; answers the reserved id. */
async function relayCommit(registry: WorkRegistry, relayer: HardhatEthersSigner, message: RegisterMessage) {
  const tx = await registry
    .connect(relayer)
    .commit(commitmentOf(message.creator, message.contentHash, message.nonce));
  return committedWorkId(tx);
}

/** A squatter's commit and reveal of a hash they learned, in two blocks; answers the squatter's id. */
async function squat(registry: WorkRegistry, squatter: HardhatEthersSigner, contentHash: string) {
  return (await commitAndReveal(registry, squatter, contentHash, { cid: "bafkreisquat" })).workId;
}

describe("WorkRegistry", () => {
  describe("deployment", () => {
    it("gives the constructor's admin DEFAULT_ADMIN_ROLE and nobody the registrar role by default", async () => {
      const [admin, other] = await ethers.getSigners();
      const registry = await ethers.deployContract("WorkRegistry", [other!.address]);
      expect(await registry.hasRole(DEFAULT_ADMIN_ROLE, other!.address)).to.equal(true);
      expect(await registry.hasRole(DEFAULT_ADMIN_ROLE, admin!.address)).to.equal(false);
      expect(await registry.hasRole(REGISTRAR_ROLE, other!.address)).to.equal(false);
    });

    it("uses the shared EIP-712 domain name and version", async () => {
      const { registry, domain } = await networkHelpers.loadFixture(deployRegistry);
      const [, name, version, chainId, verifyingContract] = await registry.eip712Domain();
      expect([name, version, chainId, verifyingContract]).to.deep.equal([
        REGISTRY_DOMAIN_NAME,
        DOMAIN_VERSION,
        domain.chainId,
        domain.registry,
      ]);
    });

    it("reports IWorkRegistry, IAccessControl and IERC165 through ERC-165", async () => {
      const { registry } = await networkHelpers.loadFixture(deployRegistry);
      expect(await registry.supportsInterface(interfaceIdOf(IWorkRegistry__factory.abi))).to.equal(true);
      expect(await registry.supportsInterface(ACCESS_CONTROL_ID)).to.equal(true);
      expect(await registry.supportsInterface(ERC165_ID)).to.equal(true);
      expect(await registry.supportsInterface("0xffffffff")).to.equal(false);
    });
  });

  describe("commit and reveal", () => {
    it("reserves consecutive ids from 1 at commit time and emits each id", async () => {
      const { registry, alice, bob } = await networkHelpers.loadFixture(deployRegistry);
      const first = commitmentOf(alice.address, sha256Hex("one"), 7n);
      await expect(registry.connect(alice).commit(first)).to.emit(registry, "WorkCommitted").withArgs(1n);
      await expect(registry.connect(bob).commit(ethers.id("anything")))
        .to.emit(registry, "WorkCommitted")
        .withArgs(2n);
      expect(await registry.workCount()).to.equal(2n);
    });

    it("binds the revealed hash to the reserved id with the commit's time as registration time", async () => {
      const { registry, alice } = await networkHelpers.loadFixture(deployRegistry);
      const hash = sha256Hex("abc");
      const commitTx = await registry.connect(alice).commit(commitmentOf(alice.address, hash, 9n));
      const committedAt = BigInt(
        (await ethers.provider.getBlock((await commitTx.wait())!.blockNumber))!.timestamp,
      );
      await networkHelpers.time.increase(60);

      await expect(registry.connect(alice).reveal(1n, hash, 9n, SAMPLE_CID, SAMPLE_METADATA_URI, 0n))
        .to.emit(registry, "WorkRegistered")
        .withArgs(1n, hash, alice.address, 0n, committedAt, SAMPLE_CID, SAMPLE_METADATA_URI);
      expect(await registry.workOf(hash)).to.equal(1n);
      expect(await registry.creatorOf(1n)).to.equal(alice.address);
      expect(await registry.getWork(1n)).to.deep.equal([alice.address, committedAt, 0n, false]);
    });

    it("rejects a reveal in the commit's own block with RevealTooEarly", async () => {
      const { registry, alice } = await networkHelpers.loadFixture(deployRegistry);
      const hash = sha256Hex("same block");
      await networkHelpers.mine(1);
      await ethers.provider.send("evm_setAutomine", [false]);
      try {
        await registry.connect(alice).commit(commitmentOf(alice.address, hash, 1n), { gasLimit: 200_000 });
        const reveal = await registry
          .connect(alice)
          .reveal(1n, hash, 1n, SAMPLE_CID, SAMPLE_METADATA_URI, 0n, { gasLimit: 200_000 });
        await networkHelpers.mine(1);
        const receipt = await ethers.provider.getTransactionReceipt(reveal.hash);
        expect(receipt!.status).to.equal(0);
      } finally {
        await ethers.provider.send("evm_setAutomine", [true]);
      }
      expect(await registry.workOf(hash)).to.equal(0n);
    });

    it("rejects a contract that commits and reveals in one transaction with RevealTooEarly", async () => {
      const { registry } = await networkHelpers.loadFixture(deployRegistry);
      const squatter = await ethers.deployContract("AtomicSquatter");
      await expect(
        squatter.squat(await registry.getAddress(), sha256Hex("seen in the mempool"), 1n),
      ).to.be.revertedWithCustomError(registry, "RevealTooEarly");
    });

    it("rejects a reveal by anyone but the committed creator, or of another hash or nonce, with CommitmentMismatch", async () => {
      const { registry, alice, bob } = await networkHelpers.loadFixture(deployRegistry);
      const hash = sha256Hex("private file");
      await registry.connect(alice).commit(commitmentOf(alice.address, hash, 5n));
      const attempts: [HardhatEthersSigner, string, bigint][] = [
        [bob, hash, 5n],
        [alice, sha256Hex("another file"), 5n],
        [alice, hash, 6n],
      ];
      for (const [who, h, nonce] of attempts) {
        await expect(registry.connect(who).reveal(1n, h, nonce, SAMPLE_CID, SAMPLE_METADATA_URI, 0n))
          .to.be.revertedWithCustomError(registry, "CommitmentMismatch")
          .withArgs(1n);
      }
    });

    it("rejects revealing an id twice, an id never reserved, or a batch's id with NotCommitted", async () => {
      const { registry, alice, registrar } = await networkHelpers.loadFixture(deployRegistry);
      const hash = sha256Hex("twice");
      const { workId } = await commitAndReveal(registry, alice, hash, { nonce: 3n });
      await registry.connect(registrar).anchorBatch(ethers.id("root"), 2n, MANIFEST_CID);
      for (const id of [workId, 2n, 9n]) {
        await expect(registry.connect(alice).reveal(id, hash, 3n, SAMPLE_CID, SAMPLE_METADATA_URI, 0n))
          .to.be.revertedWithCustomError(registry, "NotCommitted")
          .withArgs(id);
      }
    });

    it("rejects the zero hash with EmptyContentHash", async () => {
      const { registry, alice } = await networkHelpers.loadFixture(deployRegistry);
      await expect(register(registry, alice, ethers.ZeroHash)).to.be.revertedWithCustomError(
        registry,
        "EmptyContentHash",
      );
    });

    it("records a new version of the creator's own live work, and refuses another's with ParentNotOwned", async () => {
      const { registry, alice, bob } = await networkHelpers.loadFixture(deployRegistry);
      const { workId: parent } = await register(registry, alice, sha256Hex("v1"));
      const { workId: child } = await register(registry, alice, sha256Hex("v2"), parent);
      expect((await registry.getWork(child)).parentId).to.equal(parent);
      await expect(register(registry, bob, sha256Hex("bob v2"), parent))
        .to.be.revertedWithCustomError(registry, "ParentNotOwned")
        .withArgs(parent, bob.address);
      await expect(register(registry, alice, sha256Hex("orphan"), 99n))
        .to.be.revertedWithCustomError(registry, "UnknownWork")
        .withArgs(99n);
    });

    it("reports committed but unrevealed ids as UnknownWork", async () => {
      const { registry, alice } = await networkHelpers.loadFixture(deployRegistry);
      await registry.connect(alice).commit(ethers.id("pending"));
      for (const id of [0n, 1n, 2n]) {
        await expect(registry.creatorOf(id))
          .to.be.revertedWithCustomError(registry, "UnknownWork")
          .withArgs(id);
        await expect(registry.getWork(id))
          .to.be.revertedWithCustomError(registry, "UnknownWork")
          .withArgs(id);
      }
    });

    it("keeps creator, time and parent intact for an address with every bit set", async () => {
      const { registry, alice } = await networkHelpers.loadFixture(deployRegistry);
      const maxAddress = ethers.getAddress(`0x${"ff".repeat(20)}`);
      await networkHelpers.impersonateAccount(maxAddress);
      await networkHelpers.setBalance(maxAddress, 10n ** 18n);
      const max = await ethers.getSigner(maxAddress);
      const { workId: parent } = await register(registry, max as HardhatEthersSigner, sha256Hex("max v1"));
      await register(registry, alice, sha256Hex("between"));
      const { workId } = await register(registry, max as HardhatEthersSigner, sha256Hex("max v2"), parent);
      const work = await registry.getWork(workId);
      expect([work.creator, work.parentId, work.superseded]).to.deep.equal([maxAddress, parent, false]);
    });
  });

  describe("squatters", () => {
    it("a squatter who copies the hash from the creator's pending reveal ends up superseded", async () => {
      const { registry, alice, bob } = await networkHelpers.loadFixture(deployRegistry);
      const hash = sha256Hex("the creator's file");
      await registry.connect(alice).commit(commitmentOf(alice.address, hash, 11n));
      await networkHelpers.mine(1);

      // Alice's reveal waits in the mempool; Bob sees the hash and outbids her to commit first.
      await ethers.provider.send("evm_setAutomine", [false]);
      let bobId: bigint;
      try {
        await registry.connect(alice).reveal(1n, hash, 11n, SAMPLE_CID, SAMPLE_METADATA_URI, 0n, {
          gasLimit: 300_000,
          maxPriorityFeePerGas: 1n,
        });
        const bobCommit = await registry.connect(bob).commit(commitmentOf(bob.address, hash, 12n), {
          gasLimit: 300_000,
          maxPriorityFeePerGas: 10n ** 10n,
        });
        await networkHelpers.mine(1);
        bobId = await committedWorkId(bobCommit);
      } finally {
        await ethers.provider.send("evm_setAutomine", [true]);
      }
      await expect(registry.connect(bob).reveal(bobId, hash, 12n, "bafkreisquat", "ipfs://squat", 0n))
        .to.emit(registry, "ClaimSuperseded")
        .withArgs(bobId, hash, 1n);

      expect(await registry.workOf(hash)).to.equal(1n);
      expect(await registry.creatorOf(1n)).to.equal(alice.address);
      await expect(registry.creatorOf(bobId))
        .to.be.revertedWithCustomError(registry, "WorkSuperseded")
        .withArgs(bobId);
      expect((await registry.getWork(bobId)).superseded).to.equal(true);
    });

    it("a squatter whose reveal lands before the creator's delayed reveal loses the work once she reveals", async () => {
      const { registry, alice, bob } = await networkHelpers.loadFixture(deployRegistry);
      const hash = sha256Hex("a slow reveal");
      await registry.connect(alice).commit(commitmentOf(alice.address, hash, 1n));
      const bobId = await squat(registry, bob, hash);
      expect(await registry.workOf(hash)).to.equal(bobId);

      await expect(registry.connect(alice).reveal(1n, hash, 1n, SAMPLE_CID, SAMPLE_METADATA_URI, 0n))
        .to.emit(registry, "ClaimSuperseded")
        .withArgs(bobId, hash, 1n);
      expect(await registry.workOf(hash)).to.equal(1n);
      expect(await registry.creatorOf(1n)).to.equal(alice.address);
      await expect(registry.creatorOf(bobId)).to.be.revertedWithCustomError(registry, "WorkSuperseded");
      await expect(registry.connect(bob).setCoAuthors(bobId, [])).to.be.revertedWithCustomError(
        registry,
        "WorkSuperseded",
      );
    });

    it("a squatter who copies a pending commitment reserves an id only the creator can reveal", async () => {
      const { registry, alice, bob } = await networkHelpers.loadFixture(deployRegistry);
      const hash = sha256Hex("copied commitment");
      const commitment = commitmentOf(alice.address, hash, 4n);
      await registry.connect(bob).commit(commitment);
      await registry.connect(alice).commit(commitment);
      await expect(
        registry.connect(bob).reveal(1n, hash, 4n, SAMPLE_CID, SAMPLE_METADATA_URI, 0n),
      ).to.be.revertedWithCustomError(registry, "CommitmentMismatch");
      await registry.connect(alice).reveal(2n, hash, 4n, SAMPLE_CID, SAMPLE_METADATA_URI, 0n);
      expect(await registry.creatorOf(2n)).to.equal(alice.address);
    });

    it("a squatter reading a published batch manifest is superseded once a leaf is claimed", async () => {
      const { registry, registrar, alice, bob, relayer, domain } =
        await networkHelpers.loadFixture(deployRegistry);
      const message = await registerMessage(alice.address, { contentHash: sha256Hex("batched"), nonce: 21n });
      const signature = await signRegister(alice, domain, message);
      const digest = registerDigest(domain, message);
      const tree = StandardMerkleTree.of(
        [
          [0n, alice.address, message.contentHash, digest],
          [1n, alice.address, sha256Hex("batched too"), ethers.id("other digest")],
        ],
        [...BATCH_LEAF_ENCODING],
      );
      await registry.connect(registrar).anchorBatch(tree.root, 2n, MANIFEST_CID);

      // The manifest is public now: Bob registers the hash directly, and his claim even counts until the leaf is claimed.
      const bobId = await squat(registry, bob, message.contentHash);
      expect(bobId).to.equal(3n);
      expect(await registry.creatorOf(bobId)).to.equal(bob.address);

      const index = [...tree.entries()].find(([, v]) => v[0] === 0n)![0];
      await expect(registry.connect(relayer).claimBatched(1n, 0n, message, signature, tree.getProof(index)))
        .to.emit(registry, "ClaimSuperseded")
        .withArgs(bobId, message.contentHash, 1n);
      expect(await registry.workOf(message.contentHash)).to.equal(1n);
      expect(await registry.creatorOf(1n)).to.equal(alice.address);
      await expect(registry.creatorOf(bobId)).to.be.revertedWithCustomError(registry, "WorkSuperseded");
    });

    it("a squatter cannot claim another creator's batch leaf under his own name", async () => {
      const { registry, registrar, alice, bob, domain } = await networkHelpers.loadFixture(deployRegistry);
      const message = await registerMessage(alice.address, { contentHash: sha256Hex("leaf") });
      const digest = registerDigest(domain, message);
      const tree = StandardMerkleTree.of(
        [[0n, alice.address, message.contentHash, digest]],
        [...BATCH_LEAF_ENCODING],
      );
      await registry.connect(registrar).anchorBatch(tree.root, 1n, MANIFEST_CID);

      const bobMessage = { ...message, creator: bob.address };
      await expect(
        registry
          .connect(bob)
          .claimBatched(1n, 0n, bobMessage, await signRegister(bob, domain, bobMessage), []),
      )
        .to.be.revertedWithCustomError(registry, "InvalidBatchProof")
        .withArgs(1n, 0n);
      await expect(
        registry.connect(bob).claimBatched(1n, 0n, message, await signRegister(bob, domain, message), []),
      )
        .to.be.revertedWithCustomError(registry, "InvalidCreatorSignature")
        .withArgs(alice.address);
    });
  });

  describe("revealFor", () => {
    it("reveals the relayer's commitment in the signing creator's name", async () => {
      const { registry, relayer, alice, domain } = await networkHelpers.loadFixture(deployRegistry);
      const message = await registerMessage(alice.address);
      const workId = await relayCommit(registry, relayer, message);
      await expect(
        registry.connect(relayer).revealFor(workId, message, await signRegister(alice, domain, message)),
      )
        .to.emit(registry, "WorkRegistered")
        .withArgs(
          workId,
          message.contentHash,
          alice.address,
          0n,
          (v: bigint) => v > 0n,
          message.cid,
          message.metadataURI,
        );
      expect(await registry.creatorOf(workId)).to.equal(alice.address);
    });

    it("rejects a signature by someone else, or for other fields, with InvalidCreatorSignature", async () => {
      const { registry, relayer, alice, bob, domain } = await networkHelpers.loadFixture(deployRegistry);
      const message = await registerMessage(alice.address);
      const workId = await relayCommit(registry, relayer, message);
      const bad = [
        await signRegister(bob, domain, message),
        await signRegister(alice, domain, { ...message, metadataURI: "ipfs://other" }),
        await signRegister(alice, { ...domain, chainId: domain.chainId + 1n }, message),
        "0x1234",
      ];
      for (const signature of bad) {
        await expect(registry.connect(relayer).revealFor(workId, message, signature))
          .to.be.revertedWithCustomError(registry, "InvalidCreatorSignature")
          .withArgs(alice.address);
      }
    });

    it("rejects a signature past its deadline with SignatureExpired", async () => {
      const { registry, relayer, alice, domain } = await networkHelpers.loadFixture(deployRegistry);
      const message = await registerMessage(alice.address);
      const workId = await relayCommit(registry, relayer, message);
      await networkHelpers.time.increaseTo(message.deadline + 1n);
      await expect(
        registry.connect(relayer).revealFor(workId, message, await signRegister(alice, domain, message)),
      )
        .to.be.revertedWithCustomError(registry, "SignatureExpired")
        .withArgs(message.deadline);
    });

    it("rejects a replayed signature: the commitment is spent", async () => {
      const { registry, relayer, alice, domain } = await networkHelpers.loadFixture(deployRegistry);
      const message = await registerMessage(alice.address);
      const signature = await signRegister(alice, domain, message);
      const workId = await relayCommit(registry, relayer, message);
      await registry.connect(relayer).revealFor(workId, message, signature);
      await expect(registry.connect(relayer).revealFor(workId, message, signature))
        .to.be.revertedWithCustomError(registry, "NotCommitted")
        .withArgs(workId);
    });

    it("accepts an ERC-1271 contract wallet that approves the Register digest", async () => {
      const { registry, relayer, domain } = await networkHelpers.loadFixture(deployRegistry);
      const wallet = ethers.getAddress(`0x${"c0de".repeat(10)}`);
      await networkHelpers.setCode(wallet, SINGLE_DIGEST_WALLET_CODE);
      const message = await registerMessage(wallet);
      await networkHelpers.setStorageAt(wallet, 0, registerDigest(domain, message));
      const workId = await relayCommit(registry, relayer, message);
      await registry.connect(relayer).revealFor(workId, message, "0x1234");
      expect(await registry.creatorOf(workId)).to.equal(wallet);
      expect(await registry.registrationDigest(message)).to.equal(registerDigest(domain, message));
    });
  });

  describe("setCoAuthors", () => {
    it("emits the creator's list, and refuses others, oversized lists and invalid entries", async () => {
      const { registry, alice, bob, others } = await networkHelpers.loadFixture(deployRegistry);
      const { workId } = await register(registry, alice, sha256Hex("joint work"));
      await expect(registry.connect(alice).setCoAuthors(workId, [bob.address, others[0]!.address]))
        .to.emit(registry, "CoAuthorsSet")
        .withArgs(workId, alice.address, [bob.address, others[0]!.address]);
      await expect(registry.connect(bob).setCoAuthors(workId, []))
        .to.be.revertedWithCustomError(registry, "NotWorkCreator")
        .withArgs(workId, bob.address);
      const many = Array.from({ length: MAX_CO_AUTHORS + 1 }, (_, i) =>
        ethers.getAddress(ethers.dataSlice(ethers.id(`co-author ${i}`), 12)),
      );
      await expect(registry.connect(alice).setCoAuthors(workId, many))
        .to.be.revertedWithCustomError(registry, "TooManyCoAuthors")
        .withArgs(BigInt(MAX_CO_AUTHORS + 1), BigInt(MAX_CO_AUTHORS));
      for (const [list, culprit] of [
        [[ethers.ZeroAddress], ethers.ZeroAddress],
        [[alice.address], alice.address],
        [[bob.address, bob.address], bob.address],
      ] as [string[], string][]) {
        await expect(registry.connect(alice).setCoAuthors(workId, list))
          .to.be.revertedWithCustomError(registry, "InvalidCoAuthor")
          .withArgs(culprit);
      }
    });
  });

  describe("anchorBatch", () => {
    it("reserves one work id per leaf after those already reserved and emits the first", async () => {
      const { registry, registrar, alice } = await networkHelpers.loadFixture(deployRegistry);
      await registry.connect(alice).commit(ethers.id("before"));
      const root = ethers.id("root");
      await expect(registry.connect(registrar).anchorBatch(root, 1000n, MANIFEST_CID))
        .to.emit(registry, "BatchAnchored")
        .withArgs(1n, root, registrar.address, 1000n, 2n, MANIFEST_CID);
      const anchoredAt = BigInt(await networkHelpers.time.latest());
      expect(await registry.getBatch(1n)).to.deep.equal([root, anchoredAt, 1000n, 2n]);
      expect(await registry.workCount()).to.equal(1001n);
      await expect(registry.connect(alice).commit(ethers.id("after")))
        .to.emit(registry, "WorkCommitted")
        .withArgs(1002n);
    });

    it("rejects non-registrars, empty batches and oversized ones", async () => {
      const { registry, registrar, admin } = await networkHelpers.loadFixture(deployRegistry);
      await expect(registry.connect(admin).anchorBatch(ethers.id("r"), 1n, MANIFEST_CID))
        .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
        .withArgs(admin.address, REGISTRAR_ROLE);
      await expect(
        registry.connect(registrar).anchorBatch(ethers.ZeroHash, 1n, MANIFEST_CID),
      ).to.be.revertedWithCustomError(registry, "EmptyBatch");
      await expect(
        registry.connect(registrar).anchorBatch(ethers.id("r"), 0n, MANIFEST_CID),
      ).to.be.revertedWithCustomError(registry, "EmptyBatch");
      await expect(registry.connect(registrar).anchorBatch(ethers.id("r"), (1n << 24n) + 1n, MANIFEST_CID))
        .to.be.revertedWithCustomError(registry, "BatchTooLarge")
        .withArgs((1n << 24n) + 1n, 1n << 24n);
      await expect(registry.getBatch(1n))
        .to.be.revertedWithCustomError(registry, "UnknownBatch")
        .withArgs(1n);
    });
  });

  describe("Merkle batches", () => {
    const creators = Array.from({ length: 17 }, (_, i) =>
      ethers.getAddress(ethers.dataSlice(ethers.id(`batch creator ${i}`), 12)),
    );
    const values: [bigint, string, string, string][] = Array.from({ length: 1000 }, (_, i) => [
      BigInt(i),
      creators[i % creators.length]!,
      sha256Hex(`batched file ${i}`),
      ethers.id(`digest ${i}`),
    ]);
    const tree = StandardMerkleTree.of(values, [...BATCH_LEAF_ENCODING]);

    async function anchored() {
      const fixture = await networkHelpers.loadFixture(deployRegistry);
      await fixture.registry.connect(fixture.registrar).anchorBatch(tree.root, 1000n, MANIFEST_CID);
      return fixture;
    }

    it("computes leaves exactly as StandardMerkleTree does", async () => {
      const { registry } = await networkHelpers.loadFixture(deployRegistry);
      await fc.assert(
        fc.asyncProperty(
          fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
          fc.uint8Array({ minLength: 52, maxLength: 52 }),
          async (index, bytes) => {
            const value = [
              index,
              ethers.getAddress(ethers.hexlify(bytes.slice(0, 20))),
              ethers.hexlify(bytes.slice(20, 52)),
              ethers.id(String(index)),
            ] as const;
            const expected = StandardMerkleTree.of([[...value]], [...BATCH_LEAF_ENCODING]).leafHash([
              ...value,
            ]);
            expect(await registry.leafOf(...value)).to.equal(expected);
          },
        ),
        { numRuns: 20 },
      );
    });

    it("verifies randomly chosen leaves of a 1,000-leaf batch and rejects them with other values", async () => {
      const { registry } = await anchored();
      for (const i of [0, 1, 499, 998, 999]) {
        const [index, creator, hash, digest] = tree.at(i)!;
        const proof = tree.getProof(i);
        expect(await registry.verifyAnchored(1n, index, creator, hash, digest, proof)).to.equal(true);
        expect(await registry.verifyAnchored(1n, index + 1n, creator, hash, digest, proof)).to.equal(false);
        expect(
          await registry.verifyAnchored(
            1n,
            index,
            creators[0] === creator ? creators[1]! : creators[0]!,
            hash,
            digest,
            proof,
          ),
        ).to.equal(false);
      }
    });

    it("refuses an inner node of the tree presented as a leaf", async () => {
      const { registry } = await anchored();
      // Parent of leaves 0 and 1 with the rest of leaf 0's proof: the old leaf-hash interface accepted this.
      const proof = tree.getProof(0);
      const inner = ethers.keccak256(
        ethers.concat(
          [tree.leafHash(tree.at(0)!), proof[0]!].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1)),
        ),
      );
      expect(
        await registry.verifyAnchored(1n, 0n, ethers.ZeroAddress, inner, inner, proof.slice(1)),
      ).to.equal(false);
      const asValues = ethers.AbiCoder.defaultAbiCoder().decode(
        ["uint256", "address", "bytes32", "bytes32"],
        ethers.concat([ethers.zeroPadValue("0x00", 32), ethers.zeroPadValue("0x00", 32), inner, inner]),
      );
      expect(
        await registry.verifyAnchored(1n, asValues[0], asValues[1], asValues[2], asValues[3], proof.slice(1)),
      ).to.equal(false);
    });

    it("claims a leaf only once, within the batch's range", async () => {
      const { registry, registrar, alice, relayer, domain } =
        await networkHelpers.loadFixture(deployRegistry);
      const message = await registerMessage(alice.address);
      const signature = await signRegister(alice, domain, message);
      const leafTree = StandardMerkleTree.of(
        [[0n, alice.address, message.contentHash, registerDigest(domain, message)]],
        [...BATCH_LEAF_ENCODING],
      );
      await registry.connect(registrar).anchorBatch(leafTree.root, 1n, MANIFEST_CID);
      await registry.connect(relayer).claimBatched(1n, 0n, message, signature, []);
      expect(await registry.creatorOf(1n)).to.equal(alice.address);
      await expect(registry.connect(relayer).claimBatched(1n, 0n, message, signature, []))
        .to.be.revertedWithCustomError(registry, "LeafAlreadyClaimed")
        .withArgs(1n, 0n);
      await expect(registry.connect(relayer).claimBatched(1n, 1n, message, signature, []))
        .to.be.revertedWithCustomError(registry, "LeafOutOfRange")
        .withArgs(1n, 1n);
      await expect(registry.connect(relayer).claimBatched(2n, 0n, message, signature, []))
        .to.be.revertedWithCustomError(registry, "UnknownBatch")
        .withArgs(2n);
    });

    it("claims many leaves in one transaction, skipping a leaf someone claimed first, so a front-run claim cannot make it revert", async () => {
      const { registry, registrar, alice, bob, relayer, others, domain } =
        await networkHelpers.loadFixture(deployRegistry);
      const signers = [alice, bob, relayer];
      const messages = await Promise.all(
        signers.map((s, i) => registerMessage(s.address, { contentHash: sha256Hex(`many ${i}`) })),
      );
      const signatures = await Promise.all(messages.map((m, i) => signRegister(signers[i]!, domain, m)));
      const manyTree = StandardMerkleTree.of(
        messages.map((m, i) => [BigInt(i), m.creator, m.contentHash, registerDigest(domain, m)]),
        [...BATCH_LEAF_ENCODING],
      );
      await registry.connect(registrar).anchorBatch(manyTree.root, 3n, MANIFEST_CID);
      const claims = messages.map((registration, i) => ({
        batchId: 1n,
        index: BigInt(i),
        registration,
        signature: signatures[i]!,
        proof: manyTree.getProof(i),
      }));
      // Anyone holding the published manifest may claim a leaf before the platform does.
      await registry.connect(others[0]!).claimBatched(1n, 1n, messages[1]!, signatures[1]!, claims[1]!.proof);
      const tx = registry.connect(relayer).claimBatchedMany(claims);
      await expect(tx)
        .to.emit(registry, "WorkRegistered")
        .withArgs(1n, messages[0]!.contentHash, alice.address, 0n, anyValue, SAMPLE_CID, SAMPLE_METADATA_URI);
      await expect(tx)
        .to.emit(registry, "WorkRegistered")
        .withArgs(
          3n,
          messages[2]!.contentHash,
          relayer.address,
          0n,
          anyValue,
          SAMPLE_CID,
          SAMPLE_METADATA_URI,
        );
      expect(await registry.creatorOf(1n)).to.equal(alice.address);
      expect(await registry.creatorOf(2n)).to.equal(bob.address);
      expect(await registry.creatorOf(3n)).to.equal(relayer.address);
      // Everything claimed already: nothing to do, and no revert.
      const again = await (await registry.connect(relayer).claimBatchedMany(claims)).wait();
      expect(again!.logs).to.have.length(0);
      const forged = { ...claims[0]!, index: 0n, proof: claims[2]!.proof };
      await expect(registry.connect(relayer).claimBatchedMany([])).to.be.revertedWithCustomError(
        registry,
        "EmptyClaimBatch",
      );
      const fresh = await networkHelpers.loadFixture(deployRegistry);
      await fresh.registry.connect(fresh.registrar).anchorBatch(manyTree.root, 3n, MANIFEST_CID);
      await expect(fresh.registry.connect(relayer).claimBatchedMany([forged]))
        .to.be.revertedWithCustomError(fresh.registry, "InvalidBatchProof")
        .withArgs(1n, 0n);
    });

    it("gives an earlier batch leaf the work when it is claimed after a squatter's direct claim of its hash", async () => {
      const { registry, registrar, alice, bob, relayer, domain } =
        await networkHelpers.loadFixture(deployRegistry);
      const message = await registerMessage(alice.address, { contentHash: sha256Hex("squatted leaf") });
      const signature = await signRegister(alice, domain, message);
      const leafTree = StandardMerkleTree.of(
        [[0n, alice.address, message.contentHash, registerDigest(domain, message)]],
        [...BATCH_LEAF_ENCODING],
      );
      await registry.connect(registrar).anchorBatch(leafTree.root, 1n, MANIFEST_CID);
      const squatterId = await squat(registry, bob, message.contentHash);
      expect(await registry.workOf(message.contentHash)).to.equal(squatterId);
      await expect(
        registry
          .connect(relayer)
          .claimBatchedMany([{ batchId: 1n, index: 0n, registration: message, signature, proof: [] }]),
      )
        .to.emit(registry, "ClaimSuperseded")
        .withArgs(squatterId, message.contentHash, 1n);
      expect(await registry.workOf(message.contentHash)).to.equal(1n);
      await expect(registry.creatorOf(squatterId))
        .to.be.revertedWithCustomError(registry, "WorkSuperseded")
        .withArgs(squatterId);
    });
  });

  describe("priority model", () => {
    it("for random interleavings of commits and reveals of shared hashes, the lowest revealed id holds each hash", async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.record({ who: fc.integer({ min: 0, max: 2 }), file: fc.integer({ min: 0, max: 2 }) }), {
            minLength: 1,
            maxLength: 6,
          }),
          fc.func(fc.boolean()),
          async (claims, revealNow) => {
            const { registry, alice, bob, others } = await networkHelpers.loadFixture(deployRegistry);
            const people = [alice, bob, others[0]!];
            const pending: { id: bigint; who: number; hash: string; nonce: bigint }[] = [];
            for (const [n, c] of claims.entries()) {
              const hash = sha256Hex(`file ${c.file}`);
              const nonce = BigInt(n + 1);
              const id = await committedWorkId(
                await registry
                  .connect(people[c.who]!)
                  .commit(commitmentOf(people[c.who]!.address, hash, nonce)),
              );
              pending.push({ id, who: c.who, hash, nonce });
            }
            // Reveal in a shuffled order: those the function picks first, then the rest in reverse.
            const order = [
              ...pending.filter((_, i) => revealNow(i)),
              ...pending.filter((_, i) => !revealNow(i)).reverse(),
            ];
            for (const p of order) {
              await registry
                .connect(people[p.who]!)
                .reveal(p.id, p.hash, p.nonce, SAMPLE_CID, SAMPLE_METADATA_URI, 0n);
            }
            for (const p of pending) {
              const lowest = pending.filter((q) => q.hash === p.hash).reduce((a, b) => (a.id < b.id ? a : b));
              expect(await registry.workOf(p.hash)).to.equal(lowest.id);
              expect((await registry.getWork(p.id)).superseded).to.equal(p.id !== lowest.id);
            }
          },
        ),
        { numRuns: 15 },
      );
    });
  });
});
