/**
 * The scale benchmark's data: a chain's worth of indexed rows written with COPY into the schema
 * the indexer's and the server's migrations create — raw events in chain_events and the domain
 * rows they produce (works and their metadata, splits, offers, licenses with their mints,
 * transfers and revenue, escrow listings and their states, game item transfers) — the same for
 * the same seed and scale, laid out by ScalePlan.
 */
import type { ClientBase } from "pg";
import pgCopy from "pg-copy-streams";
import {
  KINDS,
  SALT,
  ScalePlan,
  TXS_PER_BLOCK,
  ZERO_ADDRESS,
  type Kind,
  type ScaleOptions,
} from "./scale-plan.ts";

// --- rows ---

/** Escapes a value for COPY's text format. */
function copyText(value: string): string {
  return /[\\\t\n\r]/.test(value)
    ? value.replace(/\\/g, "\\\\").replace(/\t/g, "\\t").replace(/\n/g, "\\n").replace(/\r/g, "\\r")
    : value;
}

type Row = (string | number | bigint | boolean | null)[];

function line(values: Row): string {
  return (
    values
      .map((v) =>
        v === null
          ? "\\N"
          : typeof v === "string"
            ? copyText(v)
            : typeof v === "boolean"
              ? v
                ? "t"
                : "f"
              : String(v),
      )
      .join("\t") + "\n"
  );
}

/** Writes `rows` into `table` with COPY, a few hundred kilobytes at a time; resolves with the row count. */
export async function copyInto(
  client: ClientBase,
  table: string,
  columns: string[],
  rows: Iterable<Row>,
): Promise<number> {
  const stream = client.query(pgCopy.from(`COPY ${table} (${columns.join(", ")}) FROM STDIN`));
  const done = new Promise<void>((resolve, reject) => {
    stream.on("finish", resolve);
    stream.on("error", reject);
  });
  let chunk = "";
  let count = 0;
  const write = async (text: string) => {
    if (!stream.write(text)) await new Promise((resolve) => stream.once("drain", resolve));
  };
  for (const row of rows) {
    chunk += line(row);
    count += 1;
    if (chunk.length >= 256 * 1024) {
      await write(chunk);
      chunk = "";
    }
  }
  if (chunk) await write(chunk);
  stream.end();
  await done;
  return count;
}

/** The columns the generators write of the indexer's item and escrow tables, in their rows' order. */
export const COPY_COLUMNS = {
  game_items: [
    "item_id",
    "uri",
    "max_supply",
    "minted",
    "burned",
    "block_number",
    "log_index",
    "tx_hash",
    "updated_block",
  ],
  listings: [
    "listing_id",
    "seller",
    "token",
    "item_id",
    "amount",
    "price",
    "currency",
    "deadline",
    "state",
    "buyer",
    "confirm_by",
    "seller_proceeds",
    "commission",
    "settled",
    "arbiter",
    "block_number",
    "log_index",
    "tx_hash",
    "updated_block",
    "commission_bps",
    "items_claimed",
    "funds_claimed",
  ],
  listing_states: ["listing_id", "event", "state", "block_number", "log_index", "tx_hash"],
};

function* range(n: number): Generator<number> {
  for (let i = 0; i < n; i++) yield i;
}

function* map<T>(n: number, f: (i: number) => T | null): Generator<T> {
  for (const i of range(n)) {
    const v = f(i);
    if (v !== null) yield v;
  }
}

const iso = (seconds: number) => new Date(seconds * 1000).toISOString();

