import type { ChainEvent } from "../decode.ts";
import type { Erc1155TransferBatch, Erc1155TransferSingle, Erc1155Uri, Stored } from "../abi.ts";
import { gameItems, itemBalances, itemTransfers } from "../db/game-items.ts";
import { need, type Needed, type RangeStore } from "../store.ts";
import { notesFor } from "../untrusted.ts";
import type { ItemDefinedEvent } from "../../types/typechain/contracts/interfaces/IGameItems.ts";
import { on, origin, ZERO_ADDRESS, type ContractHandlers } from "./handler.ts";

type ItemDefined = Stored<ItemDefinedEvent.OutputObject>;

function transferNeeds(from: string, to: string, ids: string[]): Needed[] {
  return ids.flatMap((id) => [
    need(gameItems, { item_id: id }),
    need(itemBalances, { item_id: id, owner: from }),
    need(itemBalances, { item_id: id, owner: to }),
  ]);
}

function addBalance(store: RangeStore, itemId: string, owner: string, delta: bigint, block: number): void {
  if (owner === ZERO_ADDRESS || delta === 0n) return;
  const current = store.get(itemBalances, { item_id: itemId, owner });
  const balance = BigInt(current?.balance ?? "0") + delta;
  if (balance === 0n) {
    store.remove(itemBalances, { item_id: itemId, owner }, block);
  } else if (current) {
    store.update(itemBalances, { ...current, balance: balance.toString(), updated_block: block }, block);
  } else {
    store.insert(
      itemBalances,
      { item_id: itemId, owner, balance: balance.toString(), block_number: block, updated_block: block },
      block,
    );
  }
}

function move(
  store: RangeStore,
  event: ChainEvent<{ operator: string; from: string; to: string }>,
  id: string,
  amount: string,
  batchIndex: number,
): void {
  const { operator, from, to } = event.args;
  const value = BigInt(amount);
  store.append(itemTransfers, {
    item_id: id,
    operator,
    from_address: from,
    to_address: to,
    amount,
    batch_index: batchIndex,
    ...origin(event),
  });
  addBalance(store, id, from, -value, event.blockNumber);
  addBalance(store, id, to, value, event.blockNumber);
  const item = store.get(gameItems, { item_id: id });
  if (!item || (from !== ZERO_ADDRESS && to !== ZERO_ADDRESS)) return;
  store.update(
    gameItems,
    {
      ...item,
      minted: from === ZERO_ADDRESS ? (BigInt(item.minted) + value).toString() : item.minted,
      burned: to === ZERO_ADDRESS ? (BigInt(item.burned) + value).toString() : item.burned,
      updated_block: event.blockNumber,
    },
    event.blockNumber,
  );
}

/** Item types, supply, balances and transfers. */
export const gameItemsHandlers: ContractHandlers = {
  ItemDefined: on<ItemDefined>({
    apply(event, store) {
      const a = event.args;
      store.insert(
        gameItems,
        {
          item_id: a.id,
          uri: a.uri,
          max_supply: a.maxSupply,
          minted: "0",
          burned: "0",
          value_notes: notesFor(event.notes, { uri: "uri" }),
          ...origin(event),
          updated_block: event.blockNumber,
        },
        event.blockNumber,
      );
    },
  }),

  URI: on<Erc1155Uri>({
    needs: (a) => [need(gameItems, { item_id: a.id })],
    apply(event, store) {
      const item = store.get(gameItems, { item_id: event.args.id });
      if (!item || item.uri === event.args.value) return;
      store.update(
        gameItems,
        {
          ...item,
          uri: event.args.value,
          value_notes: notesFor(event.notes, { value: "uri" }),
          updated_block: event.blockNumber,
        },
        event.blockNumber,
      );
    },
  }),

  TransferSingle: on<Erc1155TransferSingle>({
    needs: (a) => transferNeeds(a.from, a.to, [a.id]),
    apply(event, store) {
      move(store, event, event.args.id, event.args.value, 0);
    },
  }),

  TransferBatch: on<Erc1155TransferBatch>({
    needs: (a) => transferNeeds(a.from, a.to, a.ids),
    apply(event, store) {
      event.args.ids.forEach((id, i) => move(store, event, id, event.args.values[i] ?? "0", i));
    },
  }),
};
