/** Fixtures for the license and revenue split tests: contracts deployed against a stub work registry. */
import type { NetworkConnection } from "hardhat/types/network";
import type { Signer } from "ethers";
import {
  CREATE_OFFER_TYPES,
  licenseDomain,
  SET_REFERRER_TYPES,
  type CreateOfferMessage,
  type SetReferrerMessage,
} from "../../lib/eip712.ts";
import {
  LicenseToken__factory,
  RegistryStub__factory,
  RevenueSplit__factory,
  SplitFactory__factory,
  DevStablecoin__factory,
} from "../../types/typechain/index.ts";
import type { LicenseToken } from "../../types/typechain/index.ts";
import type { ILicenseToken } from "../../types/typechain/contracts/LicenseToken.ts";

export const PLATFORM_FEE_BPS = 250n;
export const ADMIN_DELAY = 3n * 24n * 3600n;
export const PRICE = 10n ** 16n;
export const USDC_PRICE = 25_000_000n;
export const THIRTY_DAYS = 30n * 24n * 3600n;
export const WORK_ID = 1n;
export const OTHER_WORK_ID = 2n;

export type OfferParams = ILicenseToken.OfferParamsStruct;

/** Splits, a stablecoin and a stub registry, without the license contract. */
export async function deploySplits({ ethers }: NetworkConnection) {
  const [deployer, alice, bob, carol, payer, other] = await ethers.getSigners();
  const factory = await new SplitFactory__factory(deployer).deploy();
  const implementation = RevenueSplit__factory.connect(await factory.implementation(), deployer);
  const stablecoin = await new DevStablecoin__factory(deployer).deploy();
  return {
    factory,
    implementation,
    stablecoin,
    deployer: deployer!,
    alice: alice!,
    bob: bob!,
    carol: carol!,
    payer: payer!,
    other: other!,
  };
}

/**
 * The license contract with a 2.5% platform fee, work 1 by `creator` and work 2 by `otherCreator`, a 70/30
 * split between `creator` and `coCreator`, `minter` holding MINTER_ROLE and `revoker` REVOKER_ROLE.
 */
export async function deployLicensing({ ethers }: NetworkConnection) {
  const [
    admin,
    treasury,
    creator,
    coCreator,
    buyer,
    buyer2,
    referrer,
    minter,
    otherCreator,
    stranger,
    revoker,
  ] = await ethers.getSigners();
  const registry = await new RegistryStub__factory(admin).deploy();
  await registry.setWork(WORK_ID, creator!.address);
  await registry.setWork(OTHER_WORK_ID, otherCreator!.address);
  const factory = await new SplitFactory__factory(admin).deploy();
  const recipients = [creator!.address, coCreator!.address];
  const shares = [7000, 3000];
  await factory.createSplit(recipients, shares);
  const splitAddress = await factory.predictSplit(recipients, shares);
  const split = RevenueSplit__factory.connect(splitAddress, admin);
  const stablecoin = await new DevStablecoin__factory(admin).deploy();
  const license = await new LicenseToken__factory(admin).deploy(
    admin!.address,
    ADMIN_DELAY,
    await registry.getAddress(),
    await factory.getAddress(),
    treasury!.address,
    PLATFORM_FEE_BPS,
    minter!.address,
    revoker!.address,
  );
  for (const account of [buyer!, buyer2!]) {
    await stablecoin.mint(account.address, 1_000n * USDC_PRICE);
    await stablecoin.connect(account).approve(await license.getAddress(), ethers.MaxUint256);
  }
  return {
    license,
    registry,
    factory,
    split,
    stablecoin,
    admin: admin!,
    treasury: treasury!,
    creator: creator!,
    coCreator: coCreator!,
    buyer: buyer!,
    buyer2: buyer2!,
    referrer: referrer!,
    minter: minter!,
    otherCreator: otherCreator!,
    stranger: stranger!,
    revoker: revoker!,
  };
}

/** A 30-day, transferable, native-currency offer on work 1 paying `split`, with a 5% referrer commission. */
export function offerParams(split: string, overrides: Partial<OfferParams> = {}): OfferParams {
  return {
    workId: WORK_ID,
    currency: "0x0000000000000000000000000000000000000000",
    price: PRICE,
    duration: THIRTY_DAYS,
    maxSupply: 0,
    transferable: true,
    commercialUse: true,
    referrerBps: 500,
    royaltyBps: 500,
    split,
    territory: "WORLD",
    revocable: false,
    ...overrides,
  };
}

/** The EIP-712 `CreateOffer` message for `params`. */
export function createOfferMessage(
  params: OfferParams,
  creator: string,
  nonce: bigint,
  deadline: bigint,
): CreateOfferMessage {
  return {
    creator,
    workId: BigInt(params.workId),
    currency: params.currency as string,
    price: BigInt(params.price),
    duration: BigInt(params.duration),
    maxSupply: Number(params.maxSupply),
    transferable: Boolean(params.transferable),
    commercialUse: Boolean(params.commercialUse),
    referrerBps: Number(params.referrerBps),
    royaltyBps: Number(params.royaltyBps),
    split: params.split as string,
    territory: params.territory,
    revocable: Boolean(params.revocable),
    nonce,
    deadline,
  };
}

/** `signer`'s signature of a `CreateOffer` message for `license`. */
export async function signCreateOffer(
  signer: Signer,
  license: LicenseToken,
  message: CreateOfferMessage,
): Promise<string> {
  const { chainId } = await signer.provider!.getNetwork();
  return signer.signTypedData(
    licenseDomain(chainId, await license.getAddress()),
    CREATE_OFFER_TYPES,
    message,
  );
}

/** `signer`'s signature of a `SetReferrer` message for `license`. */
export async function signSetReferrer(
  signer: Signer,
  license: LicenseToken,
  message: SetReferrerMessage,
): Promise<string> {
  const { chainId } = await signer.provider!.getNetwork();
  return signer.signTypedData(
    licenseDomain(chainId, await license.getAddress()),
    SET_REFERRER_TYPES,
    message,
  );
}

/** Decodes a `data:application/json;base64,` token URI. */
export function decodeTokenURI(uri: string): unknown {
  const prefix = "data:application/json;base64,";
  if (!uri.startsWith(prefix)) throw new Error(`not a base64 JSON data URI: ${uri}`);
  return JSON.parse(Buffer.from(uri.slice(prefix.length), "base64").toString("utf8"));
}