/** Every table the generator fills, with its columns and rows. */
function tables(plan: ScalePlan): { table: string; columns: string[]; rows: () => Iterable<Row> }[] {
  const { sizes, options } = plan;
  const c = options.contracts;
  const at = (kind: Kind, i: number, log = 0) => plan.at(kind, i, log);
  const licenseOfTransfer = new Int32Array(sizes.licenses).fill(-1);
  for (let t = 0; t < sizes.licenseTransfers; t++) licenseOfTransfer[plan.licenseOfTransfer(t)] = t;
  const offerOfLicense = Int32Array.from({ length: sizes.licenses }, (_, l) => plan.offerOfLicense(l));
  const sold = new Int32Array(sizes.offers);
  for (const o of offerOfLicense) sold[o]! += 1;
  const transferTo = (t: number) => plan.holder(SALT.license, sizes.licenses + t);
  const licenseHolder = (l: number) => plan.holder(SALT.license, l);
  const amountOf = (l: number) => plan.priceOf(offerOfLicense[l]!);
  const fee = (amount: bigint) => (amount * 250n) / 10_000n;

  return [
    {
      table: "uploads",
      // Public originals: a private one's sealing keys mean nothing without its stored file.
      columns: ["content_hash", "cid", "size", "filename", "content_type", "created_at", "visibility"],
      rows: () =>
        map(sizes.works, (w) => [
          plan.contentHashOf(w),
          plan.cidOf(w),
          1024 + Math.floor(plan.rand(SALT.work, w, 2) * 50_000_000),
          `work-${w + 1}.bin`,
          "application/octet-stream",
          iso(plan.blockTimeOf(at("commit", w).block)),
          "public",
        ]),
    },
    {
      table: "work_metadata",
      columns: ["metadata_uri", "content_hash", "title", "description", "created_at"],
      rows: () =>
        map(sizes.works, (w) => {
          const text = plan.textOf(w);
          return [
            plan.metadataUriOf(w),
            plan.contentHashOf(w),
            text.title,
            text.description,
            iso(plan.blockTimeOf(at("commit", w).block)),
          ];
        }),
    },
    {
      table: "works",
      columns: [
        "work_id",
        "content_hash",
        "creator",
        "parent_id",
        "root_id",
        "version",
        "cid",
        "metadata_uri",
        "co_authors",
        "block_number",
        "log_index",
        "tx_hash",
        "updated_block",
        "registered_at",
      ],
      rows: () =>
        map(sizes.works, (w) => {
          const p = at("reveal", w);
          const parent = plan.parentOf(w);
          const coAuthors = plan.rand(SALT.work, w, 3) < 0.05 ? `{${plan.holder(SALT.work, w)}}` : "{}";
          return [
            w + 1,
            plan.contentHashOf(w),
            plan.creatorOfWork(w),
            parent === null ? null : parent + 1,
            (parent ?? w) + 1,
            parent === null ? 1 : 2,
            plan.cidOf(w),
            plan.metadataUriOf(w),
            coAuthors,
            p.block,
            p.logIndex,
            p.txHash,
            p.block,
            w === 0 && options.anchor ? options.anchor.blockTime : plan.blockTimeOf(p.block),
          ];
        }),
    },
    {
      table: "splits",
      columns: ["split", "created_by", "recipients", "shares_bps", "block_number", "log_index", "tx_hash"],
      rows: () =>
        map(sizes.splits, (s) => {
          const p = at("split", s);
          const creator = plan.creatorOfWork(plan.workOfOffer(Math.floor((s * sizes.offers) / sizes.splits)));
          return [
            plan.splitAddress(s),
            creator,
            `{${creator},${plan.holder(SALT.split, s)}}`,
            "{7000,3000}",
            p.block,
            p.logIndex,
            p.txHash,
          ];
        }),
    },
    {
      table: "offers",
      columns: [
        "offer_id",
        "work_id",
        "creator",
        "currency",
        "price",
        "duration",
        "max_supply",
        "sold",
        "transferable",
        "commercial_use",
        "referrer_bps",
        "royalty_bps",
        "split",
        "territory",
        "active",
        "block_number",
        "log_index",
        "tx_hash",
        "updated_block",
        "revocable",
        "platform_fee_bps",
      ],
      rows: () =>
        map(sizes.offers, (o) => {
          const p = at("offer", o);
          const w = plan.workOfOffer(o);
          return [
            o + 1,
            w + 1,
            plan.creatorOfWork(w),
            ZERO_ADDRESS,
            plan.priceOf(o),
            plan.durationOf(o),
            0,
            sold[o]!,
            true,
            plan.rand(SALT.offer, o, 3) < 0.7,
            0,
            0,
            plan.splitAddress(plan.splitOfOffer(o)),
            plan.rand(SALT.offer, o, 4) < 0.8 ? "WORLD" : "EU",
            true,
            p.block,
            p.logIndex,
            p.txHash,
            p.block,
            plan.rand(SALT.offer, o, 5) < 0.2,
            250,
          ];
        }),
    },
    {
      table: "licenses",
      columns: [
        "token_id",
        "offer_id",
        "work_id",
        "holder",
        "payer",
        "payment_ref",
        "expires_at",
        "renewals",
        "revoked",
        "revoked_by",
        "revoked_reason",
        "revoked_block",
        "issued_at",
        "block_number",
        "log_index",
        "tx_hash",
        "updated_block",
      ],
      rows: () =>
        map(sizes.licenses, (l) => {
          const p = at("purchase", l);
          const o = offerOfLicense[l]!;
          const duration = plan.durationOf(o);
          const t = licenseOfTransfer[l]!;
          const moved = t >= 0 ? at("licenseTransfer", t) : null;
          const revoked = plan.rand(SALT.license, l, 2) < 0.005;
          return [
            l + 1,
            o + 1,
            plan.workOfOffer(o) + 1,
            moved ? transferTo(t) : licenseHolder(l),
            licenseHolder(l),
            null,
            duration === 0 ? 0 : plan.blockTimeOf(p.block) + duration,
            0,
            revoked,
            revoked ? plan.creatorOfWork(plan.workOfOffer(o)) : null,
            revoked ? "offer_terms" : null,
            revoked ? (moved ?? p).block : null,
            iso(plan.blockTimeOf(p.block)),
            p.block,
            p.logIndex + 1,
            p.txHash,
            (moved ?? p).block,
          ];
        }),
    },
    {
      table: "license_transfers",
      columns: ["token_id", "from_address", "to_address", "block_number", "log_index", "tx_hash"],
      rows: function* () {
        for (const l of range(sizes.licenses)) {
          const p = at("purchase", l);
          yield [l + 1, ZERO_ADDRESS, licenseHolder(l), p.block, p.logIndex, p.txHash];
        }
        for (const t of range(sizes.licenseTransfers)) {
          const p = at("licenseTransfer", t);
          const l = plan.licenseOfTransfer(t);
          yield [l + 1, licenseHolder(l), transferTo(t), p.block, p.logIndex, p.txHash];
        }
      },
    },
    {
      table: "revenue_payments",
      columns: [
        "token_id",
        "currency",
        "split",
        "amount",
        "platform_fee",
        "referrer",
        "referrer_commission",
        "block_number",
        "log_index",
        "tx_hash",
      ],
      rows: () =>
        map(sizes.licenses, (l) => {
          const p = at("purchase", l, 3);
          const amount = amountOf(l);
          const split = plan.splitAddress(plan.splitOfOffer(offerOfLicense[l]!));
          return [
            l + 1,
            ZERO_ADDRESS,
            split,
            amount,
            fee(amount),
            ZERO_ADDRESS,
            0,
            p.block,
            p.logIndex,
            p.txHash,
          ];
        }),
    },
    {
      table: "split_receipts",
      columns: ["split", "sender", "amount", "block_number", "log_index", "tx_hash"],
      rows: () =>
        map(sizes.licenses, (l) => {
          const p = at("purchase", l, 2);
          const amount = amountOf(l);
          return [
            plan.splitAddress(plan.splitOfOffer(offerOfLicense[l]!)),
            c.LicenseToken,
            amount - fee(amount),
            p.block,
            p.logIndex,
            p.txHash,
          ];
        }),
    },
    {
      table: "game_items",
      columns: COPY_COLUMNS.game_items,
      rows: () =>
        map(sizes.items, (i) => {
          const p = at("item", i);
          return [i + 1, `ipfs://item-${i + 1}`, 0, 1_000_000_000, 0, p.block, p.logIndex, p.txHash, p.block];
        }),
    },
    {
      table: "item_balances",
      columns: ["item_id", "owner", "balance", "block_number", "updated_block"],
      rows: () =>
        map(sizes.itemBalances, (b) => {
          // One balance per holder, so (item, owner) pairs are distinct.
          const p = at("itemTransfer", Math.floor((b * sizes.itemTransfers) / sizes.itemBalances));
          return [
            plan.itemOf(SALT.item, b) + 1,
            plan.holderAt(b),
            1 + Math.floor(plan.rand(SALT.item, b, 4) * 100),
            p.block,
            p.block,
          ];
        }),
    },
    {
      table: "listings",
      columns: COPY_COLUMNS.listings,
      rows: () =>
        map(sizes.listings, (l) => {
          const p = at("list", l, 1);
          const price = BigInt(1 + Math.floor(plan.rand(SALT.listing, l, 1) * 500)) * 10n ** 15n;
          const closed = l % 2 === 1;
          const c2 = (l - 1) / 2;
          const bought = closed ? at("buy", c2) : null;
          const claimed = closed ? at("claim", c2) : null;
          return [
            l + 1,
            plan.holder(SALT.listing, l),
            c.GameItems,
            plan.itemOf(SALT.listing, l) + 1,
            1,
            price,
            ZERO_ADDRESS,
            plan.blockTimeOf(p.block) + 30 * 24 * 3600,
            closed ? "completed" : "listed",
            closed ? plan.holder(SALT.listing, sizes.listings + l) : null,
            bought ? plan.blockTimeOf(bought.block) + 3 * 24 * 3600 : null,
            closed ? price - fee(price) : null,
            closed ? fee(price) : null,
            closed ? false : null,
            null,
            p.block,
            p.logIndex,
            p.txHash,
            (claimed ?? p).block,
            250,
            closed,
            false,
          ];
        }),
    },
    {
      table: "listing_states",
      columns: COPY_COLUMNS.listing_states,
      rows: function* () {
        for (const l of range(sizes.listings)) {
          const p = at("list", l, 1);
          yield [l + 1, "Listed", "listed", p.block, p.logIndex, p.txHash];
        }
        const closed = sizes.listings - sizes.openListings;
        for (const [kind, event, state, log] of [
          ["buy", "Bought", "paid", 0],
          ["confirm", "Completed", "completed", 0],
          ["claim", "ItemsClaimed", "completed", 1],
        ] as const) {
          for (const c2 of range(closed)) {
            const p = at(kind, c2, log);
            yield [plan.closedListing(c2) + 1, event, state, p.block, p.logIndex, p.txHash];
          }
        }
      },
    },
    {
      table: "item_transfers",
      columns: [
        "item_id",
        "operator",
        "from_address",
        "to_address",
        "amount",
        "block_number",
        "log_index",
        "batch_index",
        "tx_hash",
      ],
      rows: function* () {
        for (const l of range(sizes.listings)) {
          const p = at("list", l, 0);
          const seller = plan.holder(SALT.listing, l);
          yield [
            plan.itemOf(SALT.listing, l) + 1,
            c.ItemEscrow,
            seller,
            c.ItemEscrow,
            1,
            p.block,
            p.logIndex,
            0,
            p.txHash,
          ];
        }
        for (const c2 of range(sizes.listings - sizes.openListings)) {
          const l = plan.closedListing(c2);
          const p = at("claim", c2, 0);
          yield [
            plan.itemOf(SALT.listing, l) + 1,
            c.ItemEscrow,
            c.ItemEscrow,
            plan.holder(SALT.listing, sizes.listings + l),
            1,
            p.block,
            p.logIndex,
            0,
            p.txHash,
          ];
        }
        for (const t of range(sizes.itemTransfers)) {
          const p = at("itemTransfer", t);
          const from = plan.rand(SALT.item, t, 5) < 0.01 ? ZERO_ADDRESS : plan.holder(SALT.item, t);
          yield [
            plan.itemOf(SALT.item, t) + 1,
            from,
            from,
            plan.holder(SALT.item, sizes.itemTransfers + t),
            1 + Math.floor(plan.rand(SALT.item, t, 6) * 10),
            p.block,
            p.logIndex,
            0,
            p.txHash,
          ];
        }
      },
    },
  ];
}

