import { readFile } from "node:fs/promises";
import { expect } from "chai";
import fc from "fast-check";
import { network } from "hardhat";
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { IWorkRegistry__factory, type WorkRegistry } from "../../types/typechain/index.js";
import { DOMAIN_VERSION, REGISTRY_DOMAIN_NAME, type RegisterMessage } from "../../lib/eip712.ts";
import {
  SAMPLE_CID,
  SAMPLE_METADATA_URI,
  SINGLE_DIGEST_WALLET_CODE,
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

async function namedSigners() {
  const signers = await ethers.getSigners();
  const [admin, registrar, alice, bob, relayer] = signers;
  if (!admin || !registrar || !alice || !bob || !relayer)
    throw new Error("the test network has too few accounts");
  return { admin, registrar, alice, bob, relayer, others: signers.slice(5) };
}

async function deployRegistry() {
  const { admin, registrar, alice, bob, relayer, others } = await namedSigners();
  const registry = await ethers.deployContract("WorkRegistry", [admin.address]);
  await registry.connect(admin).grantRole(REGISTRAR_ROLE, registrar.address);
  const domain: RegistryDomainRef = {
    chainId: (await ethers.provider.getNetwork()).chainId,
    registry: await registry.getAddress(),
  };
  return { registry, admin, registrar, alice, bob, relayer, others, domain };
}

function register(registry: WorkRegistry, creator: HardhatEthersSigner, contentHash: string, parentId = 0n) {
  return registry.connect(creator).register(contentHash, SAMPLE_CID, SAMPLE_METADATA_URI, parentId);
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

function submit(
  registry: WorkRegistry,
  relayer: HardhatEthersSigner,
  message: RegisterMessage,
  signature: string,
) {
  return registry
    .connect(relayer)
    .registerFor(
      message.creator,
      message.contentHash,
      message.cid,
      message.metadataURI,
      message.parentId,
      message.nonce,
      message.deadline,
      signature,
    );
}

describe("WorkRegistry", () => {
  describe("deployment", () => {
    it("gives the constructor's admin DEFAULT_ADMIN_ROLE and nobody the registrar role by default", async () => {
      const { admin, alice: other } = await namedSigners();
      const registry = await ethers.deployContract("WorkRegistry", [other.address]);
      expect(await registry.hasRole(DEFAULT_ADMIN_ROLE, other.address)).to.equal(true);
      expect(await registry.hasRole(DEFAULT_ADMIN_ROLE, admin.address)).to.equal(false);
      expect(await registry.hasRole(REGISTRAR_ROLE, other.address)).to.equal(false);
      expect(await registry.REGISTRAR_ROLE()).to.equal(REGISTRAR_ROLE);
      expect(await registry.getRoleAdmin(REGISTRAR_ROLE)).to.equal(DEFAULT_ADMIN_ROLE);
    });

    it("starts with no works and caps co-author lists at 32", async () => {
      const { registry } = await networkHelpers.loadFixture(deployRegistry);
      expect(await registry.workCount()).to.equal(0n);
      expect(await registry.MAX_CO_AUTHORS()).to.equal(BigInt(MAX_CO_AUTHORS));
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
      const registryId = interfaceIdOf(IWorkRegistry__factory.abi);
      expect(await registry.supportsInterface(registryId)).to.equal(true);
      expect(await registry.supportsInterface(ACCESS_CONTROL_ID)).to.equal(true);
      expect(await registry.supportsInterface(ERC165_ID)).to.equal(true);
      expect(await registry.supportsInterface("0xffffffff")).to.equal(false);
    });
  });

  describe("register", () => {
    it("registers the SHA-256 of a file's bytes under id 1 with the caller as creator", async () => {
      const { registry, alice } = await networkHelpers.loadFixture(deployRegistry);
      const fileBytes = await readFile(new URL("../../contracts/WorkRegistry.sol", import.meta.url));
      const contentHash = sha256Hex(fileBytes);

      await expect(register(registry, alice, contentHash))
        .to.emit(registry, "WorkRegistered")
        .withArgs(1n, contentHash, alice.address, 0n, SAMPLE_CID, SAMPLE_METADATA_URI);

      const registeredAt = BigInt(await networkHelpers.time.latest());
      expect(await registry.workOf(contentHash)).to.equal(1n);
      expect(await registry.workCount()).to.equal(1n);
      expect(await registry.creatorOf(1n)).to.equal(alice.address);
      const work = await registry.getWork(1n);
      expect(work.contentHash).to.equal(contentHash);
      expect(work.creator).to.equal(alice.address);
      expect(work.registeredAt).to.equal(registeredAt);
      expect(work.parentId).to.equal(0n);
    });

    it("stores the plain SHA-256 digest, matching the FIPS 180-2 vector for 'abc'", async () => {
      const { registry, alice } = await networkHelpers.loadFixture(deployRegistry);
      const abc = "0xba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
      expect(sha256Hex(new TextEncoder().encode("abc"))).to.equal(abc);

      await register(registry, alice, abc);

      expect(await registry.workOf(abc)).to.equal(1n);
    });

    it("returns the new work id and numbers works consecutively from 1", async () => {
      const { registry, alice, bob } = await networkHelpers.loadFixture(deployRegistry);
      const first = sha256Hex("first");
      const second = sha256Hex("second");
      expect(
        await registry.connect(alice).register.staticCall(first, SAMPLE_CID, SAMPLE_METADATA_URI, 0n),
      ).to.equal(1n);

      await register(registry, alice, first);
      await expect(register(registry, bob, second))
        .to.emit(registry, "WorkRegistered")
        .withArgs(2n, second, bob.address, 0n, SAMPLE_CID, SAMPLE_METADATA_URI);

      expect(await registry.workCount()).to.equal(2n);
      expect(await registry.workOf(second)).to.equal(2n);
      expect(await registry.creatorOf(2n)).to.equal(bob.address);
    });

    it("returns work id 0 for a hash nobody registered", async () => {
      const { registry, alice } = await networkHelpers.loadFixture(deployRegistry);
      await register(registry, alice, sha256Hex("registered"));
      expect(await registry.workOf(sha256Hex("never registered"))).to.equal(0n);
    });

    it("rejects a second registration of the same hash with AlreadyRegistered, keeping the first creator", async () => {
      const { registry, alice, bob } = await networkHelpers.loadFixture(deployRegistry);
      const contentHash = sha256Hex("contested");
      await register(registry, alice, contentHash);

      await expect(register(registry, bob, contentHash))
        .to.be.revertedWithCustomError(registry, "AlreadyRegistered")
        .withArgs(contentHash, 1n);
      await expect(register(registry, alice, contentHash))
        .to.be.revertedWithCustomError(registry, "AlreadyRegistered")
        .withArgs(contentHash, 1n);
      expect(await registry.creatorOf(1n)).to.equal(alice.address);
      expect(await registry.workCount()).to.equal(1n);
    });

    it("rejects the zero hash with EmptyContentHash", async () => {
      const { registry, alice } = await networkHelpers.loadFixture(deployRegistry);
      await expect(register(registry, alice, ethers.ZeroHash)).to.be.revertedWithCustomError(
        registry,
        "EmptyContentHash",
      );
    });

    it("records a new version's parent and emits it", async () => {
      const { registry, alice } = await networkHelpers.loadFixture(deployRegistry);
      await register(registry, alice, sha256Hex("v1"));
      const v2 = sha256Hex("v2");

      await expect(register(registry, alice, v2, 1n))
        .to.emit(registry, "WorkRegistered")
        .withArgs(2n, v2, alice.address, 1n, SAMPLE_CID, SAMPLE_METADATA_URI);

      const work = await registry.getWork(2n);
      expect(work.parentId).to.equal(1n);
      expect(work.contentHash).to.equal(v2);
      expect((await registry.getWork(1n)).parentId).to.equal(0n);
    });

    it("links a chain of versions, each to its predecessor", async () => {
      const { registry, alice, bob } = await networkHelpers.loadFixture(deployRegistry);
      await register(registry, alice, sha256Hex("draft"));
      await register(registry, bob, sha256Hex("unrelated"));
      await register(registry, alice, sha256Hex("revision"), 1n);
      await register(registry, alice, sha256Hex("final"), 3n);

      expect((await registry.getWork(3n)).parentId).to.equal(1n);
      expect((await registry.getWork(4n)).parentId).to.equal(3n);
      expect((await registry.getWork(2n)).parentId).to.equal(0n);
    });

    it("rejects a parent id that was never registered with UnknownWork", async () => {
      const { registry, alice } = await networkHelpers.loadFixture(deployRegistry);
      await register(registry, alice, sha256Hex("v1"));
      await expect(register(registry, alice, sha256Hex("v2"), 2n))
        .to.be.revertedWithCustomError(registry, "UnknownWork")
        .withArgs(2n);
    });

    it("rejects another creator's work as parent with ParentNotOwned", async () => {
      const { registry, alice, bob } = await networkHelpers.loadFixture(deployRegistry);
      await register(registry, alice, sha256Hex("alice's original"));
      await expect(register(registry, bob, sha256Hex("bob's derivative"), 1n))
        .to.be.revertedWithCustomError(registry, "ParentNotOwned")
        .withArgs(1n, bob.address);
    });

    it("keeps id, creator and time intact for a creator address with every bit set", async () => {
      const { registry } = await networkHelpers.loadFixture(deployRegistry);
      const allOnes = ethers.getAddress(`0x${"ff".repeat(20)}`);
      await networkHelpers.impersonateAccount(allOnes);
      await networkHelpers.setBalance(allOnes, ethers.parseEther("1"));
      const creator = await ethers.getImpersonatedSigner(allOnes);
      const contentHash = `0x${"ff".repeat(32)}`;

      await register(registry, creator, contentHash);

      const work = await registry.getWork(1n);
      expect(work.creator).to.equal(allOnes);
      expect(work.registeredAt).to.equal(BigInt(await networkHelpers.time.latest()));
      expect(work.contentHash).to.equal(contentHash);
      expect(await registry.workOf(contentHash)).to.equal(1n);
    });

    it("reads back every registration of a random sequence exactly as written", async () => {
      const signers = await ethers.getSigners();
      const hashes = fc.uniqueArray(
        fc.uint8Array({ minLength: 32, maxLength: 32 }).map((bytes) => ethers.hexlify(bytes)),
        { minLength: 1, maxLength: 6, selector: (hash) => hash },
      );
      const entries = hashes.chain((list) =>
        fc.tuple(
          fc.constant(list),
          fc.array(fc.nat(signers.length - 1), { minLength: list.length, maxLength: list.length }),
        ),
      );
      await fc.assert(
        fc.asyncProperty(entries, async ([list, creators]) => {
          fc.pre(!list.includes(ethers.ZeroHash));
          const { registry } = await networkHelpers.loadFixture(deployRegistry);
          const times: bigint[] = [];
          for (const [i, contentHash] of list.entries()) {
            await register(registry, signers[creators[i]!]!, contentHash);
            times.push(BigInt(await networkHelpers.time.latest()));
          }
          expect(await registry.workCount()).to.equal(BigInt(list.length));
          for (const [i, contentHash] of list.entries()) {
            const id = BigInt(i + 1);
            expect(await registry.workOf(contentHash)).to.equal(id);
            const work = await registry.getWork(id);
            expect(work.contentHash).to.equal(contentHash);
            expect(work.creator).to.equal(signers[creators[i]!]!.address);
            expect(work.registeredAt).to.equal(times[i]);
            expect(work.parentId).to.equal(0n);
          }
        }),
        { numRuns: 15 },
      );
    });
  });

  describe("getWork and creatorOf", () => {
    it("reject id 0 and ids above the work count with UnknownWork", async () => {
      const { registry, alice } = await networkHelpers.loadFixture(deployRegistry);
      await register(registry, alice, sha256Hex("only work"));

      for (const id of [0n, 2n]) {
        await expect(registry.getWork(id))
          .to.be.revertedWithCustomError(registry, "UnknownWork")
          .withArgs(id);
        await expect(registry.creatorOf(id))
          .to.be.revertedWithCustomError(registry, "UnknownWork")
          .withArgs(id);
      }
    });
  });

  describe("registerFor", () => {
    it("registers in the signing creator's name while the relayer pays, and marks the nonce used", async () => {
      const { registry, alice, relayer, domain } = await networkHelpers.loadFixture(deployRegistry);
      const message = await registerMessage(alice.address, { nonce: 42n });
      const signature = await signRegister(alice, domain, message);
      expect(await registry.nonceUsed(alice.address, 42n)).to.equal(false);

      await expect(submit(registry, relayer, message, signature))
        .to.emit(registry, "WorkRegistered")
        .withArgs(1n, message.contentHash, alice.address, 0n, message.cid, message.metadataURI);

      expect(await registry.creatorOf(1n)).to.equal(alice.address);
      expect(await registry.workOf(message.contentHash)).to.equal(1n);
      expect(await registry.nonceUsed(alice.address, 42n)).to.equal(true);
      expect(await registry.nonceUsed(relayer.address, 42n)).to.equal(false);
    });

    it("accepts unused nonces in any order and leaves the others unused", async () => {
      const { registry, alice, relayer, domain } = await networkHelpers.loadFixture(deployRegistry);
      const nonces = [7n, 3n, 2n ** 255n, 256n];
      for (const [i, nonce] of nonces.entries()) {
        const message = await registerMessage(alice.address, { nonce, contentHash: sha256Hex(`work ${i}`) });
        await submit(registry, relayer, message, await signRegister(alice, domain, message));
      }

      expect(await registry.workCount()).to.equal(4n);
      for (const nonce of nonces) expect(await registry.nonceUsed(alice.address, nonce)).to.equal(true);
      for (const nonce of [0n, 4n, 255n, 257n])
        expect(await registry.nonceUsed(alice.address, nonce)).to.equal(false);
    });

    it("rejects a replayed signature with NonceAlreadyUsed", async () => {
      const { registry, alice, relayer, domain } = await networkHelpers.loadFixture(deployRegistry);
      const message = await registerMessage(alice.address, { nonce: 9n });
      const signature = await signRegister(alice, domain, message);
      await submit(registry, relayer, message, signature);

      await expect(submit(registry, relayer, message, signature))
        .to.be.revertedWithCustomError(registry, "NonceAlreadyUsed")
        .withArgs(alice.address, 9n);
    });

    it("rejects a new message that reuses a spent nonce with NonceAlreadyUsed", async () => {
      const { registry, alice, relayer, domain } = await networkHelpers.loadFixture(deployRegistry);
      const first = await registerMessage(alice.address, { nonce: 5n });
      await submit(registry, relayer, first, await signRegister(alice, domain, first));
      const second = await registerMessage(alice.address, {
        nonce: 5n,
        contentHash: sha256Hex("another work"),
      });

      await expect(submit(registry, relayer, second, await signRegister(alice, domain, second)))
        .to.be.revertedWithCustomError(registry, "NonceAlreadyUsed")
        .withArgs(alice.address, 5n);
    });

    it("tracks nonces per creator, so two creators may use the same nonce", async () => {
      const { registry, alice, bob, relayer, domain } = await networkHelpers.loadFixture(deployRegistry);
      const forAlice = await registerMessage(alice.address, { nonce: 1n, contentHash: sha256Hex("alice") });
      const forBob = await registerMessage(bob.address, { nonce: 1n, contentHash: sha256Hex("bob") });
      await submit(registry, relayer, forAlice, await signRegister(alice, domain, forAlice));
      await submit(registry, relayer, forBob, await signRegister(bob, domain, forBob));

      expect(await registry.creatorOf(1n)).to.equal(alice.address);
      expect(await registry.creatorOf(2n)).to.equal(bob.address);
    });

    it("rejects a signature from someone other than the named creator with InvalidCreatorSignature", async () => {
      const { registry, alice, bob, relayer, domain } = await networkHelpers.loadFixture(deployRegistry);
      const message = await registerMessage(alice.address);
      await expect(submit(registry, relayer, message, await signRegister(bob, domain, message)))
        .to.be.revertedWithCustomError(registry, "InvalidCreatorSignature")
        .withArgs(alice.address);
      expect(await registry.nonceUsed(alice.address, message.nonce)).to.equal(false);
    });

    it("rejects a submission whose fields differ from the signed ones", async () => {
      const { registry, alice, relayer, domain } = await networkHelpers.loadFixture(deployRegistry);
      const message = await registerMessage(alice.address);
      const signature = await signRegister(alice, domain, message);
      const tampered: Partial<RegisterMessage>[] = [
        { contentHash: sha256Hex("swapped file") },
        { cid: SAMPLE_CID.replace("bafk", "bafy") },
        { metadataURI: "ipfs://elsewhere" },
        { deadline: message.deadline + 1n },
        { nonce: message.nonce + 1n },
      ];
      for (const change of tampered) {
        await expect(submit(registry, relayer, { ...message, ...change }, signature))
          .to.be.revertedWithCustomError(registry, "InvalidCreatorSignature")
          .withArgs(alice.address);
      }
    });

    it("rejects a malformed signature with InvalidCreatorSignature", async () => {
      const { registry, alice, relayer } = await networkHelpers.loadFixture(deployRegistry);
      const message = await registerMessage(alice.address);
      for (const signature of ["0x", `0x${"11".repeat(64)}`, `0x${"00".repeat(65)}`]) {
        await expect(submit(registry, relayer, message, signature))
          .to.be.revertedWithCustomError(registry, "InvalidCreatorSignature")
          .withArgs(alice.address);
      }
    });

    it("rejects a signature made for another chain id", async () => {
      const { registry, alice, relayer, domain } = await networkHelpers.loadFixture(deployRegistry);
      const message = await registerMessage(alice.address);
      const signature = await signRegister(alice, { ...domain, chainId: domain.chainId + 1n }, message);
      await expect(submit(registry, relayer, message, signature))
        .to.be.revertedWithCustomError(registry, "InvalidCreatorSignature")
        .withArgs(alice.address);
    });

    it("rejects a signature made for another registry deployment", async () => {
      const { registry, admin, alice, relayer, domain } = await networkHelpers.loadFixture(deployRegistry);
      const otherRegistry = await ethers.deployContract("WorkRegistry", [admin.address]);
      const message = await registerMessage(alice.address);
      const signature = await signRegister(
        alice,
        { ...domain, registry: await otherRegistry.getAddress() },
        message,
      );

      await expect(submit(registry, relayer, message, signature))
        .to.be.revertedWithCustomError(registry, "InvalidCreatorSignature")
        .withArgs(alice.address);
      await expect(submit(otherRegistry, relayer, message, signature)).to.emit(
        otherRegistry,
        "WorkRegistered",
      );
    });

    it("rejects a signature past its deadline with SignatureExpired and accepts it at the deadline", async () => {
      const { registry, alice, relayer, domain } = await networkHelpers.loadFixture(deployRegistry);
      const message = await registerMessage(alice.address);
      const signature = await signRegister(alice, domain, message);
      const snapshot = await networkHelpers.takeSnapshot();

      await networkHelpers.time.setNextBlockTimestamp(message.deadline);
      await expect(submit(registry, relayer, message, signature)).to.emit(registry, "WorkRegistered");

      await snapshot.restore();
      await networkHelpers.time.increaseTo(message.deadline + 1n);
      await expect(submit(registry, relayer, message, signature))
        .to.be.revertedWithCustomError(registry, "SignatureExpired")
        .withArgs(message.deadline);
    });

    it("records a relayed new version when the parent belongs to the signing creator", async () => {
      const { registry, alice, relayer, domain } = await networkHelpers.loadFixture(deployRegistry);
      await register(registry, alice, sha256Hex("v1"));
      const message = await registerMessage(alice.address, { parentId: 1n });

      await submit(registry, relayer, message, await signRegister(alice, domain, message));

      expect((await registry.getWork(2n)).parentId).to.equal(1n);
    });

    it("rejects a relayed version whose parent belongs to the relayer rather than the creator", async () => {
      const { registry, alice, relayer, domain } = await networkHelpers.loadFixture(deployRegistry);
      await register(registry, relayer, sha256Hex("relayer's work"));
      const message = await registerMessage(alice.address, { parentId: 1n });

      await expect(submit(registry, relayer, message, await signRegister(alice, domain, message)))
        .to.be.revertedWithCustomError(registry, "ParentNotOwned")
        .withArgs(1n, alice.address);
    });

    it("rejects a relayed hash that is already registered with AlreadyRegistered", async () => {
      const { registry, alice, bob, relayer, domain } = await networkHelpers.loadFixture(deployRegistry);
      const message = await registerMessage(alice.address);
      await register(registry, bob, message.contentHash);

      await expect(submit(registry, relayer, message, await signRegister(alice, domain, message)))
        .to.be.revertedWithCustomError(registry, "AlreadyRegistered")
        .withArgs(message.contentHash, 1n);
    });

    it("accepts an ERC-1271 contract wallet that approves the Register digest", async () => {
      const { registry, relayer, domain } = await networkHelpers.loadFixture(deployRegistry);
      const wallet = ethers.getAddress(`0x${"c0de".repeat(10)}`);
      await networkHelpers.setCode(wallet, SINGLE_DIGEST_WALLET_CODE);
      const message = await registerMessage(wallet);
      await networkHelpers.setStorageAt(wallet, 0, registerDigest(domain, message));

      await expect(submit(registry, relayer, message, "0x1234"))
        .to.emit(registry, "WorkRegistered")
        .withArgs(1n, message.contentHash, wallet, 0n, message.cid, message.metadataURI);
      expect(await registry.nonceUsed(wallet, message.nonce)).to.equal(true);
    });

    it("rejects an ERC-1271 wallet that approves a different digest with InvalidCreatorSignature", async () => {
      const { registry, relayer, domain } = await networkHelpers.loadFixture(deployRegistry);
      const wallet = ethers.getAddress(`0x${"c0de".repeat(10)}`);
      await networkHelpers.setCode(wallet, SINGLE_DIGEST_WALLET_CODE);
      const message = await registerMessage(wallet);
      await networkHelpers.setStorageAt(wallet, 0, registerDigest(domain, { ...message, nonce: 2n }));

      await expect(submit(registry, relayer, message, "0x1234"))
        .to.be.revertedWithCustomError(registry, "InvalidCreatorSignature")
        .withArgs(wallet);
    });
  });

  describe("setCoAuthors", () => {
    async function registeredWork() {
      const fixture = await networkHelpers.loadFixture(deployRegistry);
      await register(fixture.registry, fixture.alice, sha256Hex("joint work"));
      return fixture;
    }

    it("emits the creator's co-author list", async () => {
      const { registry, alice, bob, others } = await registeredWork();
      const coAuthors = [bob.address, others[0]!.address];
      await expect(registry.connect(alice).setCoAuthors(1n, coAuthors))
        .to.emit(registry, "CoAuthorsSet")
        .withArgs(1n, alice.address, coAuthors);
    });

    it("replaces the list on a later call, including with an empty one", async () => {
      const { registry, alice, bob } = await registeredWork();
      await registry.connect(alice).setCoAuthors(1n, [bob.address]);
      await expect(registry.connect(alice).setCoAuthors(1n, []))
        .to.emit(registry, "CoAuthorsSet")
        .withArgs(1n, alice.address, []);
    });

    it("accepts exactly 32 co-authors and rejects 33 with TooManyCoAuthors", async () => {
      const { registry, alice } = await registeredWork();
      const addresses = Array.from({ length: MAX_CO_AUTHORS + 1 }, (_, i) =>
        ethers.getAddress(ethers.dataSlice(ethers.id(`co-author ${i}`), 12)),
      );

      await expect(registry.connect(alice).setCoAuthors(1n, addresses.slice(0, MAX_CO_AUTHORS)))
        .to.emit(registry, "CoAuthorsSet")
        .withArgs(1n, alice.address, addresses.slice(0, MAX_CO_AUTHORS));
      await expect(registry.connect(alice).setCoAuthors(1n, addresses))
        .to.be.revertedWithCustomError(registry, "TooManyCoAuthors")
        .withArgs(BigInt(MAX_CO_AUTHORS + 1), BigInt(MAX_CO_AUTHORS));
    });

    it("rejects the zero address, the creator and duplicates with InvalidCoAuthor", async () => {
      const { registry, alice, bob, others } = await registeredWork();
      const invalid: [string[], string][] = [
        [[bob.address, ethers.ZeroAddress], ethers.ZeroAddress],
        [[alice.address], alice.address],
        [[bob.address, others[0]!.address, bob.address], bob.address],
      ];
      for (const [coAuthors, culprit] of invalid) {
        await expect(registry.connect(alice).setCoAuthors(1n, coAuthors))
          .to.be.revertedWithCustomError(registry, "InvalidCoAuthor")
          .withArgs(culprit);
      }
    });

    it("rejects anyone but the creator with NotWorkCreator", async () => {
      const { registry, bob, admin } = await registeredWork();
      for (const caller of [bob, admin]) {
        await expect(registry.connect(caller).setCoAuthors(1n, []))
          .to.be.revertedWithCustomError(registry, "NotWorkCreator")
          .withArgs(1n, caller.address);
      }
    });

    it("rejects an unknown work with UnknownWork", async () => {
      const { registry, alice } = await registeredWork();
      await expect(registry.connect(alice).setCoAuthors(2n, []))
        .to.be.revertedWithCustomError(registry, "UnknownWork")
        .withArgs(2n);
    });
  });

  describe("anchorBatch", () => {
    it("stores root, time and count under batch id 1 and emits BatchAnchored", async () => {
      const { registry, registrar } = await networkHelpers.loadFixture(deployRegistry);
      const root = ethers.id("root");

      await expect(registry.connect(registrar).anchorBatch(root, 1000n, MANIFEST_CID))
        .to.emit(registry, "BatchAnchored")
        .withArgs(1n, root, registrar.address, 1000n, MANIFEST_CID);

      const anchoredAt = BigInt(await networkHelpers.time.latest());
      expect(await registry.getBatch(1n)).to.deep.equal([root, anchoredAt, 1000n]);
    });

    it("numbers batches consecutively and returns the id", async () => {
      const { registry, registrar } = await networkHelpers.loadFixture(deployRegistry);
      await registry.connect(registrar).anchorBatch(ethers.id("first"), 1n, MANIFEST_CID);
      expect(await registry.connect(registrar).anchorBatch.staticCall(ethers.id("second"), 2n, "")).to.equal(
        2n,
      );

      await expect(registry.connect(registrar).anchorBatch(ethers.id("second"), 2n, ""))
        .to.emit(registry, "BatchAnchored")
        .withArgs(2n, ethers.id("second"), registrar.address, 2n, "");
      expect((await registry.getBatch(2n))[2]).to.equal(2n);
    });

    it("rejects accounts without REGISTRAR_ROLE, the admin included", async () => {
      const { registry, admin, alice } = await networkHelpers.loadFixture(deployRegistry);
      for (const caller of [alice, admin]) {
        await expect(registry.connect(caller).anchorBatch(ethers.id("root"), 1n, MANIFEST_CID))
          .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, REGISTRAR_ROLE);
      }
    });

    it("rejects a registrar whose role the admin revoked", async () => {
      const { registry, admin, registrar } = await networkHelpers.loadFixture(deployRegistry);
      await registry.connect(admin).revokeRole(REGISTRAR_ROLE, registrar.address);
      await expect(registry.connect(registrar).anchorBatch(ethers.id("root"), 1n, MANIFEST_CID))
        .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
        .withArgs(registrar.address, REGISTRAR_ROLE);
    });

    it("rejects a zero root or a zero count with EmptyBatch", async () => {
      const { registry, registrar } = await networkHelpers.loadFixture(deployRegistry);
      await expect(
        registry.connect(registrar).anchorBatch(ethers.ZeroHash, 1n, MANIFEST_CID),
      ).to.be.revertedWithCustomError(registry, "EmptyBatch");
      await expect(
        registry.connect(registrar).anchorBatch(ethers.id("root"), 0n, MANIFEST_CID),
      ).to.be.revertedWithCustomError(registry, "EmptyBatch");
    });

    it("rejects a count that does not fit 48 bits", async () => {
      const { registry, registrar } = await networkHelpers.loadFixture(deployRegistry);
      const count = 2n ** 48n;
      await expect(registry.connect(registrar).anchorBatch(ethers.id("root"), count, MANIFEST_CID))
        .to.be.revertedWithCustomError(registry, "SafeCastOverflowedUintDowncast")
        .withArgs(48, count);
    });

    it("rejects getBatch for id 0 and ids never anchored with UnknownBatch", async () => {
      const { registry, registrar } = await networkHelpers.loadFixture(deployRegistry);
      await registry.connect(registrar).anchorBatch(ethers.id("root"), 1n, MANIFEST_CID);
      for (const id of [0n, 2n]) {
        await expect(registry.getBatch(id))
          .to.be.revertedWithCustomError(registry, "UnknownBatch")
          .withArgs(id);
      }
    });
  });

  describe("Merkle batches", () => {
    const creators = Array.from({ length: 17 }, (_, i) =>
      ethers.getAddress(ethers.dataSlice(ethers.id(`batch creator ${i}`), 12)),
    );
    const values: [string, string][] = Array.from({ length: 1000 }, (_, i) => [
      sha256Hex(`batched file ${i}`),
      creators[i % creators.length]!,
    ]);
    const tree = StandardMerkleTree.of(values, ["bytes32", "address"]);
    const otherTree = StandardMerkleTree.of(
      values.slice(0, 10).map(([hash]) => [hash, creators[0]!]),
      ["bytes32", "address"],
    );

    async function anchoredBatches() {
      const fixture = await networkHelpers.loadFixture(deployRegistry);
      await fixture.registry
        .connect(fixture.registrar)
        .anchorBatch(tree.root, BigInt(values.length), MANIFEST_CID);
      await fixture.registry.connect(fixture.registrar).anchorBatch(otherTree.root, 10n, MANIFEST_CID);
      return fixture;
    }

    it("computes leaves exactly as StandardMerkleTree does for (bytes32, address)", async () => {
      const { registry } = await networkHelpers.loadFixture(deployRegistry);
      await fc.assert(
        fc.asyncProperty(
          fc.uint8Array({ minLength: 32, maxLength: 32 }),
          fc.uint8Array({ minLength: 20, maxLength: 20 }),
          async (hashBytes, addressBytes) => {
            const value = [ethers.hexlify(hashBytes), ethers.getAddress(ethers.hexlify(addressBytes))];
            const expected = StandardMerkleTree.of([value], ["bytes32", "address"]).leafHash(value);
            expect(await registry.leafOf(value[0]!, value[1]!)).to.equal(expected);
          },
        ),
        { numRuns: 25 },
      );
    });

    it("verifies randomly chosen leaves of a 1,000-leaf batch", async () => {
      const { registry } = await anchoredBatches();
      await fc.assert(
        fc.asyncProperty(fc.nat(values.length - 1), async (i) => {
          const [contentHash, creator] = values[i]!;
          const leaf = await registry.leafOf(contentHash, creator);
          expect(leaf).to.equal(tree.leafHash(values[i]!));
          expect(await registry.verifyAnchored(1n, leaf, tree.getProof(i))).to.equal(true);
        }),
        { numRuns: 20, examples: [[0], [values.length - 1]] },
      );
    });

    it("rejects a leaf with another leaf's proof", async () => {
      const { registry } = await anchoredBatches();
      expect(await registry.verifyAnchored(1n, tree.leafHash(values[3]!), tree.getProof(700))).to.equal(
        false,
      );
    });

    it("rejects a leaf whose creator differs from the anchored one", async () => {
      const { registry, alice } = await anchoredBatches();
      const leaf = await registry.leafOf(values[42]![0], alice.address);
      expect(await registry.verifyAnchored(1n, leaf, tree.getProof(42))).to.equal(false);
    });

    it("rejects a proof with a tampered sibling or a missing step", async () => {
      const { registry } = await anchoredBatches();
      const proof = tree.getProof(123);
      const leaf = tree.leafHash(values[123]!);
      const tampered = [...proof];
      tampered[2] = ethers.id("forged sibling");
      expect(await registry.verifyAnchored(1n, leaf, tampered)).to.equal(false);
      expect(await registry.verifyAnchored(1n, leaf, proof.slice(0, -1))).to.equal(false);
    });

    it("rejects a valid leaf and proof against a different batch", async () => {
      const { registry } = await anchoredBatches();
      expect(await registry.verifyAnchored(2n, tree.leafHash(values[5]!), tree.getProof(5))).to.equal(false);
      expect(
        await registry.verifyAnchored(2n, otherTree.leafHash(otherTree.at(0)!), otherTree.getProof(0)),
      ).to.equal(true);
    });

    it("rejects verification against an unknown batch with UnknownBatch", async () => {
      const { registry } = await anchoredBatches();
      for (const id of [0n, 3n]) {
        await expect(registry.verifyAnchored(id, tree.leafHash(values[0]!), tree.getProof(0)))
          .to.be.revertedWithCustomError(registry, "UnknownBatch")
          .withArgs(id);
      }
    });

    it("verifies the only leaf of a one-leaf batch with an empty proof", async () => {
      const { registry, registrar, alice } = await networkHelpers.loadFixture(deployRegistry);
      const single = StandardMerkleTree.of([[sha256Hex("lonely"), alice.address]], ["bytes32", "address"]);
      await registry.connect(registrar).anchorBatch(single.root, 1n, MANIFEST_CID);
      expect(
        await registry.verifyAnchored(1n, await registry.leafOf(sha256Hex("lonely"), alice.address), []),
      ).to.equal(true);
    });
  });
});
