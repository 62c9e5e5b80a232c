/** EIP-712 domains and types of the messages creators sign; shared by contracts' tests, server and web app. */

export const REGISTRY_DOMAIN_NAME = "RightsLedger WorkRegistry";
export const LICENSE_DOMAIN_NAME = "RightsLedger LicenseToken";
export const DOMAIN_VERSION = "1";

export interface TypedDataDomain {
  name: string;
  version: string;
  chainId: bigint;
  verifyingContract: string;
}

export function registryDomain(chainId: bigint, verifyingContract: string): TypedDataDomain {
  return { name: REGISTRY_DOMAIN_NAME, version: DOMAIN_VERSION, chainId, verifyingContract };
}

export function licenseDomain(chainId: bigint, verifyingContract: string): TypedDataDomain {
  return { name: LICENSE_DOMAIN_NAME, version: DOMAIN_VERSION, chainId, verifyingContract };
}

/** One field of an EIP-712 struct. */
export interface TypedField {
  name: string;
  type: string;
}

/**
 * `Register`: the creator authorizes the relayer to reveal (or claim from a batch) one content hash in
 * their name. `nonce` is random and salts the commitment `keccak256(abi.encode(creator, contentHash, nonce))`.
 */
export const REGISTER_TYPES: { Register: TypedField[] } = {
  Register: [
    { name: "creator", type: "address" },
    { name: "contentHash", type: "bytes32" },
    { name: "cid", type: "string" },
    { name: "metadataURI", type: "string" },
    { name: "parentId", type: "uint256" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
  ],
};

export interface RegisterMessage {
  creator: string;
  contentHash: string;
  cid: string;
  metadataURI: string;
  parentId: bigint;
  nonce: bigint;
  deadline: bigint;
}

/** `createOfferFor`: the creator authorizes publication of one offer on their work. */
export const CREATE_OFFER_TYPES: { CreateOffer: TypedField[] } = {
  CreateOffer: [
    { name: "creator", type: "address" },
    { name: "workId", type: "uint256" },
    { name: "currency", type: "address" },
    { name: "price", type: "uint256" },
    { name: "duration", type: "uint64" },
    { name: "maxSupply", type: "uint32" },
    { name: "transferable", type: "bool" },
    { name: "commercialUse", type: "bool" },
    { name: "referrerBps", type: "uint16" },
    { name: "royaltyBps", type: "uint16" },
    { name: "split", type: "address" },
    { name: "territory", type: "string" },
    { name: "revocable", type: "bool" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
  ],
};

export interface CreateOfferMessage {
  creator: string;
  workId: bigint;
  currency: string;
  price: bigint;
  duration: bigint;
  maxSupply: number;
  transferable: boolean;
  commercialUse: boolean;
  referrerBps: number;
  royaltyBps: number;
  split: string;
  territory: string;
  revocable: boolean;
  nonce: bigint;
  deadline: bigint;
}

/** `setReferrerFor`: the offer's creator approves (or withdraws) a referrer; the nonce is spent like CreateOffer's. */
export const SET_REFERRER_TYPES: { SetReferrer: TypedField[] } = {
  SetReferrer: [
    { name: "offerId", type: "uint256" },
    { name: "referrer", type: "address" },
    { name: "approved", type: "bool" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
  ],
};

export interface SetReferrerMessage {
  offerId: bigint;
  referrer: string;
  approved: boolean;
  nonce: bigint;
  deadline: bigint;
}

/**
 * The split factory's domain. `createSplit` is permissionless and checks no signature: the API checks
 * this one, so the relayer pays for a split only at the request of a wallet that counts the gas.
 */
export const SPLIT_FACTORY_DOMAIN_NAME = "RightsLedger SplitFactory";

export function splitFactoryDomain(chainId: bigint, verifyingContract: string): TypedDataDomain {
  return { name: SPLIT_FACTORY_DOMAIN_NAME, version: DOMAIN_VERSION, chainId, verifyingContract };
}

/** `createSplit` sent by the relayer: the creator asks for the split of these recipients and shares. */
export const CREATE_SPLIT_TYPES: { CreateSplit: TypedField[] } = {
  CreateSplit: [
    { name: "creator", type: "address" },
    { name: "recipients", type: "address[]" },
    { name: "sharesBps", type: "uint16[]" },
    { name: "deadline", type: "uint256" },
  ],
};

export interface CreateSplitMessage {
  creator: string;
  recipients: string[];
  sharesBps: number[];
  deadline: bigint;
}