/** The logs of the activity in `slot`, as chain_events rows. */
function* eventsOf(plan: ScalePlan, slot: number): Generator<Row> {
  const { sizes, options } = plan;
  const c = options.contracts;
  const kind = KINDS[plan.slotKind[slot]!]!;
  const i = plan.slotIndex[slot]!;
  const anchored = options.anchor && i === 0 && (kind === "commit" || kind === "reveal");
  if (anchored && kind === "commit") return;
  const block = anchored ? options.anchor!.blockNumber : plan.blockOf(slot);
  const blockHash = plan.blockHashOf(block);
  const txHash = anchored ? options.anchor!.txHash : plan.txHashOf(slot);
  const time = iso(anchored ? options.anchor!.blockTime : plan.blockTimeOf(block));
  const event = (log: number, contract: string, name: string, event: string, args: string): Row => [
    options.chainId,
    block,
    anchored ? options.anchor!.logIndex : plan.logIndexOf(slot, log),
    blockHash,
    txHash,
    slot % TXS_PER_BLOCK,
    contract,
    name,
    event,
    args,
    time,
  ];
  const fee = (amount: bigint) => (amount * 250n) / 10_000n;
  switch (kind) {
    case "commit":
      yield event(0, c.WorkRegistry, "WorkRegistry", "WorkCommitted", `{"workId":"${i + 1}"}`);
      return;
    case "reveal": {
      const parent = plan.parentOf(i);
      yield event(
        0,
        c.WorkRegistry,
        "WorkRegistry",
        "WorkRegistered",
        `{"cid":"${plan.cidOf(i)}","workId":"${i + 1}","creator":"${plan.creatorOfWork(i)}","parentId":"${parent === null ? 0 : parent + 1}","contentHash":"${plan.contentHashOf(i)}","metadataURI":"${plan.metadataUriOf(i)}","registeredAt":"${plan.blockTimeOf(block)}"}`,
      );
      return;
    }
    case "split": {
      const creator = plan.creatorOfWork(plan.workOfOffer(Math.floor((i * sizes.offers) / sizes.splits)));
      yield event(
        0,
        c.SplitFactory,
        "SplitFactory",
        "SplitCreated",
        `{"split":"${plan.splitAddress(i)}","createdBy":"${creator}","sharesBps":["7000","3000"],"recipients":["${creator}","${plan.holder(SALT.split, i)}"]}`,
      );
      return;
    }
    case "offer": {
      const w = plan.workOfOffer(i);
      yield event(
        0,
        c.LicenseToken,
        "LicenseToken",
        "OfferCreated",
        `{"price":"${plan.priceOf(i)}","split":"${plan.splitAddress(plan.splitOfOffer(i))}","workId":"${w + 1}","creator":"${plan.creatorOfWork(w)}","offerId":"${i + 1}","currency":"${ZERO_ADDRESS}","duration":"${plan.durationOf(i)}","maxSupply":"0","revocable":false,"territory":"WORLD","royaltyBps":"0","referrerBps":"0","transferable":true,"commercialUse":true}`,
      );
      return;
    }
    case "item":
      yield event(
        0,
        c.GameItems,
        "GameItems",
        "ItemDefined",
        `{"id":"${i + 1}","uri":"ipfs://item-${i + 1}","maxSupply":"0"}`,
      );
      return;
    case "purchase": {
      const o = plan.offerOfLicense(i);
      const holder = plan.holder(SALT.license, i);
      const amount = plan.priceOf(o);
      const split = plan.splitAddress(plan.splitOfOffer(o));
      const duration = plan.durationOf(o);
      yield event(
        0,
        c.LicenseToken,
        "LicenseToken",
        "Transfer",
        `{"to":"${holder}","from":"${ZERO_ADDRESS}","tokenId":"${i + 1}"}`,
      );
      yield event(
        1,
        c.LicenseToken,
        "LicenseToken",
        "LicenseIssued",
        `{"payer":"${holder}","holder":"${holder}","workId":"${plan.workOfOffer(o) + 1}","offerId":"${o + 1}","tokenId":"${i + 1}","expiresAt":"${duration === 0 ? 0 : plan.blockTimeOf(block) + duration}","paymentRef":"0x${"0".repeat(64)}"}`,
      );
      yield event(
        2,
        split,
        "RevenueSplit",
        "PaymentReceived",
        `{"from":"${c.LicenseToken}","amount":"${amount - fee(amount)}"}`,
      );
      yield event(
        3,
        c.LicenseToken,
        "LicenseToken",
        "RevenuePaid",
        `{"split":"${split}","amount":"${amount}","tokenId":"${i + 1}","currency":"${ZERO_ADDRESS}","referrer":"${ZERO_ADDRESS}","platformFee":"${fee(amount)}","referrerCommission":"0"}`,
      );
      return;
    }
    case "licenseTransfer": {
      const l = plan.licenseOfTransfer(i);
      yield event(
        0,
        c.LicenseToken,
        "LicenseToken",
        "Transfer",
        `{"to":"${plan.holder(SALT.license, sizes.licenses + i)}","from":"${plan.holder(SALT.license, l)}","tokenId":"${l + 1}"}`,
      );
      return;
    }
    case "list": {
      const seller = plan.holder(SALT.listing, i);
      const item = plan.itemOf(SALT.listing, i) + 1;
      yield event(
        0,
        c.GameItems,
        "GameItems",
        "TransferSingle",
        `{"id":"${item}","to":"${c.ItemEscrow}","from":"${seller}","value":"1","operator":"${c.ItemEscrow}"}`,
      );
      yield event(
        1,
        c.ItemEscrow,
        "ItemEscrow",
        "Listed",
        `{"id":"${item}","price":"${BigInt(1 + Math.floor(plan.rand(SALT.listing, i, 1) * 500)) * 10n ** 15n}","token":"${c.GameItems}","amount":"1","seller":"${seller}","currency":"${ZERO_ADDRESS}","deadline":"${plan.blockTimeOf(block) + 30 * 24 * 3600}","listingId":"${i + 1}","commissionBps":"250"}`,
      );
      return;
    }
    case "buy":
    case "confirm":
    case "claim": {
      const l = plan.closedListing(i);
      const buyer = plan.holder(SALT.listing, sizes.listings + l);
      if (kind === "buy") {
        yield event(
          0,
          c.ItemEscrow,
          "ItemEscrow",
          "Bought",
          `{"buyer":"${buyer}","confirmBy":"${plan.blockTimeOf(block) + 3 * 24 * 3600}","listingId":"${l + 1}"}`,
        );
      } else if (kind === "confirm") {
        yield event(
          0,
          c.ItemEscrow,
          "ItemEscrow",
          "Completed",
          `{"buyer":"${buyer}","seller":"${plan.holder(SALT.listing, l)}","settled":false,"listingId":"${l + 1}"}`,
        );
      } else {
        yield event(
          0,
          c.GameItems,
          "GameItems",
          "TransferSingle",
          `{"id":"${plan.itemOf(SALT.listing, l) + 1}","to":"${buyer}","from":"${c.ItemEscrow}","value":"1","operator":"${c.ItemEscrow}"}`,
        );
        yield event(
          1,
          c.ItemEscrow,
          "ItemEscrow",
          "ItemsClaimed",
          `{"to":"${buyer}","listingId":"${l + 1}"}`,
        );
      }
      return;
    }
    case "itemTransfer": {
      const from = plan.rand(SALT.item, i, 5) < 0.01 ? ZERO_ADDRESS : plan.holder(SALT.item, i);
      yield event(
        0,
        c.GameItems,
        "GameItems",
        "TransferSingle",
        `{"id":"${plan.itemOf(SALT.item, i) + 1}","to":"${plan.holder(SALT.item, sizes.itemTransfers + i)}","from":"${from}","value":"${1 + Math.floor(plan.rand(SALT.item, i, 6) * 10)}","operator":"${from}"}`,
      );
      return;
    }
  }
}

