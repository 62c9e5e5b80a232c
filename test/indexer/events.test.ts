import type { HardhatEthersProvider } from "@nomicfoundation/hardhat-ethers/types";
import { expect } from "chai";
import { encodeBytes32String, ZeroAddress } from "ethers";
import type pg from "pg";
import { deployAll, type Deployed } from "../helpers/deployed.ts";
import { createChain, createIndexerEnv, type IndexerEnv } from "../helpers/indexer.ts";
import { commitAndReveal, sha256Hex } from "../helpers/registry.ts";
import { RevenueSplit__factory } from "../../types/typechain/index.ts";

const PRICE = 10n ** 16n;
const DAY = 24 * 3600;
const lower = (a: { address: string } | string) => (typeof a === "string" ? a : a.address).toLowerCase();

describe("indexed events of the deployed contracts", () => {
  let env: IndexerEnv;
  let db: pg.Pool;
  let d: Deployed;
  let split: string;
  let splitRecipients: string[];
  const paymentRef = encodeBytes32String("pi_card_1");
  const hashes = [sha256Hex("first"), sha256Hex("second version"), sha256Hex("batch leaf")];

  const rows = async (sql: string, params: unknown[] = []) => (await db.query(sql, params)).rows;

  before(async () => {
    env = await createIndexerEnv("events");
    db = env.database.pool;
    const { conn, provider } = await createChain();
    d = await deployAll(conn);
    const time = conn.networkHelpers.time;

    // Works: a first version, a new version, co-authors, an anchored batch.
    await commitAndReveal(d.registry, d.creator, hashes[0]!, { cid: "bafy-one", metadataURI: "ipfs://one" });
    await commitAndReveal(d.registry, d.creator, hashes[1]!, {
      cid: "bafy-two",
      metadataURI: "ipfs://two",
      parentId: 1n,
    });
    await (await d.registry.setCoAuthors(1, [d.coCreator.address])).wait();
    await (await d.registry.connect(d.relayer).anchorBatch(hashes[2]!, 1000, "bafy-manifest")).wait();
    // A squatter's later claim of the first work's file.
    await commitAndReveal(d.registry, d.buyer, hashes[0]!, {
      cid: "bafy-squat",
      metadataURI: "ipfs://squat",
    });

    // A 70/30 split, an offer sold for native currency with a referrer, renewed, sold by card, revoked.
    splitRecipients = [d.creator.address, d.coCreator.address];
    await (await d.splits.createSplit(splitRecipients, [7000, 3000])).wait();
    split = await d.splits.predictSplit(splitRecipients, [7000, 3000]);
    const offer = {
      workId: 1,
      currency: ZeroAddress,
      price: PRICE,
      duration: 30 * DAY,
      maxSupply: 10,
      transferable: true,
      commercialUse: true,
      referrerBps: 500,
      royaltyBps: 250,
      split,
      territory: "WORLD",
      revocable: false,
    };
    await (await d.licenses.createOffer(offer)).wait();
    await (await d.licenses.setReferrer(1, d.referrer.address, true)).wait();
    await (await d.licenses.setReferrer(1, d.buyer2.address, true)).wait();
    await (await d.licenses.setReferrer(1, d.buyer2.address, false)).wait();
    await (await d.licenses.cancelNonce(9)).wait();
    await (
      await d.licenses.connect(d.buyer).purchase(1, d.buyer.address, d.referrer.address, { value: PRICE })
    ).wait();
    await (await d.licenses.connect(d.buyer).renew(1, { value: PRICE })).wait();
    await (await d.licenses.connect(d.buyer).transferFrom(d.buyer.address, d.buyer2.address, 1)).wait();
    await (await d.licenses.connect(d.relayer).mintForFiat(1, d.buyer.address, paymentRef)).wait();
    await (await d.licenses.connect(d.relayer).revoke(2, 1)).wait();
    await (await d.licenses.setOfferActive(1, false)).wait();
    await (await d.licenses.connect(d.treasury).withdraw(ZeroAddress)).wait();
    await (await d.licenses.connect(d.admin).setPlatformFee(300)).wait();
    await (await d.licenses.connect(d.admin).setTreasury(d.treasury.address)).wait();
    const revenueSplit = RevenueSplit__factory.connect(split, d.coCreator);
    await (await revenueSplit.release(ZeroAddress, d.coCreator.address)).wait();

    // Items: defined, re-URI'd, minted singly and in a batch.
    await (await d.items.defineItem(1, "ipfs://sword", 100)).wait();
    await (await d.items.defineItem(2, "ipfs://potion", 0)).wait();
    await (await d.items.setItemURI(1, "ipfs://sword-v2")).wait();
    await (await d.items.mint(d.buyer.address, 1, 10, "0x")).wait();
    await (await d.items.mintBatch(d.buyer2.address, [1, 2], [5, 50], "0x")).wait();
    await (await d.items.connect(d.buyer).setApprovalForAll(await d.escrow.getAddress(), true)).wait();
    await (await d.items.connect(d.buyer2).setApprovalForAll(await d.escrow.getAddress(), true)).wait();

    // Escrow: completed by confirmation, refunded, dispute rejected, cancelled, expired, and a dispute handed
    // to another arbiter that nobody resolved in time; the sides of ended trades claimed.
    const itemsAddress = await d.items.getAddress();
    const deadline = (await time.latest()) + 7 * DAY;
    const seller = d.escrow.connect(d.buyer);
    const other = d.escrow.connect(d.buyer2);
    for (let i = 0; i < 6; i++)
      await (await seller.list(itemsAddress, 1, 1, PRICE, ZeroAddress, deadline)).wait();
    await (await other.buy(1, { value: PRICE })).wait();
    await (await other.confirm(1)).wait();
    await (await other.claimItems(1)).wait();
    await (await seller.claimFunds(1)).wait();
    await (await other.buy(2, { value: PRICE })).wait();
    await (await other.dispute(2)).wait();
    await (await d.escrow.connect(d.arbiter).resolve(2, true)).wait();
    await (await other.claimFunds(2)).wait();
    await (await seller.claimItems(2)).wait();
    await (await other.buy(3, { value: PRICE })).wait();
    await (await other.dispute(3)).wait();
    await (await d.escrow.connect(d.arbiter).resolve(3, false)).wait();
    await (await seller.cancel(4)).wait();
    await (await other.buy(6, { value: PRICE })).wait();
    await (await other.dispute(6)).wait();
    await (await d.escrow.connect(d.admin).assignArbiter(6, d.coCreator.address)).wait();
    await time.increase(8 * DAY);
    await (await other.reclaim(5)).wait();
    await (await other.unwind(6)).wait();
    await (await d.escrow.connect(d.treasury).withdraw(ZeroAddress)).wait();
    await (await d.escrow.connect(d.admin).setCommission(300)).wait();
    await (await d.escrow.connect(d.admin).setConfirmationWindow(2 * DAY)).wait();
    await (await d.escrow.connect(d.admin).setDisputeWindow(2 * DAY)).wait();
    await (await d.escrow.connect(d.admin).setTreasury(d.treasury.address)).wait();

    const indexer = env.indexer({ provider: provider as HardhatEthersProvider, deployment: d.deployment });
    await indexer.syncToHead();
  });

  after(async () => {
    await env.close();
  });

  it("keeps every event of the followed contracts raw, with decoded arguments", async () => {
    const counts = await rows(
      "SELECT contract_name, event_name, count(*)::int AS n FROM chain_events GROUP BY 1, 2 ORDER BY 1, 2",
    );
    const seen = Object.fromEntries(counts.map((r) => [`${r.contract_name}.${r.event_name}`, r.n]));
    for (const name of [
      "WorkRegistry.WorkCommitted",
      "WorkRegistry.WorkRegistered",
      "WorkRegistry.ClaimSuperseded",
      "WorkRegistry.CoAuthorsSet",
      "WorkRegistry.BatchAnchored",
      "WorkRegistry.RoleGranted",
      "SplitFactory.SplitCreated",
      "RevenueSplit.PaymentReceived",
      "RevenueSplit.PaymentReleased",
      "LicenseToken.OfferCreated",
      "LicenseToken.OfferActiveSet",
      "LicenseToken.LicenseIssued",
      "LicenseToken.LicenseRenewed",
      "LicenseToken.LicenseRevoked",
      "LicenseToken.ReferrerSet",
      "LicenseToken.NonceCancelled",
      "LicenseToken.RevenuePaid",
      "LicenseToken.Withdrawn",
      "LicenseToken.PlatformFeeSet",
      "LicenseToken.TreasurySet",
      "LicenseToken.Transfer",
      "GameItems.ItemDefined",
      "GameItems.URI",
      "GameItems.TransferSingle",
      "GameItems.TransferBatch",
      "GameItems.ApprovalForAll",
      "ItemEscrow.Listed",
      "ItemEscrow.Bought",
      "ItemEscrow.Completed",
      "ItemEscrow.Disputed",
      "ItemEscrow.DisputeRejected",
      "ItemEscrow.Refunded",
      "ItemEscrow.Cancelled",
      "ItemEscrow.Expired",
      "ItemEscrow.ItemsClaimed",
      "ItemEscrow.FundsClaimed",
      "ItemEscrow.ArbiterAssigned",
      "ItemEscrow.Withdrawn",
      "ItemEscrow.CommissionSet",
      "ItemEscrow.ConfirmationWindowSet",
      "ItemEscrow.DisputeWindowSet",
      "ItemEscrow.ArbiterSet",
      "ItemEscrow.ItemTokenSet",
      "ItemEscrow.TreasurySet",
    ]) {
      expect(seen[name], name).to.be.greaterThan(0);
    }
    const [registered] = await rows(
      "SELECT contract, args FROM chain_events WHERE event_name = 'WorkRegistered' ORDER BY block_number LIMIT 1",
    );
    expect(registered.contract).to.equal(lower(d.deployment.contracts.WorkRegistry.address));
    expect(registered.args).to.deep.include({
      workId: "1",
      contentHash: hashes[0],
      creator: lower(d.creator),
      parentId: "0",
      cid: "bafy-one",
      metadataURI: "ipfs://one",
    });
    expect(registered.args.registeredAt).to.match(/^[1-9][0-9]*$/);
  });

  it("keeps a later claim of a registered file as superseded by the earlier one, never as its work", async () => {
    const claims = await rows(
      "SELECT work_id::text, creator, superseded_by::text FROM works WHERE content_hash = $1 ORDER BY work_id",
      [hashes[0]],
    );
    expect(claims).to.have.length(2);
    expect(claims[0]).to.deep.equal({ work_id: "1", creator: lower(d.creator), superseded_by: null });
    expect(claims[1]).to.deep.include({ creator: lower(d.buyer), superseded_by: "1" });
  });

  it("records works with their version chain and co-authors, findable by creator and content hash", async () => {
    const works = await rows(
      "SELECT work_id, content_hash, creator, parent_id, root_id, version, cid, metadata_uri, co_authors FROM works WHERE superseded_by IS NULL ORDER BY work_id",
    );
    expect(works).to.deep.equal([
      {
        work_id: "1",
        content_hash: hashes[0],
        creator: lower(d.creator),
        parent_id: null,
        root_id: "1",
        version: 1,
        cid: "bafy-one",
        metadata_uri: "ipfs://one",
        co_authors: [lower(d.coCreator)],
      },
      {
        work_id: "2",
        content_hash: hashes[1],
        creator: lower(d.creator),
        parent_id: "1",
        root_id: "1",
        version: 2,
        cid: "bafy-two",
        metadata_uri: "ipfs://two",
        co_authors: [],
      },
    ]);
    const byHash = await rows("SELECT work_id FROM works WHERE content_hash = $1", [hashes[1]]);
    expect(await rows("SELECT work_id FROM works WHERE creator = $1", [lower(d.creator)])).to.have.length(2);
    expect(byHash).to.deep.equal([{ work_id: "2" }]);
  });

  it("records anchored batches", async () => {
    const batches = await rows(
      "SELECT batch_id, merkle_root, submitter, leaf_count, first_work_id, manifest_cid FROM batches",
    );
    expect(batches).to.deep.equal([
      {
        batch_id: "1",
        merkle_root: hashes[2],
        submitter: lower(d.relayer),
        leaf_count: "1000",
        first_work_id: "3",
        manifest_cid: "bafy-manifest",
      },
    ]);
  });

  it("records the offer with its terms, sales count and active flag", async () => {
    const offers = await rows("SELECT * FROM offers");
    expect(offers).to.have.length(1);
    expect(offers[0]).to.include({
      offer_id: "1",
      work_id: "1",
      creator: lower(d.creator),
      currency: ZeroAddress,
      price: PRICE.toString(),
      duration: String(30 * DAY),
      max_supply: "10",
      sold: "2",
      transferable: true,
      commercial_use: true,
      referrer_bps: 500,
      royalty_bps: 250,
      split: lower(split),
      territory: "WORLD",
      revocable: false,
      platform_fee_bps: 250,
      active: false,
    });
  });

  it("records each referrer's approval on an offer as last set, a withdrawn one included", async () => {
    const approvals = await rows(
      "SELECT offer_id::text, referrer, approved, block_number FROM offer_referrers ORDER BY block_number",
    );
    expect(approvals.map(({ block_number: _, ...a }) => a)).to.deep.equal([
      { offer_id: "1", referrer: lower(d.referrer), approved: true },
      { offer_id: "1", referrer: lower(d.buyer2), approved: false },
    ]);
    const [withdrawn] = await rows(
      "SELECT block_number FROM chain_events WHERE event_name = 'ReferrerSet' ORDER BY block_number DESC LIMIT 1",
    );
    expect(approvals[1].block_number).to.equal(withdrawn.block_number);
  });

  it("records licenses with holder after transfer, expiry after renewal, revocation and card payment", async () => {
    const licenses = await rows(
      "SELECT token_id, offer_id, work_id, holder, payer, payment_ref, renewals, revoked, revoked_by, revoked_reason FROM licenses ORDER BY token_id",
    );
    expect(licenses).to.deep.equal([
      {
        token_id: "1",
        offer_id: "1",
        work_id: "1",
        holder: lower(d.buyer2),
        payer: lower(d.buyer),
        payment_ref: null,
        renewals: 1,
        revoked: false,
        revoked_by: null,
        revoked_reason: null,
      },
      {
        token_id: "2",
        offer_id: "1",
        work_id: "1",
        holder: lower(d.buyer),
        payer: lower(d.relayer),
        payment_ref: paymentRef,
        renewals: 0,
        revoked: true,
        revoked_by: lower(d.relayer),
        revoked_reason: "card_chargeback",
      },
    ]);
    const onChain = await d.licenses.getLicense(1);
    const [first] = await rows("SELECT expires_at FROM licenses WHERE token_id = 1");
    expect(first.expires_at).to.equal(onChain.expiresAt.toString());
    const renewals = await rows("SELECT token_id, payer, expires_at FROM license_renewals");
    expect(renewals).to.deep.equal([
      { token_id: "1", payer: lower(d.buyer), expires_at: onChain.expiresAt.toString() },
    ]);
    const byHolder = await rows("SELECT token_id FROM licenses WHERE holder = $1", [lower(d.buyer2)]);
    expect(byHolder).to.deep.equal([{ token_id: "1" }]);
    const transfers = await rows(
      "SELECT token_id, from_address, to_address FROM license_transfers ORDER BY block_number",
    );
    expect(transfers).to.deep.equal([
      { token_id: "1", from_address: ZeroAddress, to_address: lower(d.buyer) },
      { token_id: "1", from_address: lower(d.buyer), to_address: lower(d.buyer2) },
      { token_id: "2", from_address: ZeroAddress, to_address: lower(d.buyer) },
    ]);
  });

  it("records card payments by payment reference", async () => {
    const payments = await rows("SELECT payment_ref, token_id, offer_id, work_id, holder FROM payments");
    expect(payments).to.deep.equal([
      { payment_ref: paymentRef, token_id: "2", offer_id: "1", work_id: "1", holder: lower(d.buyer) },
    ]);
  });

  it("records revenue of every sale and renewal with fee and referrer commission", async () => {
    const revenue = await rows(
      "SELECT token_id, currency, split, amount, platform_fee, referrer, referrer_commission FROM revenue_payments ORDER BY block_number",
    );
    const fee = ((PRICE * 250n) / 10_000n).toString();
    expect(revenue).to.deep.equal([
      {
        token_id: "1",
        currency: ZeroAddress,
        split: lower(split),
        amount: PRICE.toString(),
        platform_fee: fee,
        referrer: lower(d.referrer),
        referrer_commission: ((PRICE * 500n) / 10_000n).toString(),
      },
      {
        token_id: "1",
        currency: ZeroAddress,
        split: lower(split),
        amount: PRICE.toString(),
        platform_fee: fee,
        referrer: ZeroAddress,
        referrer_commission: "0",
      },
    ]);
  });

  it("records the split, what it received and what it paid out", async () => {
    const splits = await rows("SELECT split, created_by, recipients, shares_bps FROM splits");
    expect(splits).to.deep.equal([
      {
        split: lower(split),
        created_by: lower(d.creator),
        recipients: splitRecipients.map(lower),
        shares_bps: [7000, 3000],
      },
    ]);
    const receipts = await rows("SELECT split, sender, amount FROM split_receipts ORDER BY block_number");
    const toSplit = (PRICE - (PRICE * 250n) / 10_000n - (PRICE * 500n) / 10_000n).toString();
    const toSplitRenewal = (PRICE - (PRICE * 250n) / 10_000n).toString();
    const licensesAddress = lower(d.deployment.contracts.LicenseToken.address);
    expect(receipts).to.deep.equal([
      { split: lower(split), sender: licensesAddress, amount: toSplit },
      { split: lower(split), sender: licensesAddress, amount: toSplitRenewal },
    ]);
    const payouts = await rows("SELECT split, currency, account, amount FROM split_payouts");
    const released = await RevenueSplit__factory.connect(split, d.coCreator).released(
      ZeroAddress,
      d.coCreator.address,
    );
    expect(payouts).to.deep.equal([
      {
        split: lower(split),
        currency: ZeroAddress,
        account: lower(d.coCreator),
        amount: released.toString(),
      },
    ]);
  });

  it("records withdrawals from the license contract and the escrow", async () => {
    const withdrawals = await rows(
      "SELECT contract, account, currency FROM withdrawals ORDER BY block_number",
    );
    expect(withdrawals).to.deep.equal([
      {
        contract: lower(d.deployment.contracts.LicenseToken.address),
        account: lower(d.treasury),
        currency: ZeroAddress,
      },
      {
        contract: lower(d.deployment.contracts.ItemEscrow.address),
        account: lower(d.treasury),
        currency: ZeroAddress,
      },
    ]);
  });

  it("records item types with their latest URI and minted supply", async () => {
    const items = await rows(
      "SELECT item_id, uri, max_supply, minted, burned FROM game_items ORDER BY item_id",
    );
    expect(items).to.deep.equal([
      { item_id: "1", uri: "ipfs://sword-v2", max_supply: "100", minted: "15", burned: "0" },
      { item_id: "2", uri: "ipfs://potion", max_supply: "0", minted: "50", burned: "0" },
    ]);
  });

  it("keeps item balances equal to the contract's, escrowed items included", async () => {
    const balances = await rows("SELECT item_id, owner, balance FROM item_balances ORDER BY item_id, owner");
    for (const row of balances) {
      expect(row.balance, `${row.item_id} of ${row.owner}`).to.equal(
        (await d.items.balanceOf(row.owner, row.item_id)).toString(),
      );
    }
    const owners = new Set(balances.map((b) => b.owner));
    for (const account of [d.buyer, d.buyer2]) expect(owners.has(lower(account))).to.equal(true);
    const transfers = await rows("SELECT count(*)::int AS n FROM item_transfers WHERE item_id = 2");
    expect(transfers[0].n).to.equal(1);
  });

  it("records each listing's final state, what was claimed, and its state history", async () => {
    const listings = await rows(
      `SELECT listing_id, seller, item_id, amount, price, state, buyer, settled, arbiter, commission_bps,
              assigned_arbiter, items_claimed, funds_claimed FROM listings ORDER BY listing_id`,
    );
    const seller = lower(d.buyer);
    const buyer = lower(d.buyer2);
    const arbiter = lower(d.arbiter);
    const base = { seller, item_id: "1", amount: "1", price: PRICE.toString(), commission_bps: 250 };
    const none = { assigned_arbiter: null };
    expect(listings).to.deep.equal([
      {
        listing_id: "1",
        ...base,
        ...none,
        state: "completed",
        buyer,
        settled: false,
        arbiter: null,
        items_claimed: true,
        funds_claimed: true,
      },
      {
        listing_id: "2",
        ...base,
        ...none,
        state: "refunded",
        buyer,
        settled: null,
        arbiter,
        items_claimed: true,
        funds_claimed: true,
      },
      {
        listing_id: "3",
        ...base,
        ...none,
        state: "completed",
        buyer,
        settled: false,
        arbiter,
        items_claimed: false,
        funds_claimed: false,
      },
      {
        listing_id: "4",
        ...base,
        ...none,
        state: "cancelled",
        buyer: null,
        settled: null,
        arbiter: null,
        items_claimed: true,
        funds_claimed: false,
      },
      {
        listing_id: "5",
        ...base,
        ...none,
        state: "expired",
        buyer: null,
        settled: null,
        arbiter: null,
        items_claimed: true,
        funds_claimed: false,
      },
      {
        listing_id: "6",
        ...base,
        state: "refunded",
        buyer,
        settled: null,
        arbiter: null,
        assigned_arbiter: lower(d.coCreator),
        items_claimed: false,
        funds_claimed: false,
      },
    ]);
    const history = await rows(
      "SELECT event, state FROM listing_states WHERE listing_id = 3 ORDER BY block_number, log_index",
    );
    expect(history).to.deep.equal([
      { event: "Listed", state: "listed" },
      { event: "Bought", state: "paid" },
      { event: "Disputed", state: "disputed" },
      { event: "DisputeRejected", state: "disputed" },
      { event: "Completed", state: "completed" },
    ]);
    const [completed] = await rows("SELECT seller_proceeds, commission FROM listings WHERE listing_id = 1");
    const commission = (PRICE * 250n) / 10_000n;
    expect(completed).to.deep.equal({
      seller_proceeds: (PRICE - commission).toString(),
      commission: commission.toString(),
    });
  });

  it("gives every derived row the block and raw event it came from", async () => {
    for (const table of [
      "works",
      "offers",
      "offer_referrers",
      "licenses",
      "license_renewals",
      "payments",
      "revenue_payments",
      "splits",
      "listings",
      "listing_states",
      "game_items",
    ]) {
      const orphans = await rows(
        `SELECT count(*)::int AS n FROM ${table} t
         WHERE NOT EXISTS (SELECT 1 FROM chain_events e WHERE e.block_number = t.block_number AND e.log_index = t.log_index AND e.tx_hash = t.tx_hash)`,
      );
      expect(orphans[0].n, table).to.equal(0);
    }
  });

  it("stores the chain's heads so the API can tell pending, safe and final rows apart", async () => {
    const [state] = await rows(
      "SELECT block_number, head_block, safe_block, finalized_block FROM indexer_state",
    );
    const head = Number(state.head_block);
    expect(Number(state.block_number)).to.equal(head);
    expect(Number(state.safe_block)).to.equal(head - 4);
    expect(Number(state.finalized_block)).to.equal(head - 12);
  });
});
