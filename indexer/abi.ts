import { Indexed, Interface, type ParamType } from "ethers";
import { untrustedText } from "./untrusted.ts";
import {
  IGameItems__factory,
  IItemEscrow__factory,
  ILicenseToken__factory,
  IPayoutSettlement__factory,
  IRevenueSplit__factory,
  ISplitFactory__factory,
  IWorkRegistry__factory,
} from "../types/typechain/index.ts";

/** The kinds of contract the indexer follows: the deployed ones and the splits the factory clones. */
export type ContractKind =
  | "WorkRegistry"
  | "SplitFactory"
  | "RevenueSplit"
  | "LicenseToken"
  | "GameItems"
  | "ItemEscrow"
  | "PayoutSettlement";

/** A decoded argument as stored: integers as decimal strings, addresses and bytes as lowercase hex. */
export type JsonValue = string | boolean | JsonValue[] | { [key: string]: JsonValue };
export type JsonArgs = Record<string, JsonValue>;

/** The stored form of a typechain event's output object. */
export type Stored<T> = T extends bigint
  ? string
  : T extends readonly (infer U)[]
    ? Stored<U>[]
    : T extends object
      ? { [K in keyof T]: Stored<T[K]> }
      : T;

// Standard events the implementations inherit from OpenZeppelin; stored raw, and the token
// transfers also feed balances and holders.
const ACCESS_CONTROL_EVENTS = [
  "event RoleGranted(bytes32 indexed role, address indexed account, address indexed sender)",
  "event RoleRevoked(bytes32 indexed role, address indexed account, address indexed sender)",
  "event RoleAdminChanged(bytes32 indexed role, bytes32 indexed previousAdminRole, bytes32 indexed newAdminRole)",
  "event DefaultAdminTransferScheduled(address indexed newAdmin, uint48 acceptSchedule)",
  "event DefaultAdminTransferCanceled()",
  "event DefaultAdminDelayChangeScheduled(uint48 newDelay, uint48 effectSchedule)",
  "event DefaultAdminDelayChangeCanceled()",
];
const ERC721_EVENTS = [
  "event Transfer(address indexed from, address indexed to, uint256 indexed tokenId)",
  "event Approval(address indexed owner, address indexed approved, uint256 indexed tokenId)",
  "event ApprovalForAll(address indexed owner, address indexed operator, bool approved)",
];
const ERC1155_EVENTS = [
  "event TransferSingle(address indexed operator, address indexed from, address indexed to, uint256 id, uint256 value)",
  "event TransferBatch(address indexed operator, address indexed from, address indexed to, uint256[] ids, uint256[] values)",
  "event ApprovalForAll(address indexed account, address indexed operator, bool approved)",
  "event URI(string value, uint256 indexed id)",
];

export interface Erc721Transfer {
  from: string;
  to: string;
  tokenId: string;
}
export interface Erc1155TransferSingle {
  operator: string;
  from: string;
  to: string;
  id: string;
  value: string;
}
export interface Erc1155TransferBatch {
  operator: string;
  from: string;
  to: string;
  ids: string[];
  values: string[];
}
export interface Erc1155Uri {
  value: string;
  id: string;
}

/** The ABI each kind of contract is decoded with: its interface plus the standard events it inherits. */
export function contractInterfaces(): Record<ContractKind, Interface> {
  return {
    WorkRegistry: new Interface([...IWorkRegistry__factory.abi, ...ACCESS_CONTROL_EVENTS]),
    SplitFactory: new Interface([...ISplitFactory__factory.abi]),
    RevenueSplit: new Interface([...IRevenueSplit__factory.abi]),
    LicenseToken: new Interface([...ILicenseToken__factory.abi, ...ERC721_EVENTS, ...ACCESS_CONTROL_EVENTS]),
    GameItems: new Interface([...IGameItems__factory.abi, ...ERC1155_EVENTS, ...ACCESS_CONTROL_EVENTS]),
    ItemEscrow: new Interface([...IItemEscrow__factory.abi, ...ACCESS_CONTROL_EVENTS]),
    PayoutSettlement: new Interface([...IPayoutSettlement__factory.abi, ...ACCESS_CONTROL_EVENTS]),
  };
}

/** Converts a decoded ABI value to its stored JSON form. */
export function toJson(type: ParamType, value: unknown): JsonValue {
  if (value instanceof Indexed) return value.hash ?? "";
  if (type.isArray()) return (value as readonly unknown[]).map((item) => toJson(type.arrayChildren, item));
  if (type.isTuple()) {
    const items = value as readonly unknown[];
    return Object.fromEntries(
      type.components.map((component, i) => [component.name, toJson(component, items[i])]),
    );
  }
  switch (type.baseType) {
    case "bool":
      return Boolean(value);
    case "string":
      return untrustedText(Buffer.from(String(value)).toString("hex")).text;
    case "address":
      return String(value).toLowerCase();
    default:
      if (typeof value === "bigint") return value.toString();
      return String(value).toLowerCase();
  }
}
