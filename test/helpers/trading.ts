import type { HardhatEthers, HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { toBeHex, type Interface } from "ethers";
import {
  DevStablecoin__factory,
  GameItems__factory,
  ItemEscrow__factory,
  type DevStablecoin,
  type GameItems,
  type ItemEscrow,
} from "../../types/typechain/index.js";

/** Mirrors `IItemEscrow.State`. */
export const State = {
  None: 0n,
  Listed: 1n,
  Paid: 2n,
  Disputed: 3n,
  Completed: 4n,
  Cancelled: 5n,
  Expired: 6n,
  Refunded: 7n,
} as const;

export const NATIVE = "0x0000000000000000000000000000000000000000";
export const HOUR = 3600;
export const DAY = 24 * HOUR;
export const COMMISSION_BPS = 250n;
export const CONFIRMATION_WINDOW = 3 * DAY;
export const DISPUTE_WINDOW = 7 * DAY;
export const ADMIN_DELAY = 3 * DAY;
export const LISTING_PERIOD = 7 * DAY;

/** Items the studio defines: a capped sword, an uncapped potion and a shield. */
export const SWORD = 1n;
export const POTION = 2n;
export const SHIELD = 3n;
export const ITEM_IDS = [SWORD, POTION, SHIELD] as const;
export const SWORD_CAP = 1_000n;
export const STARTING_ITEMS = 100n;
export const STARTING_STABLECOINS = 1_000_000n * 10n ** 6n;

export interface TradingSetup {
  items: GameItems;
  escrow: ItemEscrow;
  stablecoin: DevStablecoin;
  admin: HardhatEthersSigner;
  studio: HardhatEthersSigner;
  arbiter: HardhatEthersSigner;
  treasury: HardhatEthersSigner;
  /** Players holding every item and stablecoins, with both approved to the escrow. */
  players: HardhatEthersSigner[];
  outsider: HardhatEthersSigner;
}

/**
 * Deploys GameItems, ItemEscrow (commission 2.5%, 3-day confirmation and 7-day dispute windows, GameItems allowed)
 * and a 6-decimals stablecoin, grants the studio its role, and equips `playerCount` players with items,
 * stablecoins and approvals.
 */
export async function deployTrading(ethers: HardhatEthers, playerCount = 3): Promise<TradingSetup> {
  const signers = await ethers.getSigners();
  const [admin, studio, arbiter, treasury, outsider] = signers as [
    HardhatEthersSigner,
    HardhatEthersSigner,
    HardhatEthersSigner,
    HardhatEthersSigner,
    HardhatEthersSigner,
  ];
  const players = signers.slice(5, 5 + playerCount);

  const items = await new GameItems__factory(admin).deploy(admin.address);
  const escrow = await new ItemEscrow__factory(admin).deploy(
    admin.address,
    ADMIN_DELAY,
    treasury.address,
    arbiter.address,
    COMMISSION_BPS,
    CONFIRMATION_WINDOW,
    DISPUTE_WINDOW,
    [await items.getAddress()],
  );
  const stablecoin = await new DevStablecoin__factory(admin).deploy();

  await items.grantRole(await items.MINTER_ROLE(), studio.address);

  const studioItems = items.connect(studio);
  await studioItems.defineItem(SWORD, "ipfs://sword", SWORD_CAP);
  await studioItems.defineItem(POTION, "ipfs://potion", 0);
  await studioItems.defineItem(SHIELD, "ipfs://shield", 0);

  const escrowAddress = await escrow.getAddress();
  for (const player of players) {
    await studioItems.mintBatch(
      player.address,
      [...ITEM_IDS],
      ITEM_IDS.map(() => STARTING_ITEMS),
      "0x",
    );
    await items.connect(player).setApprovalForAll(escrowAddress, true);
    await stablecoin.mint(player.address, STARTING_STABLECOINS);
    await stablecoin.connect(player).approve(escrowAddress, ethers.MaxUint256);
  }

  return { items, escrow, stablecoin, admin, studio, arbiter, treasury, players, outsider };
}

/** Commission and seller proceeds for a price at a commission rate, rounded as the escrow rounds. */
export function splitPrice(price: bigint, commissionBps: bigint = COMMISSION_BPS) {
  const commission = (price * commissionBps) / 10_000n;
  return { commission, proceeds: price - commission };
}

/** ERC-165 identifier of an interface: the XOR of its function selectors. */
export function interfaceIdOf(iface: Interface): string {
  let id = 0n;
  iface.forEachFunction((fn) => {
    id ^= BigInt(fn.selector);
  });
  return toBeHex(id, 4);
}