const EVENT_COLUMNS = [
  "chain_id",
  "block_number",
  "log_index",
  "block_hash",
  "tx_hash",
  "tx_index",
  "contract",
  "contract_name",
  "event_name",
  "args",
  "block_time",
];

/** What generateScaleData wrote. */
export interface ScaleResult {
  rows: Record<string, number>;
  events: number;
  lastBlock: number;
}

/**
 * Fills the (migrated, empty) database of `client` for `options`: every table above, chain_events
 * in chain order, and the indexer's checkpoint at the last block, all final. `progress` hears each
 * table as it is done.
 */
export async function generateScaleData(
  client: ClientBase,
  options: ScaleOptions,
  progress: (table: string, rows: number, seconds: number) => void = () => undefined,
): Promise<ScaleResult> {
  const plan = new ScalePlan(options);
  const rows: Record<string, number> = {};
  const timed = async (table: string, write: () => Promise<number>) => {
    const started = performance.now();
    rows[table] = await write();
    progress(table, rows[table], (performance.now() - started) / 1000);
  };
  for (const t of tables(plan)) await timed(t.table, () => copyInto(client, t.table, t.columns, t.rows()));
  await timed("chain_events", () =>
    copyInto(
      client,
      "chain_events",
      EVENT_COLUMNS,
      (function* () {
        for (let slot = 0; slot < plan.slotKind.length; slot++) yield* eventsOf(plan, slot);
      })(),
    ),
  );
  const last = plan.lastBlock;
  await client.query(
    `INSERT INTO indexer_state (chain_id, block_number, block_hash, head_block, safe_block, finalized_block, updated_at, anchor_block, anchor_hash)
     VALUES ($1, $2, $3, $2, $2, $2, now(), $4, $5)`,
    [
      options.chainId,
      last,
      plan.blockHashOf(last),
      plan.firstBlock - 1 || null,
      options.anchor?.blockHash ?? null,
    ],
  );
  return { rows, events: rows.chain_events!, lastBlock: last };
}

