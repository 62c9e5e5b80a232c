import { expect } from "chai";
import { network } from "hardhat";
import type { NetworkConnection } from "hardhat/types/network";
import {
  ADMIN_DELAY,
  deployLicensing,
  offerParams,
  createOfferMessage,
  signCreateOffer,
  signSetReferrer,
  decodeTokenURI,
  PLATFORM_FEE_BPS,
  PRICE,
  USDC_PRICE,
  THIRTY_DAYS,
  WORK_ID,
  OTHER_WORK_ID,
} from "../helpers/licensing.ts";
import {
  FeeOnTransferToken__factory,
  LicenseToken__factory,
  ReentrantReceiver__factory,
  RejectingReceiver__factory,
  WorkRegistry__factory,
} from "../../types/typechain/index.ts";
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { BATCH_LEAF_ENCODING } from "../../lib/evidence/registry.ts";
import { licenseDomain, SET_REFERRER_TYPES, type SetReferrerMessage } from "../../lib/eip712.ts";
import {
  SAMPLE_CID,
  SAMPLE_METADATA_URI,
  commitAndReveal,
  registerDigest,
  sha256Hex,
  signRegister,
} from "../helpers/registry.ts";

const { ethers, networkHelpers } = await network.create();
const { loadFixture, time } = networkHelpers;
const NATIVE = ethers.ZeroAddress;
const NO_REFERRER = ethers.ZeroAddress;
const NO_PAYMENT_REF = ethers.ZeroHash;

/** Mirrors `ILicenseToken.RevocationReason`. */
const Reason = { CardRefund: 0, CardChargeback: 1, OfferTerms: 2 } as const;

const NATIVE_OFFER = 1n; // 30 days, transferable, 5% referrer commission, 5% royalty
const SOULBOUND_OFFER = 2n;
const ERC20_OFFER = 3n;
const PERPETUAL_OFFER = 4n;

const FEE = (PRICE * PLATFORM_FEE_BPS) / 10_000n;
const COMMISSION = (PRICE * 500n) / 10_000n;
const USDC_FEE = (USDC_PRICE * PLATFORM_FEE_BPS) / 10_000n;
const USDC_COMMISSION = (USDC_PRICE * 500n) / 10_000n;

async function withOffers(connection: NetworkConnection) {
  const fixture = await deployLicensing(connection);
  const splitAddress = await fixture.split.getAddress();
  const token = await fixture.stablecoin.getAddress();
  const asCreator = fixture.license.connect(fixture.creator);
  await asCreator.createOffer(offerParams(splitAddress));
  await asCreator.createOffer(offerParams(splitAddress, { transferable: false }));
  await asCreator.createOffer(offerParams(splitAddress, { currency: token, price: USDC_PRICE }));
  await asCreator.createOffer(offerParams(splitAddress, { duration: 0 }));
  for (const offerId of [NATIVE_OFFER, SOULBOUND_OFFER, ERC20_OFFER, PERPETUAL_OFFER]) {
    await asCreator.setReferrer(offerId, fixture.referrer.address, true);
  }
  return { ...fixture, splitAddress, token, licenseAddress: await fixture.license.getAddress() };
}

/**
 * The real registry and a license token on it: the creator's file sits in an anchored batch leaf not
 * yet claimed, and a squatter who read the manifest has claimed the hash directly and offers licenses.
 */
async function withSquattedWork(connection: NetworkConnection) {
  const { ethers } = connection;
  const fixture = await deployLicensing(connection);
  const { admin, creator, stranger: squatter } = fixture;
  const registry = await new WorkRegistry__factory(admin).deploy(admin.address);
  await registry.grantRole(ethers.id("REGISTRAR_ROLE"), admin.address);
  const license = await new LicenseToken__factory(admin).deploy(
    admin.address,
    ADMIN_DELAY,
    await registry.getAddress(),
    await fixture.factory.getAddress(),
    fixture.treasury.address,
    PLATFORM_FEE_BPS,
    fixture.minter.address,
    fixture.revoker.address,
  );
  const domain = {
    chainId: (await ethers.provider.getNetwork()).chainId,
    registry: await registry.getAddress(),
  };
  const registration = {
    creator: creator.address,
    contentHash: sha256Hex("a squatted photograph"),
    cid: SAMPLE_CID,
    metadataURI: SAMPLE_METADATA_URI,
    parentId: 0n,
    nonce: 7n,
    deadline: BigInt(await time.latest()) + 3600n,
  };
  const signature = await signRegister(creator, domain, registration);
  const tree = StandardMerkleTree.of(
    [[0n, creator.address, registration.contentHash, registerDigest(domain, registration)]],
    [...BATCH_LEAF_ENCODING],
  );
  await registry.setSupersessionHook(await license.getAddress());
  await registry.anchorBatch(tree.root, 1n, "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi");
  const { workId: squatterWorkId } = await commitAndReveal(registry, squatter, registration.contentHash);
  const splitAddress = await fixture.split.getAddress();
  await license.connect(squatter).createOffer(offerParams(splitAddress, { workId: squatterWorkId }));
  const claimLeaf = () => registry.claimBatched(1n, 0n, registration, signature, []);
  return { ...fixture, registry, license, squatter, squatterWorkId, claimLeaf };
}

