/** Game items and escrow listings for market tests: metadata URIs, items minted to players, listings on chain. */
import type { JsonRpcSigner } from "ethers";
import { GameItems__factory, ItemEscrow__factory } from "../../types/typechain/index.ts";
import type { TestStack } from "./stack.ts";

/** The studio's account on every test stack: it defines and mints game items. */
export const STUDIO = 4;

/** A small square image as a data URI, in `color`. */
export function svgImage(color: string): string {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 8 8"><rect width="8" height="8" fill="${color}"/></svg>`;
  return `data:image/svg+xml;base64,${Buffer.from(svg).toString("base64")}`;
}

/** An ERC-1155 metadata document inlined as a data URI. */
export function metadataUri(doc: Record<string, unknown>): string {
  return `data:application/json;base64,${Buffer.from(JSON.stringify(doc)).toString("base64")}`;
}

/** Defines item `id` named `name` (with an image) and mints `amount` of it to each of `holders`. */
export async function defineItem(
  stack: TestStack,
  id: bigint,
  name: string,
  holders: string[],
  amount = 10n,
  uri = metadataUri({ name, description: `${name}, forged for tests`, image: svgImage("#b45309") }),
): Promise<void> {
  const items = GameItems__factory.connect(
    stack.deployment.contracts.GameItems.address,
    await stack.signer(STUDIO),
  );
  await (await items.defineItem(id, uri, 0)).wait();
  for (const holder of holders) await (await items.mint(holder, id, amount, "0x")).wait();
}

/** Lists from `seller`'s wallet straight on the escrow (approving it first if needed); answers the listing id. */
export async function listOnChain(
  stack: TestStack,
  seller: JsonRpcSigner,
  listing: { itemId: bigint; amount?: bigint; price: bigint; currency?: string; deadlineIn?: number },
): Promise<string> {
  const { GameItems, ItemEscrow } = stack.deployment.contracts;
  const items = GameItems__factory.connect(GameItems.address, seller);
  if (!(await items.isApprovedForAll(seller.address, ItemEscrow.address)))
    await (await items.setApprovalForAll(ItemEscrow.address, true)).wait();
  const escrow = ItemEscrow__factory.connect(ItemEscrow.address, seller);
  const now = (await stack.provider.getBlock("latest"))!.timestamp;
  await (
    await escrow.list(
      GameItems.address,
      listing.itemId,
      listing.amount ?? 1n,
      listing.price,
      listing.currency ?? "0x0000000000000000000000000000000000000000",
      now + (listing.deadlineIn ?? 7 * 24 * 3600),
    )
  ).wait();
  return (await escrow.listingCount()).toString();
}

/** Resolves once the indexer has caught up with the chain's latest block. */
export async function indexed(stack: TestStack): Promise<void> {
  const head = await stack.provider.getBlockNumber();
  await stack.waitFor(async () => stack.indexer.indexedBlock() >= head);
}