/** The tables generateScaleData fills (work_search through the triggers of works and work_metadata). */
export const SCALE_TABLES = [
  "uploads",
  "work_metadata",
  "works",
  "work_search",
  "splits",
  "offers",
  "licenses",
  "license_transfers",
  "revenue_payments",
  "split_receipts",
  "game_items",
  "item_balances",
  "listings",
  "listing_states",
  "item_transfers",
  "chain_events",
  "indexer_state",
];

/**
 * generateScaleData on a database the migrations created, the way bulk loads are done: the
 * secondary indexes of the filled tables are dropped, the rows copied, then every index created
 * again from its own definition (so the schema ends as the migrations left it) and the tables
 * vacuumed and analyzed, as autovacuum would have done by the time such a database serves.
 */
export async function buildScaleDatabase(
  client: ClientBase,
  options: ScaleOptions,
  progress: (step: string, detail: string) => void = () => undefined,
): Promise<ScaleResult> {
  const { rows: indexes } = await client.query<{ name: string; definition: string }>(
    `SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS definition
       FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
      WHERE t.relname = ANY($1::text[]) AND t.relnamespace = 'public'::regnamespace
        AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)`,
    [SCALE_TABLES],
  );
  for (const index of indexes) await client.query(`DROP INDEX ${index.name}`);
  const result = await generateScaleData(client, options, (table, rows, seconds) =>
    progress("copied", `${table}: ${rows.toLocaleString("en-US")} rows in ${seconds.toFixed(1)} s`),
  );
  await client.query(`SET maintenance_work_mem = '512MB'`);
  for (const index of indexes) {
    const started = performance.now();
    await client.query(index.definition);
    progress("indexed", `${index.name} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
  const started = performance.now();
  for (const table of SCALE_TABLES) await client.query(`VACUUM (ANALYZE) ${table}`);
  progress(
    "vacuumed",
    `${SCALE_TABLES.length} tables in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  return result;
}