describe("LicenseToken", function () {
  describe("offers on a superseded work", function () {
    it("sells and renews a squatter's licenses only until an earlier claim supersedes its work, then reverts with WorkSuperseded", async function () {
      const { license, buyer, squatterWorkId, claimLeaf } = await loadFixture(withSquattedWork);
      await license.connect(buyer).purchase(1n, buyer.address, NO_REFERRER, { value: PRICE });
      expect(await license.ownerOf(1n)).to.equal(buyer.address);
      await claimLeaf();
      await expect(license.connect(buyer).purchase(1n, buyer.address, NO_REFERRER, { value: PRICE }))
        .to.be.revertedWithCustomError(license, "WorkSuperseded")
        .withArgs(squatterWorkId);
      // Nor does the licence sold before renew: that too would pay the squatter.
      await expect(license.connect(buyer).renew(1n, { value: PRICE }))
        .to.be.revertedWithCustomError(license, "WorkSuperseded")
        .withArgs(squatterWorkId);
    });

    it("takes word of a superseded work only from the registry, and the registry's hook only from its admin", async function () {
      const { license, registry, squatter, squatterWorkId } = await loadFixture(withSquattedWork);
      await expect(license.connect(squatter).onWorkSuperseded(1n))
        .to.be.revertedWithCustomError(license, "NotRegistry")
        .withArgs(squatter.address);
      await expect(
        registry.connect(squatter).setSupersessionHook(squatter.address),
      ).to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount");
      expect(await registry.supersessionHook()).to.equal(await license.getAddress());
      expect(await registry.creatorOf(squatterWorkId)).to.equal(squatter.address);
    });

    it("refuses card mints of a superseded work's offer, alone or in a batch, with WorkSuperseded", async function () {
      const { license, minter, buyer, squatterWorkId, claimLeaf } = await loadFixture(withSquattedWork);
      await license.connect(minter).mintForFiat(1n, buyer.address, ethers.id("cs_before"));
      await claimLeaf();
      await expect(license.connect(minter).mintForFiat(1n, buyer.address, ethers.id("cs_after")))
        .to.be.revertedWithCustomError(license, "WorkSuperseded")
        .withArgs(squatterWorkId);
      await expect(
        license
          .connect(minter)
          .mintForFiatBatch([{ offerId: 1n, recipient: buyer.address, paymentRef: ethers.id("cs_batch") }]),
      )
        .to.be.revertedWithCustomError(license, "WorkSuperseded")
        .withArgs(squatterWorkId);
    });
  });

  describe("deployment", function () {
    it("sets name, symbol, roles, treasury, fee and collaborators", async function () {
      const { license, registry, factory, admin, treasury, minter, revoker } =
        await loadFixture(deployLicensing);
      expect(await license.name()).to.equal("Rights Ledger License");
      expect(await license.symbol()).to.equal("RLL");
      expect(await license.MINTER_ROLE()).to.equal(ethers.id("MINTER_ROLE"));
      expect(await license.REVOKER_ROLE()).to.equal(ethers.id("REVOKER_ROLE"));
      expect(await license.MAX_PLATFORM_FEE_BPS()).to.equal(2000n);
      expect(await license.defaultAdmin()).to.equal(admin.address);
      expect(await license.defaultAdminDelay()).to.equal(ADMIN_DELAY);
      expect(await license.hasRole(await license.MINTER_ROLE(), minter.address)).to.equal(true);
      expect(await license.hasRole(await license.REVOKER_ROLE(), revoker.address)).to.equal(true);
      expect(await license.hasRole(await license.REVOKER_ROLE(), admin.address)).to.equal(false);
      expect(await license.treasury()).to.equal(treasury.address);
      expect(await license.platformFeeBps()).to.equal(PLATFORM_FEE_BPS);
      expect(await license.registry()).to.equal(await registry.getAddress());
      expect(await license.splitFactory()).to.equal(await factory.getAddress());
      expect(await license.offerCount()).to.equal(0n);
    });

    it("fits its runtime code within the 24,576 bytes public chains accept (EIP-170)", async function () {
      const { license } = await loadFixture(deployLicensing);
      const bytes = ethers.dataLength(await ethers.provider.getCode(await license.getAddress()));
      expect(bytes).to.be.greaterThan(20_000).and.at.most(24_576);
    });

    it("emits TreasurySet and PlatformFeeSet on deployment", async function () {
      const { registry, factory, admin, treasury } = await loadFixture(deployLicensing);
      const deployed = await new LicenseToken__factory(admin).deploy(
        admin.address,
        ADMIN_DELAY,
        await registry.getAddress(),
        await factory.getAddress(),
        treasury.address,
        100,
        ethers.ZeroAddress,
        ethers.ZeroAddress,
      );
      const tx = deployed.deploymentTransaction()!;
      await expect(tx).to.emit(deployed, "TreasurySet").withArgs(treasury.address);
      await expect(tx).to.emit(deployed, "PlatformFeeSet").withArgs(100);
    });

    it("rejects a fee above the maximum, a zero treasury and a zero admin", async function () {
      const { license, registry, factory, admin, treasury } = await loadFixture(deployLicensing);
      const registryAddress = await registry.getAddress();
      const factoryAddress = await factory.getAddress();
      const deploy = (adminAddress: string, treasuryAddress: string, fee: number) =>
        new LicenseToken__factory(admin).deploy(
          adminAddress,
          ADMIN_DELAY,
          registryAddress,
          factoryAddress,
          treasuryAddress,
          fee,
          ethers.ZeroAddress,
          ethers.ZeroAddress,
        );
      await expect(deploy(admin.address, treasury.address, 2001))
        .to.be.revertedWithCustomError(license, "FeeTooHigh")
        .withArgs(2001, 2000);
      await expect(deploy(admin.address, ethers.ZeroAddress, 0))
        .to.be.revertedWithCustomError(license, "InvalidRecipient")
        .withArgs(ethers.ZeroAddress);
      await expect(deploy(ethers.ZeroAddress, treasury.address, 0))
        .to.be.revertedWithCustomError(license, "AccessControlInvalidDefaultAdmin")
        .withArgs(ethers.ZeroAddress);
    });

    it("supports the ERC-165, ERC-721, ERC-2981, AccessControl and delayed admin interfaces only", async function () {
      const { license } = await loadFixture(deployLicensing);
      for (const id of ["0x01ffc9a7", "0x80ac58cd", "0x5b5e139f", "0x2a55205a", "0x7965db0b", "0x31498786"]) {
        expect(await license.supportsInterface(id), id).to.equal(true);
      }
      expect(await license.supportsInterface("0xffffffff")).to.equal(false);
      expect(await license.supportsInterface("0x780e9d63")).to.equal(false); // ERC721Enumerable
    });
  });

  describe("createOffer", function () {
    it("publishes an offer with ids from 1, emits OfferCreated and stores its terms", async function () {
      const { license, creator, split } = await loadFixture(deployLicensing);
      const params = offerParams(await split.getAddress(), { maxSupply: 10, commercialUse: false });
      await expect(license.connect(creator).createOffer(params))
        .to.emit(license, "OfferCreated")
        .withArgs(
          1n,
          WORK_ID,
          creator.address,
          NATIVE,
          PRICE,
          THIRTY_DAYS,
          10,
          true,
          false,
          500,
          500,
          params.split,
          "WORLD",
          false,
          PLATFORM_FEE_BPS,
        );
      const offer = await license.getOffer(1);
      expect(offer.workId).to.equal(WORK_ID);
      expect(offer.creator).to.equal(creator.address);
      expect(offer.duration).to.equal(THIRTY_DAYS);
      expect(offer.maxSupply).to.equal(10n);
      expect(offer.sold).to.equal(0n);
      expect(offer.transferable).to.equal(true);
      expect(offer.commercialUse).to.equal(false);
      expect(offer.active).to.equal(true);
      expect(offer.referrerBps).to.equal(500n);
      expect(offer.royaltyBps).to.equal(500n);
      expect(offer.platformFeeBps).to.equal(PLATFORM_FEE_BPS);
      expect(offer.revocable).to.equal(false);
      expect(offer.currency).to.equal(NATIVE);
      expect(offer.split).to.equal(params.split);
      expect(offer.price).to.equal(PRICE);

      expect(await license.connect(creator).createOffer.staticCall(params)).to.equal(2n);
      await license.connect(creator).createOffer(params);
      expect(await license.offerCount()).to.equal(2n);
    });

    it("rejects callers other than the work's creator with NotWorkCreator", async function () {
      const { license, otherCreator, split } = await loadFixture(deployLicensing);
      await expect(license.connect(otherCreator).createOffer(offerParams(await split.getAddress())))
        .to.be.revertedWithCustomError(license, "NotWorkCreator")
        .withArgs(WORK_ID, otherCreator.address);
    });

    it("rejects unknown works with the registry's UnknownWork", async function () {
      const { license, registry, creator, split } = await loadFixture(deployLicensing);
      await expect(
        license.connect(creator).createOffer(offerParams(await split.getAddress(), { workId: 99n })),
      )
        .to.be.revertedWithCustomError(registry, "UnknownWork")
        .withArgs(99n);
    });

    it("rejects splits not deployed by the factory with UnknownSplit", async function () {
      const { license, creator, stranger } = await loadFixture(deployLicensing);
      await expect(license.connect(creator).createOffer(offerParams(stranger.address)))
        .to.be.revertedWithCustomError(license, "UnknownSplit")
        .withArgs(stranger.address);
    });

    it("rejects invalid terms with InvalidOffer naming the field", async function () {
      const { license, creator, split, stranger } = await loadFixture(deployLicensing);
      const splitAddress = await split.getAddress();
      const cases: [Parameters<typeof offerParams>[1], string][] = [
        [{ price: 0n }, "price"],
        [{ price: 2n ** 96n }, "price"],
        [{ currency: stranger.address }, "currency"],
        [{ referrerBps: 8001 }, "referrerBps"],
        [{ royaltyBps: 1001 }, "royaltyBps"],
        [{ duration: 100n * 365n * 24n * 3600n + 1n }, "duration"],
        [{ territory: "" }, "territory"],
      ];
      for (const [overrides, field] of cases) {
        await expect(license.connect(creator).createOffer(offerParams(splitAddress, overrides)), field)
          .to.be.revertedWithCustomError(license, "InvalidOffer")
          .withArgs(field);
      }
    });

    it("accepts the limits: referrer commission 80%, royalty 10%, the largest price, a 100-year term", async function () {
      const { license, creator, split } = await loadFixture(deployLicensing);
      const params = offerParams(await split.getAddress(), {
        referrerBps: 8000,
        royaltyBps: 1000,
        price: 2n ** 96n - 1n,
        duration: await license.MAX_DURATION(),
      });
      await license.connect(creator).createOffer(params);
      const offer = await license.getOffer(1);
      expect(offer.duration).to.equal(100n * 365n * 24n * 3600n);
      expect(offer.referrerBps).to.equal(8000n);
      expect(offer.royaltyBps).to.equal(1000n);
      expect(offer.price).to.equal(2n ** 96n - 1n);
    });
  });

  describe("createOfferFor", function () {
    async function signed(fixture: Awaited<ReturnType<typeof deployLicensing>>, nonce = 1n) {
      const params = offerParams(await fixture.split.getAddress());
      const deadline = BigInt(await time.latest()) + 3600n;
      const message = createOfferMessage(params, fixture.creator.address, nonce, deadline);
      const signature = await signCreateOffer(fixture.creator, fixture.license, message);
      return { params, deadline, message, signature };
    }

    it("publishes an offer signed by the work's creator, submitted by anyone", async function () {
      const fixture = await loadFixture(deployLicensing);
      const { license, creator, stranger } = fixture;
      const { params, deadline, signature } = await signed(fixture, 7n);
      await expect(license.connect(stranger).createOfferFor(params, creator.address, 7n, deadline, signature))
        .to.emit(license, "OfferCreated")
        .withArgs(
          1n,
          WORK_ID,
          creator.address,
          NATIVE,
          PRICE,
          THIRTY_DAYS,
          0,
          true,
          true,
          500,
          500,
          params.split,
          "WORLD",
          false,
          PLATFORM_FEE_BPS,
        );
      expect((await license.getOffer(1)).creator).to.equal(creator.address);
      expect(await license.nonceUsed(creator.address, 7n)).to.equal(true);
    });

    it("accepts nonces in any order", async function () {
      const fixture = await loadFixture(deployLicensing);
      const { license, creator } = fixture;
      const later = await signed(fixture, 9n);
      const earlier = await signed(fixture, 2n);
      await license.createOfferFor(later.params, creator.address, 9n, later.deadline, later.signature);
      await license.createOfferFor(earlier.params, creator.address, 2n, earlier.deadline, earlier.signature);
      expect(await license.offerCount()).to.equal(2n);
    });

    it("rejects a replayed signature with NonceAlreadyUsed", async function () {
      const fixture = await loadFixture(deployLicensing);
      const { license, creator } = fixture;
      const { params, deadline, signature } = await signed(fixture);
      await license.createOfferFor(params, creator.address, 1n, deadline, signature);
      await expect(license.createOfferFor(params, creator.address, 1n, deadline, signature))
        .to.be.revertedWithCustomError(license, "NonceAlreadyUsed")
        .withArgs(creator.address, 1n);
    });

    it("rejects a signature past its deadline with SignatureExpired", async function () {
      const fixture = await loadFixture(deployLicensing);
      const { license, creator } = fixture;
      const { params, deadline, signature } = await signed(fixture);
      await time.increaseTo(deadline + 1n);
      await expect(license.createOfferFor(params, creator.address, 1n, deadline, signature))
        .to.be.revertedWithCustomError(license, "SignatureExpired")
        .withArgs(deadline);
    });

    it("rejects a signature by someone else with InvalidCreatorSignature", async function () {
      const fixture = await loadFixture(deployLicensing);
      const { license, creator, stranger } = fixture;
      const { params, deadline, message } = await signed(fixture);
      const forged = await signCreateOffer(stranger, license, message);
      await expect(license.createOfferFor(params, creator.address, 1n, deadline, forged))
        .to.be.revertedWithCustomError(license, "InvalidCreatorSignature")
        .withArgs(creator.address);
    });

    it("rejects terms that differ from the signed ones with InvalidCreatorSignature", async function () {
      const fixture = await loadFixture(deployLicensing);
      const { license, creator } = fixture;
      const { params, deadline, signature } = await signed(fixture);
      await expect(license.createOfferFor({ ...params, price: 1n }, creator.address, 1n, deadline, signature))
        .to.be.revertedWithCustomError(license, "InvalidCreatorSignature")
        .withArgs(creator.address);
      await expect(
        license.createOfferFor({ ...params, territory: "US" }, creator.address, 1n, deadline, signature),
      )
        .to.be.revertedWithCustomError(license, "InvalidCreatorSignature")
        .withArgs(creator.address);
    });

    it("rejects a valid signature from someone who is not the work's creator with NotWorkCreator", async function () {
      const { license, split, otherCreator } = await loadFixture(deployLicensing);
      const params = offerParams(await split.getAddress());
      const deadline = BigInt(await time.latest()) + 3600n;
      const message = createOfferMessage(params, otherCreator.address, 1n, deadline);
      const signature = await signCreateOffer(otherCreator, license, message);
      await expect(license.createOfferFor(params, otherCreator.address, 1n, deadline, signature))
        .to.be.revertedWithCustomError(license, "NotWorkCreator")
        .withArgs(WORK_ID, otherCreator.address);
    });
  });

  describe("setOfferActive", function () {
    it("lets the offer's creator pause and resume sales", async function () {
      const { license, creator, buyer } = await loadFixture(withOffers);
      await expect(license.connect(creator).setOfferActive(NATIVE_OFFER, false))
        .to.emit(license, "OfferActiveSet")
        .withArgs(NATIVE_OFFER, false);
      expect((await license.getOffer(NATIVE_OFFER)).active).to.equal(false);
      await expect(
        license.connect(buyer).purchase(NATIVE_OFFER, buyer.address, NO_REFERRER, { value: PRICE }),
      )
        .to.be.revertedWithCustomError(license, "OfferInactive")
        .withArgs(NATIVE_OFFER);

      await expect(license.connect(creator).setOfferActive(NATIVE_OFFER, true))
        .to.emit(license, "OfferActiveSet")
        .withArgs(NATIVE_OFFER, true);
      await license.connect(buyer).purchase(NATIVE_OFFER, buyer.address, NO_REFERRER, { value: PRICE });
      expect(await license.ownerOf(1)).to.equal(buyer.address);
    });

    it("lets an admin pause an offer", async function () {
      const { license, admin } = await loadFixture(withOffers);
      await license.connect(admin).setOfferActive(NATIVE_OFFER, false);
      expect((await license.getOffer(NATIVE_OFFER)).active).to.equal(false);
    });

    it("rejects anyone else with NotWorkCreator", async function () {
      const { license, stranger } = await loadFixture(withOffers);
      await expect(license.connect(stranger).setOfferActive(NATIVE_OFFER, false))
        .to.be.revertedWithCustomError(license, "NotWorkCreator")
        .withArgs(WORK_ID, stranger.address);
    });

    it("rejects unknown offers with UnknownOffer", async function () {
      const { license, admin } = await loadFixture(withOffers);
      await expect(license.connect(admin).setOfferActive(99, false))
        .to.be.revertedWithCustomError(license, "UnknownOffer")
        .withArgs(99);
      await expect(license.getOffer(0)).to.be.revertedWithCustomError(license, "UnknownOffer").withArgs(0);
    });
  });

  describe("purchase with native currency", function () {
    it("mints a license, credits the platform fee and pushes the rest to the split", async function () {
      const { license, split, splitAddress, buyer, treasury } = await loadFixture(withOffers);
      const now = BigInt(await time.latest()) + 10n;
      await time.setNextBlockTimestamp(now);
      const tx = license.connect(buyer).purchase(NATIVE_OFFER, buyer.address, NO_REFERRER, { value: PRICE });

      await expect(tx).to.emit(license, "Transfer").withArgs(NATIVE, buyer.address, 1n);
      await expect(tx)
        .to.emit(license, "LicenseIssued")
        .withArgs(1n, NATIVE_OFFER, WORK_ID, buyer.address, now + THIRTY_DAYS, buyer.address, NO_PAYMENT_REF);
      await expect(tx)
        .to.emit(license, "RevenuePaid")
        .withArgs(1n, NATIVE, splitAddress, PRICE, FEE, NO_REFERRER, 0n);
      await expect(tx)
        .to.emit(split, "PaymentReceived")
        .withArgs(await license.getAddress(), PRICE - FEE);
      await expect(tx).to.changeEtherBalances(ethers, [buyer, license, split], [-PRICE, FEE, PRICE - FEE]);

      expect(await license.owed(treasury.address, NATIVE)).to.equal(FEE);
      expect(await license.ownerOf(1)).to.equal(buyer.address);
      expect(await license.getLicense(1)).to.deep.equal([
        NATIVE_OFFER,
        WORK_ID,
        now + THIRTY_DAYS,
        false,
        0n,
      ]);
      expect((await license.getOffer(NATIVE_OFFER)).sold).to.equal(1n);
      expect(await license.isValid(1)).to.equal(true);
      expect(await license.hasValidLicense(buyer.address, WORK_ID)).to.deep.equal([true, 1n]);
    });

    it("credits the referrer's commission and pays the split what remains", async function () {
      const { license, split, splitAddress, buyer, referrer, treasury } = await loadFixture(withOffers);
      const tx = license
        .connect(buyer)
        .purchase(NATIVE_OFFER, buyer.address, referrer.address, { value: PRICE });
      await expect(tx)
        .to.emit(license, "RevenuePaid")
        .withArgs(1n, NATIVE, splitAddress, PRICE, FEE, referrer.address, COMMISSION);
      await expect(tx).to.changeEtherBalances(
        ethers,
        [buyer, license, split, referrer],
        [-PRICE, FEE + COMMISSION, PRICE - FEE - COMMISSION, 0n],
      );
      expect(await license.owed(referrer.address, NATIVE)).to.equal(COMMISSION);
      expect(await license.owed(treasury.address, NATIVE)).to.equal(FEE);
    });

    it("lets the payer buy for another recipient", async function () {
      const { license, buyer, buyer2 } = await loadFixture(withOffers);
      const tx = license.connect(buyer).purchase(NATIVE_OFFER, buyer2.address, NO_REFERRER, { value: PRICE });
      await expect(tx)
        .to.emit(license, "LicenseIssued")
        .withArgs(
          1n,
          NATIVE_OFFER,
          WORK_ID,
          buyer2.address,
          (v: bigint) => v > 0n,
          buyer.address,
          NO_PAYMENT_REF,
        );
      expect(await license.ownerOf(1)).to.equal(buyer2.address);
      expect((await license.hasValidLicense(buyer2.address, WORK_ID))[0]).to.equal(true);
      expect((await license.hasValidLicense(buyer.address, WORK_ID))[0]).to.equal(false);
    });

    it("numbers licenses from 1 across offers", async function () {
      const { license, buyer } = await loadFixture(withOffers);
      await license.connect(buyer).purchase(NATIVE_OFFER, buyer.address, NO_REFERRER, { value: PRICE });
      expect(
        await license
          .connect(buyer)
          .purchase.staticCall(PERPETUAL_OFFER, buyer.address, NO_REFERRER, { value: PRICE }),
      ).to.equal(2n);
      await license.connect(buyer).purchase(PERPETUAL_OFFER, buyer.address, NO_REFERRER, { value: PRICE });
      expect((await license.getLicense(2)).offerId).to.equal(PERPETUAL_OFFER);
    });

    it("issues perpetual licenses that never expire", async function () {
      const { license, buyer } = await loadFixture(withOffers);
      await license.connect(buyer).purchase(PERPETUAL_OFFER, buyer.address, NO_REFERRER, { value: PRICE });
      expect((await license.getLicense(1)).expiresAt).to.equal(0n);
      await time.increase(10 * 365 * 24 * 3600);
      expect(await license.isValid(1)).to.equal(true);
    });

    it("rejects a payment different from the price with WrongPayment", async function () {
      const { license, buyer } = await loadFixture(withOffers);
      for (const value of [PRICE - 1n, PRICE + 1n, 0n]) {
        await expect(license.connect(buyer).purchase(NATIVE_OFFER, buyer.address, NO_REFERRER, { value }))
          .to.be.revertedWithCustomError(license, "WrongPayment")
          .withArgs(PRICE, value);
      }
    });

    it("rejects unknown offers with UnknownOffer", async function () {
      const { license, buyer } = await loadFixture(withOffers);
      for (const id of [0n, 99n]) {
        await expect(license.connect(buyer).purchase(id, buyer.address, NO_REFERRER, { value: PRICE }))
          .to.be.revertedWithCustomError(license, "UnknownOffer")
          .withArgs(id);
      }
    });

    it("rejects sales beyond the supply cap with OfferSoldOut", async function () {
      const { license, creator, splitAddress, buyer, buyer2 } = await loadFixture(withOffers);
      await license.connect(creator).createOffer(offerParams(splitAddress, { maxSupply: 2 }));
      await license.connect(buyer).purchase(5, buyer.address, NO_REFERRER, { value: PRICE });
      await license.connect(buyer2).purchase(5, buyer2.address, NO_REFERRER, { value: PRICE });
      await expect(license.connect(buyer).purchase(5, buyer.address, NO_REFERRER, { value: PRICE }))
        .to.be.revertedWithCustomError(license, "OfferSoldOut")
        .withArgs(5);
      expect((await license.getOffer(5)).sold).to.equal(2n);
    });

    it("rejects the zero recipient with InvalidRecipient", async function () {
      const { license, buyer } = await loadFixture(withOffers);
      await expect(
        license.connect(buyer).purchase(NATIVE_OFFER, ethers.ZeroAddress, NO_REFERRER, { value: PRICE }),
      )
        .to.be.revertedWithCustomError(license, "InvalidRecipient")
        .withArgs(ethers.ZeroAddress);
    });

    it("rejects a referrer who is the recipient or the payer with SelfReferral", async function () {
      const { license, buyer, buyer2 } = await loadFixture(withOffers);
      await expect(
        license.connect(buyer).purchase(NATIVE_OFFER, buyer2.address, buyer2.address, { value: PRICE }),
      )
        .to.be.revertedWithCustomError(license, "SelfReferral")
        .withArgs(buyer2.address);
      await expect(
        license.connect(buyer).purchase(NATIVE_OFFER, buyer2.address, buyer.address, { value: PRICE }),
      )
        .to.be.revertedWithCustomError(license, "SelfReferral")
        .withArgs(buyer.address);
    });

    it("still pays fee and commission when they take the whole price, sending the split nothing", async function () {
      const { license, admin, creator, split, splitAddress, buyer, referrer, treasury } =
        await loadFixture(withOffers);
      await license.connect(admin).setPlatformFee(2000);
      await license.connect(creator).createOffer(offerParams(splitAddress, { referrerBps: 8000 }));
      await license.connect(creator).setReferrer(5, referrer.address, true);
      const tx = license.connect(buyer).purchase(5, buyer.address, referrer.address, { value: PRICE });
      await expect(tx).to.changeEtherBalances(ethers, [license, split], [PRICE, 0n]);
      await expect(tx).to.not.emit(split, "PaymentReceived");
      expect(await license.owed(treasury.address, NATIVE)).to.equal(PRICE / 5n);
      expect(await license.owed(referrer.address, NATIVE)).to.equal((PRICE * 4n) / 5n);
    });

    it("keeps a typical purchase (new buyer, treasury already owed, no referrer) within 160,000 gas", async function () {
      const { license, buyer, buyer2 } = await loadFixture(withOffers);
      await license.connect(buyer2).purchase(NATIVE_OFFER, buyer2.address, NO_REFERRER, { value: PRICE });
      const tx = await license
        .connect(buyer)
        .purchase(NATIVE_OFFER, buyer.address, NO_REFERRER, { value: PRICE });
      const receipt = await tx.wait();
      console.log(`      purchaseNative gas used: ${receipt!.gasUsed}`);
      expect(receipt!.gasUsed).to.be.at.most(160_000n);
    });
  });

  describe("purchase with an ERC-20", function () {
    it("pulls the price, credits fee and commission and pays the split the rest", async function () {
      const { license, licenseAddress, stablecoin, token, splitAddress, buyer, referrer, treasury } =
        await loadFixture(withOffers);
      const tx = license.connect(buyer).purchase(ERC20_OFFER, buyer.address, referrer.address);
      await expect(tx)
        .to.emit(license, "RevenuePaid")
        .withArgs(1n, token, splitAddress, USDC_PRICE, USDC_FEE, referrer.address, USDC_COMMISSION);
      await expect(tx).to.changeTokenBalances(
        ethers,
        stablecoin,
        [buyer, licenseAddress, splitAddress],
        [-USDC_PRICE, USDC_FEE + USDC_COMMISSION, USDC_PRICE - USDC_FEE - USDC_COMMISSION],
      );
      expect(await license.owed(treasury.address, token)).to.equal(USDC_FEE);
      expect(await license.owed(referrer.address, token)).to.equal(USDC_COMMISSION);
      expect(await license.owed(treasury.address, NATIVE)).to.equal(0n);
      expect(await license.ownerOf(1)).to.equal(buyer.address);
    });

    it("rejects native currency sent along with UnexpectedNativePayment", async function () {
      const { license, buyer } = await loadFixture(withOffers);
      await expect(license.connect(buyer).purchase(ERC20_OFFER, buyer.address, NO_REFERRER, { value: 1n }))
        .to.be.revertedWithCustomError(license, "UnexpectedNativePayment")
        .withArgs(1n);
    });

    it("fails without an allowance", async function () {
      const { license, stablecoin, stranger } = await loadFixture(withOffers);
      await stablecoin.mint(stranger.address, USDC_PRICE);
      await expect(
        license.connect(stranger).purchase(ERC20_OFFER, stranger.address, NO_REFERRER),
      ).to.be.revertedWithCustomError(stablecoin, "ERC20InsufficientAllowance");
    });

    it("rejects tokens that deliver less than the price with WrongPayment", async function () {
      const { license, creator, admin, splitAddress, buyer } = await loadFixture(withOffers);
      const taxed = await new FeeOnTransferToken__factory(admin).deploy();
      await taxed.mint(buyer.address, 1000n);
      await taxed.connect(buyer).approve(await license.getAddress(), 1000n);
      await license
        .connect(creator)
        .createOffer(offerParams(splitAddress, { currency: await taxed.getAddress(), price: 1000n }));
      await expect(license.connect(buyer).purchase(5, buyer.address, NO_REFERRER))
        .to.be.revertedWithCustomError(license, "WrongPayment")
        .withArgs(1000n, 990n);
    });
  });

  describe("renew", function () {
    it("extends an unexpired license from its expiry and routes the payment", async function () {
      const { license, split, splitAddress, buyer, treasury } = await loadFixture(withOffers);
      await license.connect(buyer).purchase(NATIVE_OFFER, buyer.address, NO_REFERRER, { value: PRICE });
      const { expiresAt } = await license.getLicense(1);
      await time.increase(10 * 24 * 3600);

      const tx = license.connect(buyer).renew(1, { value: PRICE });
      await expect(tx)
        .to.emit(license, "LicenseRenewed")
        .withArgs(1n, buyer.address, expiresAt + THIRTY_DAYS);
      await expect(tx)
        .to.emit(license, "RevenuePaid")
        .withArgs(1n, NATIVE, splitAddress, PRICE, FEE, NO_REFERRER, 0n);
      await expect(tx).to.changeEtherBalances(ethers, [buyer, license, split], [-PRICE, FEE, PRICE - FEE]);
      expect((await license.getLicense(1)).expiresAt).to.equal(expiresAt + THIRTY_DAYS);
      expect(await license.owed(treasury.address, NATIVE)).to.equal(2n * FEE);
      expect((await license.getOffer(NATIVE_OFFER)).sold).to.equal(1n);
    });

    it("lets an expired license lapse and extends it from now when renewed", async function () {
      const { license, buyer } = await loadFixture(withOffers);
      await license.connect(buyer).purchase(NATIVE_OFFER, buyer.address, NO_REFERRER, { value: PRICE });
      await time.increase(THIRTY_DAYS + 100n);
      expect(await license.isValid(1)).to.equal(false);
      expect((await license.hasValidLicense(buyer.address, WORK_ID))[0]).to.equal(false);

      const now = BigInt(await time.latest()) + 5n;
      await time.setNextBlockTimestamp(now);
      await expect(license.connect(buyer).renew(1, { value: PRICE }))
        .to.emit(license, "LicenseRenewed")
        .withArgs(1n, buyer.address, now + THIRTY_DAYS);
      expect(await license.isValid(1)).to.equal(true);
      expect(await license.hasValidLicense(buyer.address, WORK_ID)).to.deep.equal([true, 1n]);
    });

    it("returns the new expiry", async function () {
      const { license, buyer } = await loadFixture(withOffers);
      await license.connect(buyer).purchase(NATIVE_OFFER, buyer.address, NO_REFERRER, { value: PRICE });
      const { expiresAt } = await license.getLicense(1);
      expect(await license.connect(buyer).renew.staticCall(1, { value: PRICE })).to.equal(
        expiresAt + THIRTY_DAYS,
      );
    });

    it("lets anyone pay for someone else's renewal", async function () {
      const { license, buyer, stranger } = await loadFixture(withOffers);
      await license.connect(buyer).purchase(NATIVE_OFFER, buyer.address, NO_REFERRER, { value: PRICE });
      await expect(license.connect(stranger).renew(1, { value: PRICE }))
        .to.emit(license, "LicenseRenewed")
        .withArgs(1n, stranger.address, (v: bigint) => v > 0n);
      expect(await license.ownerOf(1)).to.equal(buyer.address);
    });

    it("renews ERC-20 licenses with the same routing", async function () {
      const { license, stablecoin, token, splitAddress, buyer, treasury } = await loadFixture(withOffers);
      await license.connect(buyer).purchase(ERC20_OFFER, buyer.address, NO_REFERRER);
      const tx = license.connect(buyer).renew(1);
      await expect(tx)
        .to.emit(license, "RevenuePaid")
        .withArgs(1n, token, splitAddress, USDC_PRICE, USDC_FEE, NO_REFERRER, 0n);
      await expect(tx).to.changeTokenBalances(
        ethers,
        stablecoin,
        [buyer, splitAddress],
        [-USDC_PRICE, USDC_PRICE - USDC_FEE],
      );
      expect(await license.owed(treasury.address, token)).to.equal(2n * USDC_FEE);
      await expect(license.connect(buyer).renew(1, { value: 1n }))
        .to.be.revertedWithCustomError(license, "UnexpectedNativePayment")
        .withArgs(1n);
    });

    it("rejects revoked licenses with LicenseIsRevoked", async function () {
      const { license, minter, revoker, buyer } = await loadFixture(withOffers);
      await license.connect(minter).mintForFiat(NATIVE_OFFER, buyer.address, ethers.id("cs_renew"));
      await license.connect(revoker).revoke(1, Reason.CardChargeback);
      await expect(license.connect(buyer).renew(1, { value: PRICE }))
        .to.be.revertedWithCustomError(license, "LicenseIsRevoked")
        .withArgs(1n);
    });

    it("rejects perpetual licenses with LicenseNotRenewable", async function () {
      const { license, buyer } = await loadFixture(withOffers);
      await license.connect(buyer).purchase(PERPETUAL_OFFER, buyer.address, NO_REFERRER, { value: PRICE });
      await expect(license.connect(buyer).renew(1, { value: PRICE }))
        .to.be.revertedWithCustomError(license, "LicenseNotRenewable")
        .withArgs(1n);
    });

    it("rejects renewals on a paused offer with OfferInactive", async function () {
      const { license, creator, buyer } = await loadFixture(withOffers);
      await license.connect(buyer).purchase(NATIVE_OFFER, buyer.address, NO_REFERRER, { value: PRICE });
      await license.connect(creator).setOfferActive(NATIVE_OFFER, false);
      await expect(license.connect(buyer).renew(1, { value: PRICE }))
        .to.be.revertedWithCustomError(license, "OfferInactive")
        .withArgs(NATIVE_OFFER);
    });

    it("rejects a wrong payment and unknown licenses", async function () {
      const { license, buyer } = await loadFixture(withOffers);
      await license.connect(buyer).purchase(NATIVE_OFFER, buyer.address, NO_REFERRER, { value: PRICE });
      await expect(license.connect(buyer).renew(1, { value: PRICE - 1n }))
        .to.be.revertedWithCustomError(license, "WrongPayment")
        .withArgs(PRICE, PRICE - 1n);
      await expect(license.connect(buyer).renew(2, { value: PRICE }))
        .to.be.revertedWithCustomError(license, "UnknownLicense")
        .withArgs(2n);
    });
  });

  describe("mintForFiat", function () {
    const REF = ethers.id("cs_test_a1b2c3");

    it("mints a card-paid license carrying its payment reference, moving no money", async function () {
      const { license, split, minter, buyer, treasury } = await loadFixture(withOffers);
      const tx = license.connect(minter).mintForFiat(NATIVE_OFFER, buyer.address, REF);
      await expect(tx)
        .to.emit(license, "LicenseIssued")
        .withArgs(1n, NATIVE_OFFER, WORK_ID, buyer.address, (v: bigint) => v > 0n, minter.address, REF);
      await expect(tx).to.not.emit(license, "RevenuePaid");
      await expect(tx).to.changeEtherBalances(ethers, [license, split], [0n, 0n]);
      expect(await license.ownerOf(1)).to.equal(buyer.address);
      expect(await license.paymentRefUsed(REF)).to.equal(true);
      expect(await license.owed(treasury.address, NATIVE)).to.equal(0n);
      expect((await license.getOffer(NATIVE_OFFER)).sold).to.equal(1n);
    });

    it("rejects a payment reference used before, even on another offer, with PaymentRefUsed", async function () {
      const { license, minter, buyer } = await loadFixture(withOffers);
      await license.connect(minter).mintForFiat(NATIVE_OFFER, buyer.address, REF);
      await expect(license.connect(minter).mintForFiat(PERPETUAL_OFFER, buyer.address, REF))
        .to.be.revertedWithCustomError(license, "PaymentRefUsed")
        .withArgs(REF);
      expect(await license.balanceOf(buyer.address)).to.equal(1n);
    });

    it("rejects an empty payment reference with EmptyPaymentRef", async function () {
      const { license, minter, buyer } = await loadFixture(withOffers);
      await expect(
        license.connect(minter).mintForFiat(NATIVE_OFFER, buyer.address, ethers.ZeroHash),
      ).to.be.revertedWithCustomError(license, "EmptyPaymentRef");
    });

    it("requires MINTER_ROLE", async function () {
      const { license, admin, buyer } = await loadFixture(withOffers);
      await expect(license.connect(admin).mintForFiat(NATIVE_OFFER, buyer.address, REF))
        .to.be.revertedWithCustomError(license, "AccessControlUnauthorizedAccount")
        .withArgs(admin.address, await license.MINTER_ROLE());
    });

    it("counts toward the supply cap and respects pauses", async function () {
      const { license, creator, splitAddress, minter, buyer } = await loadFixture(withOffers);
      await license.connect(creator).createOffer(offerParams(splitAddress, { maxSupply: 1 }));
      await license.connect(minter).mintForFiat(5, buyer.address, REF);
      await expect(license.connect(minter).mintForFiat(5, buyer.address, ethers.id("another")))
        .to.be.revertedWithCustomError(license, "OfferSoldOut")
        .withArgs(5);
      await expect(license.connect(buyer).purchase(5, buyer.address, NO_REFERRER, { value: PRICE }))
        .to.be.revertedWithCustomError(license, "OfferSoldOut")
        .withArgs(5);

      await license.connect(creator).setOfferActive(NATIVE_OFFER, false);
      await expect(license.connect(minter).mintForFiat(NATIVE_OFFER, buyer.address, ethers.id("third")))
        .to.be.revertedWithCustomError(license, "OfferInactive")
        .withArgs(NATIVE_OFFER);
    });
  });

  describe("mintForFiatBatch", function () {
    const refs = [ethers.id("cs_batch_1"), ethers.id("cs_batch_2"), ethers.id("cs_batch_3")];

    it("mints one card-paid license per entry in one transaction, each with its payment reference", async function () {
      const { license, minter, buyer, buyer2 } = await loadFixture(withOffers);
      const mints = [
        { offerId: NATIVE_OFFER, recipient: buyer.address, paymentRef: refs[0]! },
        { offerId: PERPETUAL_OFFER, recipient: buyer2.address, paymentRef: refs[1]! },
        { offerId: NATIVE_OFFER, recipient: buyer2.address, paymentRef: refs[2]! },
      ];
      expect(await license.connect(minter).mintForFiatBatch.staticCall(mints)).to.deep.equal([1n, 2n, 3n]);
      const tx = license.connect(minter).mintForFiatBatch(mints);
      await expect(tx)
        .to.emit(license, "LicenseIssued")
        .withArgs(2n, PERPETUAL_OFFER, WORK_ID, buyer2.address, 0n, minter.address, refs[1]);
      await expect(tx).to.not.emit(license, "RevenuePaid");
      expect(await license.ownerOf(1)).to.equal(buyer.address);
      expect(await license.ownerOf(3)).to.equal(buyer2.address);
      for (const ref of refs) expect(await license.paymentRefUsed(ref)).to.equal(true);
      expect((await license.getOffer(NATIVE_OFFER)).sold).to.equal(2n);
    });

    it("mints nothing when one entry cannot be minted, reverting with that entry's error", async function () {
      const { license, minter, buyer } = await loadFixture(withOffers);
      await license.connect(minter).mintForFiat(NATIVE_OFFER, buyer.address, refs[1]!);
      const mints = refs.map((paymentRef) => ({
        offerId: NATIVE_OFFER,
        recipient: buyer.address,
        paymentRef,
      }));
      await expect(license.connect(minter).mintForFiatBatch(mints))
        .to.be.revertedWithCustomError(license, "PaymentRefUsed")
        .withArgs(refs[1]);
      await expect(
        license.connect(minter).mintForFiatBatch([
          { offerId: NATIVE_OFFER, recipient: buyer.address, paymentRef: refs[0]! },
          { offerId: NATIVE_OFFER, recipient: buyer.address, paymentRef: refs[0]! },
        ]),
      )
        .to.be.revertedWithCustomError(license, "PaymentRefUsed")
        .withArgs(refs[0]);
      expect(await license.paymentRefUsed(refs[0]!)).to.equal(false);
      expect(await license.balanceOf(buyer.address)).to.equal(1n);
    });

    it("rejects an empty batch with EmptyMintBatch and requires MINTER_ROLE", async function () {
      const { license, minter, admin, buyer } = await loadFixture(withOffers);
      await expect(license.connect(minter).mintForFiatBatch([])).to.be.revertedWithCustomError(
        license,
        "EmptyMintBatch",
      );
      await expect(
        license
          .connect(admin)
          .mintForFiatBatch([{ offerId: NATIVE_OFFER, recipient: buyer.address, paymentRef: refs[0]! }]),
      )
        .to.be.revertedWithCustomError(license, "AccessControlUnauthorizedAccount")
        .withArgs(admin.address, await license.MINTER_ROLE());
    });
  });

  describe("revoke", function () {
    it("revokes a card-paid license for a refund or a chargeback: the token remains but is no longer valid", async function () {
      const { license, minter, revoker, buyer } = await loadFixture(withOffers);
      await license.connect(minter).mintForFiat(NATIVE_OFFER, buyer.address, ethers.id("cs_1"));
      await license.connect(minter).mintForFiat(PERPETUAL_OFFER, buyer.address, ethers.id("cs_2"));
      await expect(license.connect(revoker).revoke(1, Reason.CardRefund))
        .to.emit(license, "LicenseRevoked")
        .withArgs(1n, revoker.address, Reason.CardRefund);
      await expect(license.connect(revoker).revoke(2, Reason.CardChargeback))
        .to.emit(license, "LicenseRevoked")
        .withArgs(2n, revoker.address, Reason.CardChargeback);
      expect(await license.ownerOf(1)).to.equal(buyer.address);
      expect((await license.getLicense(1)).revoked).to.equal(true);
      expect(await license.isValid(1)).to.equal(false);
      expect(await license.hasValidLicense(buyer.address, WORK_ID)).to.deep.equal([false, 0n]);
    });

    it("refuses to revoke a crypto-paid license for a card reason, whoever asks", async function () {
      const { license, admin, creator, revoker, buyer } = await loadFixture(withOffers);
      await license.connect(buyer).purchase(NATIVE_OFFER, buyer.address, NO_REFERRER, { value: PRICE });
      await expect(license.connect(revoker).revoke(1, Reason.CardRefund))
        .to.be.revertedWithCustomError(license, "RevocationNotAllowed")
        .withArgs(1n, Reason.CardRefund);
      for (const caller of [admin, creator]) {
        await expect(license.connect(caller).revoke(1, Reason.CardChargeback))
          .to.be.revertedWithCustomError(license, "NotAllowedToRevoke")
          .withArgs(1n, caller.address);
      }
      expect(await license.isValid(1)).to.equal(true);
    });

    it("takes back only the unused card-paid term of a license renewed since with crypto", async function () {
      const { license, minter, revoker, buyer } = await loadFixture(withOffers);
      await license.connect(minter).mintForFiat(NATIVE_OFFER, buyer.address, ethers.id("cs_renewed"));
      const cardPaidUntil = (await license.getLicense(1)).expiresAt;
      expect((await license.getLicense(1)).cardPaidUntil).to.equal(cardPaidUntil);
      await license.connect(buyer).renew(1, { value: PRICE });
      expect((await license.getLicense(1)).expiresAt).to.equal(cardPaidUntil + THIRTY_DAYS);
      const refundedAt = cardPaidUntil - 20n * 24n * 3600n;
      await time.setNextBlockTimestamp(refundedAt);
      const expiresAt = refundedAt + THIRTY_DAYS;
      await expect(license.connect(revoker).revoke(1, Reason.CardRefund))
        .to.emit(license, "LicenseShortened")
        .withArgs(1n, revoker.address, Reason.CardRefund, expiresAt);
      const after = await license.getLicense(1);
      expect([after.revoked, after.expiresAt, after.cardPaidUntil]).to.deep.equal([false, expiresAt, 0n]);
      expect(await license.isValid(1)).to.equal(true);
      await expect(license.connect(revoker).revoke(1, Reason.CardChargeback))
        .to.be.revertedWithCustomError(license, "RevocationNotAllowed")
        .withArgs(1n, Reason.CardChargeback);
    });

    it("leaves a crypto renewal made after the card-paid term lapsed whole", async function () {
      const { license, minter, revoker, buyer } = await loadFixture(withOffers);
      await license.connect(minter).mintForFiat(NATIVE_OFFER, buyer.address, ethers.id("cs_lapsed"));
      await time.increase(THIRTY_DAYS + 60n);
      await license.connect(buyer).renew(1, { value: PRICE });
      const renewedUntil = (await license.getLicense(1)).expiresAt;
      await expect(license.connect(revoker).revoke(1, Reason.CardChargeback))
        .to.emit(license, "LicenseShortened")
        .withArgs(1n, revoker.address, Reason.CardChargeback, renewedUntil);
      expect(await license.isValid(1)).to.equal(true);
    });

    it("revokes for breach of terms only licenses of offers that declared it, by their creator or the revoker", async function () {
      const { license, creator, revoker, stranger, splitAddress, buyer } = await loadFixture(withOffers);
      await license.connect(creator).createOffer(offerParams(splitAddress, { revocable: true }));
      await license.connect(buyer).purchase(5, buyer.address, NO_REFERRER, { value: PRICE });
      await license.connect(buyer).purchase(5, buyer.address, NO_REFERRER, { value: PRICE });
      await license.connect(buyer).purchase(NATIVE_OFFER, buyer.address, NO_REFERRER, { value: PRICE });
      await expect(license.connect(stranger).revoke(1, Reason.OfferTerms))
        .to.be.revertedWithCustomError(license, "NotAllowedToRevoke")
        .withArgs(1n, stranger.address);
      await expect(license.connect(creator).revoke(1, Reason.OfferTerms))
        .to.emit(license, "LicenseRevoked")
        .withArgs(1n, creator.address, Reason.OfferTerms);
      await license.connect(revoker).revoke(2, Reason.OfferTerms);
      for (const caller of [creator, revoker]) {
        await expect(license.connect(caller).revoke(3, Reason.OfferTerms))
          .to.be.revertedWithCustomError(license, "RevocationNotAllowed")
          .withArgs(3n, Reason.OfferTerms);
      }
    });

    it("rejects a second revocation with LicenseIsRevoked and unknown licenses with UnknownLicense", async function () {
      const { license, minter, revoker, buyer } = await loadFixture(withOffers);
      await license.connect(minter).mintForFiat(NATIVE_OFFER, buyer.address, ethers.id("cs_twice"));
      await license.connect(revoker).revoke(1, Reason.CardRefund);
      await expect(license.connect(revoker).revoke(1, Reason.CardChargeback))
        .to.be.revertedWithCustomError(license, "LicenseIsRevoked")
        .withArgs(1n);
      await expect(license.connect(revoker).revoke(2, Reason.CardRefund))
        .to.be.revertedWithCustomError(license, "UnknownLicense")
        .withArgs(2n);
    });

    it("keeps a revoked license where it is: it can no longer be transferred", async function () {
      const { license, minter, revoker, buyer, buyer2 } = await loadFixture(withOffers);
      await license.connect(minter).mintForFiat(NATIVE_OFFER, buyer.address, ethers.id("cs_stuck"));
      await license.connect(revoker).revoke(1, Reason.CardChargeback);
      await expect(license.connect(buyer).transferFrom(buyer.address, buyer2.address, 1))
        .to.be.revertedWithCustomError(license, "LicenseIsRevoked")
        .withArgs(1n);
      expect(await license.ownerOf(1)).to.equal(buyer.address);
    });

    it("lets the admin hand the revoker role to another wallet, but not take revocations for itself", async function () {
      const { license, admin, minter, revoker, stranger, buyer } = await loadFixture(withOffers);
      const role = await license.REVOKER_ROLE();
      await license.connect(admin).grantRole(role, stranger.address);
      await license.connect(admin).revokeRole(role, revoker.address);
      await license.connect(minter).mintForFiat(NATIVE_OFFER, buyer.address, ethers.id("cs_new_revoker"));
      await expect(license.connect(revoker).revoke(1, Reason.CardRefund))
        .to.be.revertedWithCustomError(license, "NotAllowedToRevoke")
        .withArgs(1n, revoker.address);
      await license.connect(stranger).revoke(1, Reason.CardRefund);
      expect(await license.hasRole(role, admin.address)).to.equal(false);
    });
  });

  describe("referrals", function () {
    it("pays a referrer the creator never approved nothing: the buyer's Sybil address earns no commission", async function () {
      const { license, split, buyer, stranger, treasury } = await loadFixture(withOffers);
      const tx = license
        .connect(buyer)
        .purchase(NATIVE_OFFER, buyer.address, stranger.address, { value: PRICE });
      await expect(tx)
        .to.emit(license, "RevenuePaid")
        .withArgs(1n, NATIVE, await split.getAddress(), PRICE, FEE, NO_REFERRER, 0n);
      await expect(tx).to.changeEtherBalances(ethers, [split], [PRICE - FEE]);
      expect(await license.owed(stranger.address, NATIVE)).to.equal(0n);
      expect(await license.owed(treasury.address, NATIVE)).to.equal(FEE);
    });

    it("lets the offer's creator approve and withdraw referrers, emitting ReferrerSet", async function () {
      const { license, creator, buyer, stranger } = await loadFixture(withOffers);
      await expect(license.connect(creator).setReferrer(NATIVE_OFFER, stranger.address, true))
        .to.emit(license, "ReferrerSet")
        .withArgs(NATIVE_OFFER, stranger.address, true);
      expect(await license.isReferrer(NATIVE_OFFER, stranger.address)).to.equal(true);
      expect(await license.isReferrer(ERC20_OFFER, stranger.address)).to.equal(false);
      await license.connect(buyer).purchase(NATIVE_OFFER, buyer.address, stranger.address, { value: PRICE });
      expect(await license.owed(stranger.address, NATIVE)).to.equal(COMMISSION);
      await license.connect(creator).setReferrer(NATIVE_OFFER, stranger.address, false);
      await license.connect(buyer).purchase(NATIVE_OFFER, buyer.address, stranger.address, { value: PRICE });
      expect(await license.owed(stranger.address, NATIVE)).to.equal(COMMISSION);
    });

    it("rejects approvals by anyone but the offer's creator, of the zero address, and of unknown offers", async function () {
      const { license, creator, otherCreator, stranger } = await loadFixture(withOffers);
      for (const caller of [otherCreator, stranger]) {
        await expect(license.connect(caller).setReferrer(NATIVE_OFFER, caller.address, true))
          .to.be.revertedWithCustomError(license, "NotWorkCreator")
          .withArgs(WORK_ID, caller.address);
      }
      await expect(license.connect(creator).setReferrer(NATIVE_OFFER, ethers.ZeroAddress, true))
        .to.be.revertedWithCustomError(license, "InvalidRecipient")
        .withArgs(ethers.ZeroAddress);
      await expect(license.connect(creator).setReferrer(9, stranger.address, true))
        .to.be.revertedWithCustomError(license, "UnknownOffer")
        .withArgs(9n);
    });
  });

  describe("setReferrerFor", function () {
    async function signedApproval(
      fixture: Awaited<ReturnType<typeof withOffers>>,
      overrides: Partial<SetReferrerMessage> = {},
      signer = fixture.creator,
    ) {
      const message: SetReferrerMessage = {
        offerId: NATIVE_OFFER,
        referrer: fixture.stranger.address,
        approved: true,
        nonce: 11n,
        deadline: BigInt(await time.latest()) + 3600n,
        ...overrides,
      };
      return { message, signature: await signSetReferrer(signer, fixture.license, message) };
    }

    const submit = (
      fixture: Awaited<ReturnType<typeof withOffers>>,
      { message, signature }: { message: SetReferrerMessage; signature: string },
    ) =>
      fixture.license
        .connect(fixture.minter)
        .setReferrerFor(
          message.offerId,
          message.referrer,
          message.approved,
          message.nonce,
          message.deadline,
          signature,
        );

    it("approves a referrer the offer's creator signed for, submitted by anyone, who then earns the commission", async function () {
      const fixture = await loadFixture(withOffers);
      const { license, creator, buyer, stranger } = fixture;
      const approval = await signedApproval(fixture);
      await expect(submit(fixture, approval))
        .to.emit(license, "ReferrerSet")
        .withArgs(NATIVE_OFFER, stranger.address, true);
      expect(await license.isReferrer(NATIVE_OFFER, stranger.address)).to.equal(true);
      expect(await license.nonceUsed(creator.address, 11n)).to.equal(true);
      await license.connect(buyer).purchase(NATIVE_OFFER, buyer.address, stranger.address, { value: PRICE });
      expect(await license.owed(stranger.address, NATIVE)).to.equal(COMMISSION);

      const withdrawal = await signedApproval(fixture, { approved: false, nonce: 12n });
      await expect(submit(fixture, withdrawal))
        .to.emit(license, "ReferrerSet")
        .withArgs(NATIVE_OFFER, stranger.address, false);
      await license.connect(buyer).purchase(NATIVE_OFFER, buyer.address, stranger.address, { value: PRICE });
      expect(await license.owed(stranger.address, NATIVE)).to.equal(COMMISSION);
    });

    it("rejects a replayed signature with NonceAlreadyUsed", async function () {
      const fixture = await loadFixture(withOffers);
      const approval = await signedApproval(fixture);
      await submit(fixture, approval);
      await expect(submit(fixture, approval))
        .to.be.revertedWithCustomError(fixture.license, "NonceAlreadyUsed")
        .withArgs(fixture.creator.address, 11n);
    });

    it("shares the creator's nonces with createOfferFor and cancelNonce", async function () {
      const fixture = await loadFixture(withOffers);
      const { license, creator, splitAddress } = fixture;
      const params = offerParams(splitAddress);
      const deadline = BigInt(await time.latest()) + 3600n;
      const offerSignature = await signCreateOffer(
        creator,
        license,
        createOfferMessage(params, creator.address, 11n, deadline),
      );
      await license.createOfferFor(params, creator.address, 11n, deadline, offerSignature);
      await expect(submit(fixture, await signedApproval(fixture)))
        .to.be.revertedWithCustomError(license, "NonceAlreadyUsed")
        .withArgs(creator.address, 11n);

      await submit(fixture, await signedApproval(fixture, { nonce: 12n }));
      const reused = await signCreateOffer(
        creator,
        license,
        createOfferMessage(params, creator.address, 12n, deadline),
      );
      await expect(license.createOfferFor(params, creator.address, 12n, deadline, reused))
        .to.be.revertedWithCustomError(license, "NonceAlreadyUsed")
        .withArgs(creator.address, 12n);

      const cancelled = await signedApproval(fixture, { nonce: 13n });
      await license.connect(creator).cancelNonce(13n);
      await expect(submit(fixture, cancelled))
        .to.be.revertedWithCustomError(license, "NonceAlreadyUsed")
        .withArgs(creator.address, 13n);
    });

    it("rejects a signature past its deadline with SignatureExpired", async function () {
      const fixture = await loadFixture(withOffers);
      const approval = await signedApproval(fixture);
      await time.increaseTo(approval.message.deadline + 1n);
      await expect(submit(fixture, approval))
        .to.be.revertedWithCustomError(fixture.license, "SignatureExpired")
        .withArgs(approval.message.deadline);
      expect(await fixture.license.isReferrer(NATIVE_OFFER, fixture.stranger.address)).to.equal(false);
    });

    it("rejects a signature by anyone but the offer's creator, the referrer included, with InvalidCreatorSignature", async function () {
      const fixture = await loadFixture(withOffers);
      for (const signer of [fixture.stranger, fixture.otherCreator, fixture.minter]) {
        await expect(submit(fixture, await signedApproval(fixture, {}, signer)))
          .to.be.revertedWithCustomError(fixture.license, "InvalidCreatorSignature")
          .withArgs(fixture.creator.address);
      }
      expect(await fixture.license.nonceUsed(fixture.creator.address, 11n)).to.equal(false);
    });

    it("rejects another creator's signature for their own offer applied to this one, and altered fields", async function () {
      const fixture = await loadFixture(withOffers);
      const { license, otherCreator, creator, stranger, splitAddress } = fixture;
      await license.connect(otherCreator).createOffer(offerParams(splitAddress, { workId: OTHER_WORK_ID }));
      const theirs = await signedApproval(fixture, { offerId: 5n }, otherCreator);
      await expect(submit(fixture, { ...theirs, message: { ...theirs.message, offerId: NATIVE_OFFER } }))
        .to.be.revertedWithCustomError(license, "InvalidCreatorSignature")
        .withArgs(creator.address);
      await submit(fixture, theirs);
      expect(await license.isReferrer(5n, stranger.address)).to.equal(true);
      expect(await license.isReferrer(NATIVE_OFFER, stranger.address)).to.equal(false);

      const mine = await signedApproval(fixture, { approved: false });
      for (const altered of [
        { approved: true },
        { referrer: otherCreator.address },
        { deadline: mine.message.deadline + 1n },
        { nonce: 99n },
      ]) {
        await expect(submit(fixture, { ...mine, message: { ...mine.message, ...altered } }))
          .to.be.revertedWithCustomError(license, "InvalidCreatorSignature")
          .withArgs(creator.address);
      }
    });

    it("rejects a signature made for another deployment's domain", async function () {
      const fixture = await loadFixture(withOffers);
      const { license, creator, stranger } = fixture;
      const message: SetReferrerMessage = {
        offerId: NATIVE_OFFER,
        referrer: stranger.address,
        approved: true,
        nonce: 11n,
        deadline: BigInt(await time.latest()) + 3600n,
      };
      const { chainId } = await ethers.provider.getNetwork();
      const elsewhere = await creator.signTypedData(
        licenseDomain(chainId, stranger.address),
        SET_REFERRER_TYPES,
        message,
      );
      await expect(submit(fixture, { message, signature: elsewhere }))
        .to.be.revertedWithCustomError(license, "InvalidCreatorSignature")
        .withArgs(creator.address);
    });

    it("rejects unknown offers with UnknownOffer and the zero referrer with InvalidRecipient", async function () {
      const fixture = await loadFixture(withOffers);
      await expect(submit(fixture, await signedApproval(fixture, { offerId: 9n })))
        .to.be.revertedWithCustomError(fixture.license, "UnknownOffer")
        .withArgs(9n);
      await expect(submit(fixture, await signedApproval(fixture, { referrer: ethers.ZeroAddress })))
        .to.be.revertedWithCustomError(fixture.license, "InvalidRecipient")
        .withArgs(ethers.ZeroAddress);
    });
  });

  describe("cancelNonce", function () {
    it("cancels an unused nonce so a signature with it can no longer be submitted", async function () {
      const { license, creator, stranger, splitAddress } = await loadFixture(withOffers);
      const params = offerParams(splitAddress);
      const deadline = BigInt(await time.latest()) + 3600n;
      const message = createOfferMessage(params, creator.address, 77n, deadline);
      const signature = await signCreateOffer(creator, license, message);
      await expect(license.connect(creator).cancelNonce(77n))
        .to.emit(license, "NonceCancelled")
        .withArgs(creator.address, 77n);
      expect(await license.nonceUsed(creator.address, 77n)).to.equal(true);
      await expect(
        license.connect(stranger).createOfferFor(params, creator.address, 77n, deadline, signature),
      )
        .to.be.revertedWithCustomError(license, "NonceAlreadyUsed")
        .withArgs(creator.address, 77n);
      await expect(license.connect(creator).cancelNonce(77n))
        .to.be.revertedWithCustomError(license, "NonceAlreadyUsed")
        .withArgs(creator.address, 77n);
    });
  });

  describe("transfers and hasValidLicense", function () {
    it("rejects transfers of soulbound licenses with LicenseSoulbound", async function () {
      const { license, buyer, buyer2 } = await loadFixture(withOffers);
      await license.connect(buyer).purchase(SOULBOUND_OFFER, buyer.address, NO_REFERRER, { value: PRICE });
      await expect(license.connect(buyer).transferFrom(buyer.address, buyer2.address, 1))
        .to.be.revertedWithCustomError(license, "LicenseSoulbound")
        .withArgs(1n);
      await expect(
        license.connect(buyer)["safeTransferFrom(address,address,uint256)"](buyer.address, buyer2.address, 1),
      )
        .to.be.revertedWithCustomError(license, "LicenseSoulbound")
        .withArgs(1n);
      expect(await license.ownerOf(1)).to.equal(buyer.address);
    });

    it("moves transferable licenses, and hasValidLicense follows the token", async function () {
      const { license, buyer, buyer2 } = await loadFixture(withOffers);
      await license.connect(buyer).purchase(NATIVE_OFFER, buyer.address, NO_REFERRER, { value: PRICE });
      await expect(license.connect(buyer).transferFrom(buyer.address, buyer2.address, 1))
        .to.emit(license, "Transfer")
        .withArgs(buyer.address, buyer2.address, 1n);
      expect(await license.ownerOf(1)).to.equal(buyer2.address);
      expect(await license.hasValidLicense(buyer2.address, WORK_ID)).to.deep.equal([true, 1n]);
      expect(await license.hasValidLicense(buyer.address, WORK_ID)).to.deep.equal([false, 0n]);
    });

    it("still requires the owner's approval to transfer", async function () {
      const { license, buyer, buyer2 } = await loadFixture(withOffers);
      await license.connect(buyer).purchase(NATIVE_OFFER, buyer.address, NO_REFERRER, { value: PRICE });
      await expect(license.connect(buyer2).transferFrom(buyer.address, buyer2.address, 1))
        .to.be.revertedWithCustomError(license, "ERC721InsufficientApproval")
        .withArgs(buyer2.address, 1n);
    });

    it("answers per work", async function () {
      const { license, otherCreator, splitAddress, buyer } = await loadFixture(withOffers);
      await license.connect(buyer).purchase(NATIVE_OFFER, buyer.address, NO_REFERRER, { value: PRICE });
      expect(await license.hasValidLicense(buyer.address, OTHER_WORK_ID)).to.deep.equal([false, 0n]);
      await license.connect(otherCreator).createOffer(offerParams(splitAddress, { workId: OTHER_WORK_ID }));
      await license.connect(buyer).purchase(5, buyer.address, NO_REFERRER, { value: PRICE });
      expect(await license.hasValidLicense(buyer.address, OTHER_WORK_ID)).to.deep.equal([true, 2n]);
      expect(await license.hasValidLicense(buyer.address, WORK_ID)).to.deep.equal([true, 1n]);
    });

    it("prefers a perpetual license, then the latest expiry, and falls back as licenses leave or lapse", async function () {
      const { license, minter, revoker, buyer, buyer2 } = await loadFixture(withOffers);
      const buy = (offerId: bigint) =>
        license.connect(buyer).purchase(offerId, buyer.address, NO_REFERRER, { value: PRICE });
      await buy(NATIVE_OFFER); // 1: expires in 30 days
      await time.increase(24 * 3600);
      await buy(NATIVE_OFFER); // 2: expires a day later than 1
      await license.connect(minter).mintForFiat(PERPETUAL_OFFER, buyer.address, ethers.id("cs_perpetual")); // 3
      await buy(NATIVE_OFFER); // 4: expires with 2 (same block time + a second)
      expect(await license.hasValidLicense(buyer.address, WORK_ID)).to.deep.equal([true, 3n]);

      await license.connect(revoker).revoke(3, Reason.CardRefund);
      expect(await license.hasValidLicense(buyer.address, WORK_ID)).to.deep.equal([true, 4n]);

      await license.connect(buyer).transferFrom(buyer.address, buyer2.address, 4); // from the head of the list
      expect(await license.hasValidLicense(buyer.address, WORK_ID)).to.deep.equal([true, 2n]);
      expect(await license.hasValidLicense(buyer2.address, WORK_ID)).to.deep.equal([true, 4n]);

      await license.connect(buyer).transferFrom(buyer.address, buyer2.address, 2); // from the middle
      expect(await license.hasValidLicense(buyer.address, WORK_ID)).to.deep.equal([true, 1n]);
      expect(await license.hasValidLicense(buyer2.address, WORK_ID)).to.deep.equal([true, 4n]);

      await license.connect(buyer2).renew(2, { value: PRICE });
      expect(await license.hasValidLicense(buyer2.address, WORK_ID)).to.deep.equal([true, 2n]);

      await license.connect(buyer2).transferFrom(buyer2.address, buyer.address, 4);
      await license.connect(buyer2).transferFrom(buyer2.address, buyer.address, 2);
      expect(await license.hasValidLicense(buyer2.address, WORK_ID)).to.deep.equal([false, 0n]);
      expect(await license.hasValidLicense(buyer.address, WORK_ID)).to.deep.equal([true, 2n]);

      await time.increase(THIRTY_DAYS + 1n);
      expect(await license.hasValidLicense(buyer.address, WORK_ID)).to.deep.equal([true, 2n]);
      await time.increase(THIRTY_DAYS);
      expect(await license.hasValidLicense(buyer.address, WORK_ID)).to.deep.equal([false, 0n]);
    });

    it("handles a transfer to oneself", async function () {
      const { license, buyer } = await loadFixture(withOffers);
      await license.connect(buyer).purchase(NATIVE_OFFER, buyer.address, NO_REFERRER, { value: PRICE });
      await license.connect(buyer).purchase(NATIVE_OFFER, buyer.address, NO_REFERRER, { value: PRICE });
      await license.connect(buyer).transferFrom(buyer.address, buyer.address, 1);
      await license.connect(buyer).transferFrom(buyer.address, buyer.address, 2);
      expect(await license.hasValidLicense(buyer.address, WORK_ID)).to.deep.equal([true, 2n]);
      await license.connect(buyer).renew(1, { value: PRICE });
      expect(await license.hasValidLicense(buyer.address, WORK_ID)).to.deep.equal([true, 1n]);
    });

    it("caps a holder's licenses to one work, so hasValidLicense stays bounded against unwanted gifts", async function () {
      const { license, buyer, buyer2, stranger } = await loadFixture(withOffers);
      const max = Number(await license.MAX_LICENSES_PER_WORK());
      for (let i = 0; i < max; i++) {
        await license.connect(stranger).purchase(NATIVE_OFFER, buyer.address, NO_REFERRER, { value: PRICE });
      }
      await expect(
        license.connect(stranger).purchase(NATIVE_OFFER, buyer.address, NO_REFERRER, { value: PRICE }),
      )
        .to.be.revertedWithCustomError(license, "TooManyLicenses")
        .withArgs(buyer.address, WORK_ID);
      await license.connect(buyer2).purchase(NATIVE_OFFER, buyer2.address, NO_REFERRER, { value: PRICE });
      await expect(license.connect(buyer2).transferFrom(buyer2.address, buyer.address, max + 1))
        .to.be.revertedWithCustomError(license, "TooManyLicenses")
        .withArgs(buyer.address, WORK_ID);
      await time.increase(THIRTY_DAYS + 1n);
      expect(await license.hasValidLicense(buyer.address, WORK_ID)).to.deep.equal([false, 0n]);
      expect(await license.hasValidLicense.estimateGas(buyer.address, WORK_ID)).to.be.below(200_000n);
      await license.connect(buyer).renew(1, { value: PRICE });
      expect(await license.hasValidLicense(buyer.address, WORK_ID)).to.deep.equal([true, 1n]);
      await license.connect(buyer).transferFrom(buyer.address, buyer2.address, 2);
      await license.connect(stranger).purchase(NATIVE_OFFER, buyer.address, NO_REFERRER, { value: PRICE });
    });

    it("reports unknown tokens as invalid and reverts getLicense with UnknownLicense", async function () {
      const { license } = await loadFixture(withOffers);
      expect(await license.isValid(0)).to.equal(false);
      expect(await license.isValid(1)).to.equal(false);
      await expect(license.getLicense(1))
        .to.be.revertedWithCustomError(license, "UnknownLicense")
        .withArgs(1n);
    });
  });

  describe("withdraw", function () {
    it("pays the treasury its native fees and clears them", async function () {
      const { license, buyer, buyer2, treasury } = await loadFixture(withOffers);
      await license.connect(buyer).purchase(NATIVE_OFFER, buyer.address, NO_REFERRER, { value: PRICE });
      await license.connect(buyer2).purchase(NATIVE_OFFER, buyer2.address, NO_REFERRER, { value: PRICE });
      const tx = license.connect(treasury).withdraw(NATIVE);
      await expect(tx)
        .to.emit(license, "Withdrawn")
        .withArgs(treasury.address, NATIVE, 2n * FEE);
      await expect(tx).to.changeEtherBalances(ethers, [license, treasury], [-2n * FEE, 2n * FEE]);
      expect(await license.owed(treasury.address, NATIVE)).to.equal(0n);
    });

    it("pays a referrer its ERC-20 commission", async function () {
      const { license, stablecoin, token, buyer, referrer } = await loadFixture(withOffers);
      await license.connect(buyer).purchase(ERC20_OFFER, buyer.address, referrer.address);
      expect(await license.connect(referrer).withdraw.staticCall(token)).to.equal(USDC_COMMISSION);
      const tx = license.connect(referrer).withdraw(token);
      await expect(tx).to.emit(license, "Withdrawn").withArgs(referrer.address, token, USDC_COMMISSION);
      await expect(tx).to.changeTokenBalance(ethers, stablecoin, referrer, USDC_COMMISSION);
      expect(await license.owed(referrer.address, token)).to.equal(0n);
    });

    it("rejects a withdrawal with nothing owed with NothingToWithdraw", async function () {
      const { license, token, stranger } = await loadFixture(withOffers);
      for (const currency of [NATIVE, token]) {
        await expect(license.connect(stranger).withdraw(currency))
          .to.be.revertedWithCustomError(license, "NothingToWithdraw")
          .withArgs(stranger.address, currency);
      }
    });

    it("reverts with NativeTransferFailed when the account refuses native currency, keeping what it is owed", async function () {
      const { license, licenseAddress, admin, buyer } = await loadFixture(withOffers);
      const rejecting = await new RejectingReceiver__factory(admin).deploy();
      const rejectingAddress = await rejecting.getAddress();
      await license.connect(admin).setTreasury(rejectingAddress);
      await license.connect(buyer).purchase(NATIVE_OFFER, buyer.address, NO_REFERRER, { value: PRICE });
      await expect(
        rejecting.execute(licenseAddress, license.interface.encodeFunctionData("withdraw", [NATIVE])),
      )
        .to.be.revertedWithCustomError(license, "NativeTransferFailed")
        .withArgs(rejectingAddress, FEE);
      expect(await license.owed(rejectingAddress, NATIVE)).to.equal(FEE);
    });
  });

  describe("reentrancy", function () {
    async function attackerWithCommission() {
      const fixture = await loadFixture(withOffers);
      const { license, admin, buyer } = fixture;
      const attacker = await new ReentrantReceiver__factory(admin).deploy();
      const attackerAddress = await attacker.getAddress();
      await license.connect(fixture.creator).setReferrer(NATIVE_OFFER, attackerAddress, true);
      await license.connect(buyer).purchase(NATIVE_OFFER, buyer.address, attackerAddress, { value: PRICE });
      return { ...fixture, attacker, attackerAddress };
    }

    it("blocks a referrer re-entering withdraw from its receive hook; it is paid once", async function () {
      const { license, licenseAddress, attacker, attackerAddress } = await attackerWithCommission();
      const withdrawCall = license.interface.encodeFunctionData("withdraw", [NATIVE]);
      await attacker.arm(licenseAddress, withdrawCall, 0);

      await expect(attacker.execute(licenseAddress, withdrawCall)).to.changeEtherBalances(
        ethers,
        [attackerAddress, license],
        [COMMISSION, -COMMISSION],
      );
      expect(await attacker.attempted()).to.equal(true);
      expect(await attacker.reentrySucceeded()).to.equal(false);
      expect(await attacker.reentryError()).to.equal(
        license.interface.getError("ReentrancyGuardReentrantCall")!.selector,
      );
      expect(await license.owed(attackerAddress, NATIVE)).to.equal(0n);
    });

    it("blocks a purchase from inside a withdrawal's receive hook", async function () {
      const { license, licenseAddress, attacker, attackerAddress } = await attackerWithCommission();
      const purchaseCall = license.interface.encodeFunctionData("purchase", [
        NATIVE_OFFER,
        attackerAddress,
        NO_REFERRER,
      ]);
      await networkHelpers.setBalance(attackerAddress, PRICE);
      await attacker.arm(licenseAddress, purchaseCall, PRICE);

      await attacker.execute(licenseAddress, license.interface.encodeFunctionData("withdraw", [NATIVE]));
      expect(await attacker.reentrySucceeded()).to.equal(false);
      expect(await attacker.reentryError()).to.equal(
        license.interface.getError("ReentrancyGuardReentrantCall")!.selector,
      );
      expect(await license.balanceOf(attackerAddress)).to.equal(0n);
      expect(await ethers.provider.getBalance(attackerAddress)).to.equal(PRICE + COMMISSION);
    });
  });

  describe("platform settings", function () {
    it("lets the admin change the fee of offers published later; open offers keep theirs", async function () {
      const { license, admin, creator, splitAddress, buyer, treasury } = await loadFixture(withOffers);
      await expect(license.connect(admin).setPlatformFee(1000))
        .to.emit(license, "PlatformFeeSet")
        .withArgs(1000);
      expect(await license.platformFeeBps()).to.equal(1000n);
      await license.connect(buyer).purchase(NATIVE_OFFER, buyer.address, NO_REFERRER, { value: PRICE });
      expect(await license.owed(treasury.address, NATIVE)).to.equal(FEE);
      await license.connect(buyer).renew(1, { value: PRICE });
      expect(await license.owed(treasury.address, NATIVE)).to.equal(2n * FEE);
      await license.connect(creator).createOffer(offerParams(splitAddress));
      expect((await license.getOffer(5)).platformFeeBps).to.equal(1000n);
      await license.connect(buyer).purchase(5, buyer.address, NO_REFERRER, { value: PRICE });
      expect(await license.owed(treasury.address, NATIVE)).to.equal(2n * FEE + PRICE / 10n);
    });

    it("allows a zero fee, crediting nothing to the treasury", async function () {
      const { license, admin, creator, split, splitAddress, buyer, treasury } = await loadFixture(withOffers);
      await license.connect(admin).setPlatformFee(0);
      await license.connect(creator).createOffer(offerParams(splitAddress));
      await expect(
        license.connect(buyer).purchase(5, buyer.address, NO_REFERRER, { value: PRICE }),
      ).to.changeEtherBalance(ethers, split, PRICE);
      expect(await license.owed(treasury.address, NATIVE)).to.equal(0n);
    });

    it("rejects a fee above 20% with FeeTooHigh", async function () {
      const { license, admin } = await loadFixture(withOffers);
      await expect(license.connect(admin).setPlatformFee(2001))
        .to.be.revertedWithCustomError(license, "FeeTooHigh")
        .withArgs(2001, 2000);
    });

    it("lets the admin move the treasury; later fees accrue there", async function () {
      const { license, admin, buyer, treasury, stranger } = await loadFixture(withOffers);
      await expect(license.connect(admin).setTreasury(stranger.address))
        .to.emit(license, "TreasurySet")
        .withArgs(stranger.address);
      await license.connect(buyer).purchase(NATIVE_OFFER, buyer.address, NO_REFERRER, { value: PRICE });
      expect(await license.owed(stranger.address, NATIVE)).to.equal(FEE);
      expect(await license.owed(treasury.address, NATIVE)).to.equal(0n);
      await expect(license.connect(admin).setTreasury(ethers.ZeroAddress))
        .to.be.revertedWithCustomError(license, "InvalidRecipient")
        .withArgs(ethers.ZeroAddress);
    });

    it("restricts fee and treasury changes to DEFAULT_ADMIN_ROLE", async function () {
      const { license, stranger } = await loadFixture(withOffers);
      const adminRole = await license.DEFAULT_ADMIN_ROLE();
      await expect(license.connect(stranger).setPlatformFee(0))
        .to.be.revertedWithCustomError(license, "AccessControlUnauthorizedAccount")
        .withArgs(stranger.address, adminRole);
      await expect(license.connect(stranger).setTreasury(stranger.address))
        .to.be.revertedWithCustomError(license, "AccessControlUnauthorizedAccount")
        .withArgs(stranger.address, adminRole);
    });
  });

  describe("royaltyInfo", function () {
    it("sends royalties on transferable licenses to the offer's split", async function () {
      const { license, splitAddress, buyer } = await loadFixture(withOffers);
      await license.connect(buyer).purchase(NATIVE_OFFER, buyer.address, NO_REFERRER, { value: PRICE });
      expect(await license.royaltyInfo(1, 10_000n)).to.deep.equal([splitAddress, 500n]);
      expect(await license.royaltyInfo(1, 999n)).to.deep.equal([splitAddress, 49n]);
    });

    it("reports no royalty for soulbound licenses and unknown tokens", async function () {
      const { license, buyer } = await loadFixture(withOffers);
      await license.connect(buyer).purchase(SOULBOUND_OFFER, buyer.address, NO_REFERRER, { value: PRICE });
      expect(await license.royaltyInfo(1, 10_000n)).to.deep.equal([ethers.ZeroAddress, 0n]);
      expect(await license.royaltyInfo(2, 10_000n)).to.deep.equal([ethers.ZeroAddress, 0n]);
    });
  });

  describe("tokenURI", function () {
    it("describes a time-limited license as on-chain JSON", async function () {
      const { license, buyer } = await loadFixture(withOffers);
      await license.connect(buyer).purchase(SOULBOUND_OFFER, buyer.address, NO_REFERRER, { value: PRICE });
      const { expiresAt } = await license.getLicense(1);
      expect(decodeTokenURI(await license.tokenURI(1))).to.deep.equal({
        name: "Rights Ledger License #1",
        description: `License to work #${WORK_ID} under offer #${SOULBOUND_OFFER}.`,
        attributes: [
          { trait_type: "workId", value: Number(WORK_ID) },
          { trait_type: "offerId", value: Number(SOULBOUND_OFFER) },
          { trait_type: "expiresAt", display_type: "date", value: Number(expiresAt) },
          { trait_type: "valid", value: true },
          { trait_type: "revoked", value: false },
          { trait_type: "commercialUse", value: true },
          { trait_type: "transferable", value: false },
        ],
      });
    });

    it("shows perpetual, expired and revoked states", async function () {
      const { license, minter, revoker, buyer } = await loadFixture(withOffers);
      await license.connect(minter).mintForFiat(PERPETUAL_OFFER, buyer.address, ethers.id("cs_uri"));
      await license.connect(buyer).purchase(NATIVE_OFFER, buyer.address, NO_REFERRER, { value: PRICE });
      type Metadata = { attributes: { trait_type: string; value: unknown }[] };
      const attributes = async (tokenId: number) =>
        Object.fromEntries(
          (decodeTokenURI(await license.tokenURI(tokenId)) as Metadata).attributes.map((a) => [
            a.trait_type,
            a.value,
          ]),
        );

      expect(await attributes(1)).to.include({ expiresAt: "perpetual", valid: true, revoked: false });
      await license.connect(revoker).revoke(1, Reason.CardRefund);
      expect(await attributes(1)).to.include({ valid: false, revoked: true });

      await time.increase(THIRTY_DAYS + 1n);
      expect(await attributes(2)).to.include({ valid: false, revoked: false });
    });

    it("reverts for unknown tokens", async function () {
      const { license } = await loadFixture(withOffers);
      await expect(license.tokenURI(1))
        .to.be.revertedWithCustomError(license, "ERC721NonexistentToken")
        .withArgs(1n);
    });
  });
});
