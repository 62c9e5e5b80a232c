import { Contract, Interface, ZeroAddress, type Provider } from "ethers";
import type { ChainHeads } from "../../lib/finality.ts";
import type { Deployment } from "../../lib/deployment.ts";
import {
  GameItems__factory,
  ItemEscrow__factory,
  type GameItems,
  type ItemEscrow,
} from "../../types/typechain/index.ts";
import { AppError, notFound } from "../errors.ts";
import { checksum } from "../../lib/address.ts";
import type { Page } from "../../lib/api/primitives.ts";
import type { TransactionRequest } from "../../lib/api/transactions.ts";
import type { TradesRepository } from "../repositories/trades.ts";
import {
  type ListItemsRequest,
  type ListTradesQuery,
  type Trade,
  type TradeWithHistory,
  TRADE_STATES,
} from "../../lib/api/trades.ts";

export interface TradesServiceDeps {
  provider: Provider;
  deployment: Deployment;
  chainId: number;
  trades: TradesRepository;
  heads(): Promise<ChainHeads>;
}

/** `IItemEscrow.State`, by its index. */
const STATES = ["none", ...TRADE_STATES] as const;
type ChainState = (typeof STATES)[number];

const ERC20 = new Interface([
  "function allowance(address owner, address spender) view returns (uint256)",
  "function approve(address spender, uint256 amount) returns (bool)",
]);

/** A listing as the escrow holds it now. */
export interface ChainListing {
  seller: string;
  buyer: string;
  state: ChainState;
  deadline: bigint;
  confirmBy: bigint;
  resolveBy: bigint;
  arbiter: string;
  currency: string;
  price: bigint;
  itemsClaimed: boolean;
  fundsClaimed: boolean;
}

/**
 * Player-to-player trades through ItemEscrow. Players send from their own wallets: this service
 * reads state (indexer for lists and history, the chain for preconditions) and answers the
 * ready-to-sign transactions of each step, approvals first when one is missing. Once a trade with
 * a buyer ends, each party claims its own side. The arbiter's resolution is prepared the same way
 * for the listing's arbiter; the platform never holds that key.
 */
export class TradesService {
  readonly #escrow: ItemEscrow;
  readonly #items: GameItems;
  readonly #escrowAddress: string;

  constructor(private readonly deps: TradesServiceDeps) {
    this.#escrowAddress = deps.deployment.contracts.ItemEscrow.address;
    this.#escrow = ItemEscrow__factory.connect(this.#escrowAddress, deps.provider);
    this.#items = GameItems__factory.connect(deps.deployment.contracts.GameItems.address, deps.provider);
  }

  list(query: ListTradesQuery): Promise<Page<Trade>> {
    return this.deps.heads().then((heads) => this.deps.trades.list(query, heads));
  }

  async get(tradeId: string): Promise<TradeWithHistory> {
    const heads = await this.deps.heads();
    const trade = await this.deps.trades.find(tradeId, heads);
    if (!trade) throw notFound("trade", { listingId: tradeId });
    return { ...trade, history: await this.deps.trades.history(tradeId, heads) };
  }

  /** Listing: approval of the escrow for the seller's items if missing, then `list`. */
  async prepareList(input: ListItemsRequest): Promise<TransactionRequest[]> {
    const now = await this.#now();
    if (BigInt(input.deadline) <= now)
      throw new AppError("INVALID_DEADLINE", 400, "deadline must be in the future");
    const [balance, approved] = await Promise.all([
      this.#items.balanceOf(input.seller, input.itemId),
      this.#items.isApprovedForAll(input.seller, this.#escrowAddress),
    ]);
    if (balance < BigInt(input.amount)) {
      throw new AppError("INSUFFICIENT_ITEMS", 409, `the seller holds ${balance} of item ${input.itemId}`, {
        balance: balance.toString(),
      });
    }
    const transactions: TransactionRequest[] = [];
    if (!approved) {
      transactions.push(
        this.#request(
          input.seller,
          this.#items,
          "Allow the escrow to move your items when you list them",
          "setApprovalForAll",
          [this.#escrowAddress, true],
        ),
      );
    }
    transactions.push(
      this.#request(
        input.seller,
        this.#escrow,
        `List ${input.amount} of item ${input.itemId} for ${input.price}`,
        "list",
        [
          this.#items.target,
          BigInt(input.itemId),
          BigInt(input.amount),
          BigInt(input.price),
          input.currency,
          BigInt(input.deadline),
        ],
      ),
    );
    return transactions;
  }

  /** Buying: approval of the escrow for the price if paid in a token and missing, then `buy` (with the price attached if native). */
  async prepareBuy(tradeId: string, buyer: string): Promise<TransactionRequest[]> {
    const listing = await this.#listing(tradeId, ["listed"]);
    if (listing.seller === buyer)
      throw new AppError("SELLER_CANNOT_BUY", 409, "the seller cannot buy their own listing");
    if ((await this.#now()) > listing.deadline)
      throw new AppError("DEADLINE_PASSED", 409, `trade ${tradeId} can no longer be bought`);
    const transactions: TransactionRequest[] = [];
    const native = listing.currency === ZeroAddress.toLowerCase();
    if (!native) {
      const token = new Contract(listing.currency, ERC20, this.deps.provider);
      const allowance = (await token.getFunction("allowance")(buyer, this.#escrowAddress)) as bigint;
      if (allowance < listing.price) {
        transactions.push({
          description: `Allow the escrow to take ${listing.price} of token ${checksum(listing.currency)} for trade ${tradeId}`,
          chainId: this.deps.chainId,
          from: checksum(buyer)!,
          to: checksum(listing.currency)!,
          data: ERC20.encodeFunctionData("approve", [this.#escrowAddress, listing.price]),
          value: "0",
        });
      }
    }
    transactions.push({
      ...this.#request(buyer, this.#escrow, `Pay ${listing.price} into escrow for trade ${tradeId}`, "buy", [
        BigInt(tradeId),
      ]),
      value: native ? listing.price.toString() : "0",
    });
    return transactions;
  }

  /** Confirming the purchase: the buyer may then claim the items and the seller the proceeds. */
  async prepareConfirm(tradeId: string, buyer: string): Promise<TransactionRequest[]> {
    const listing = await this.#listing(tradeId, ["paid"]);
    this.#requireBuyer(tradeId, listing, buyer);
    return [
      this.#request(buyer, this.#escrow, `Confirm you received the items of trade ${tradeId}`, "confirm", [
        BigInt(tradeId),
      ]),
    ];
  }

  /** Disputing within the confirmation window; the arbiter decides. */
  async prepareDispute(tradeId: string, buyer: string): Promise<TransactionRequest[]> {
    const listing = await this.#listing(tradeId, ["paid"]);
    this.#requireBuyer(tradeId, listing, buyer);
    if ((await this.#now()) > listing.confirmBy) {
      throw new AppError("WINDOW_CLOSED", 409, `the confirmation window of trade ${tradeId} has closed`);
    }
    return [this.#request(buyer, this.#escrow, `Dispute trade ${tradeId}`, "dispute", [BigInt(tradeId)])];
  }

  /** Cancelling an unpaid listing; the items go back to the seller. */
  async prepareCancel(tradeId: string, seller: string): Promise<TransactionRequest[]> {
    const listing = await this.#listing(tradeId, ["listed"]);
    if (listing.seller !== seller)
      throw new AppError("NOT_SELLER", 403, `trade ${tradeId} was listed by another wallet`);
    return [this.#request(seller, this.#escrow, `Cancel trade ${tradeId}`, "cancel", [BigInt(tradeId)])];
  }

  /** Reclaiming the items of an unsold listing whose deadline passed, for the seller; anyone may send it. */
  async prepareReclaim(tradeId: string, caller: string): Promise<TransactionRequest[]> {
    const listing = await this.#listing(tradeId, ["listed"]);
    if ((await this.#now()) <= listing.deadline) {
      throw new AppError(
        "DEADLINE_NOT_REACHED",
        409,
        `trade ${tradeId} can still be bought until its deadline`,
        {
          deadline: new Date(Number(listing.deadline) * 1000).toISOString(),
        },
      );
    }
    return [
      this.#request(
        caller,
        this.#escrow,
        `Return the unsold items of trade ${tradeId} to the seller`,
        "reclaim",
        [BigInt(tradeId)],
      ),
    ];
  }

  /** Settling a paid trade whose confirmation window lapsed without a dispute; anyone may send it. */
  async prepareSettle(tradeId: string, caller: string): Promise<TransactionRequest[]> {
    const listing = await this.#listing(tradeId, ["paid"]);
    if ((await this.#now()) <= listing.confirmBy) {
      throw new AppError("WINDOW_OPEN", 409, `the confirmation window of trade ${tradeId} is still open`);
    }
    return [this.#request(caller, this.#escrow, `Settle trade ${tradeId}`, "settle", [BigInt(tradeId)])];
  }

  /**
   * Taking one side of an ended trade out of escrow: the items go to the buyer of a sale and back to the
   * seller of a refund, the money the other way.
   */
  async prepareClaim(
    tradeId: string,
    wallet: string,
    side: "items" | "funds",
  ): Promise<TransactionRequest[]> {
    const listing = await this.#listing(tradeId, ["completed", "refunded"]);
    const toBuyer = (listing.state === "completed") === (side === "items");
    const claimant = toBuyer ? listing.buyer : listing.seller;
    if (wallet !== claimant) {
      throw new AppError("NOT_CLAIMANT", 403, `this side of trade ${tradeId} belongs to another wallet`, {
        claimant: checksum(claimant),
      });
    }
    if (side === "items" ? listing.itemsClaimed : listing.fundsClaimed)
      throw new AppError("ALREADY_CLAIMED", 409, `the ${side} of trade ${tradeId} were already claimed`);
    const what = side === "items" ? "items" : "money";
    return [
      this.#request(
        wallet,
        this.#escrow,
        `Take the ${what} of trade ${tradeId} out of escrow`,
        side === "items" ? "claimItems" : "claimFunds",
        [BigInt(tradeId)],
      ),
    ];
  }

  /** Unwinding a dispute nobody resolved by its deadline; anyone may send it. */
  async prepareUnwind(tradeId: string, caller: string): Promise<TransactionRequest[]> {
    const listing = await this.#listing(tradeId, ["disputed"]);
    if ((await this.#now()) <= listing.resolveBy) {
      throw new AppError(
        "RESOLUTION_OPEN",
        409,
        `the arbiter of trade ${tradeId} still has time to resolve it`,
      );
    }
    return [this.#request(caller, this.#escrow, `Unwind trade ${tradeId}`, "unwind", [BigInt(tradeId)])];
  }

  /** Pulling what the escrow owes a wallet in a currency (the treasury's commissions). */
  async prepareWithdraw(account: string, currency: string): Promise<TransactionRequest[]> {
    const owed = await this.#escrow.owed(account, currency);
    if (owed === 0n)
      throw new AppError("NOTHING_TO_WITHDRAW", 409, "the escrow owes this wallet nothing in that currency");
    return [this.#request(account, this.#escrow, `Withdraw ${owed} from the escrow`, "withdraw", [currency])];
  }

  /** Handing a dispute to another arbiter, for the admin's wallet to sign. */
  async prepareAssignArbiter(tradeId: string, arbiter: string): Promise<TransactionRequest[]> {
    await this.#listing(tradeId, ["disputed"]);
    return [
      this.#request(
        this.deps.deployment.roles.admin.toLowerCase(),
        this.#escrow,
        `Hand the dispute of trade ${tradeId} to ${checksum(arbiter)}`,
        "assignArbiter",
        [BigInt(tradeId), arbiter],
      ),
    ];
  }

  /** The resolution of a dispute, for the listing's arbiter to sign before the dispute's deadline. */
  async prepareResolve(tradeId: string, refundBuyer: boolean): Promise<TransactionRequest[]> {
    const listing = await this.#listing(tradeId, ["disputed"]);
    if ((await this.#now()) > listing.resolveBy) {
      throw new AppError(
        "RESOLUTION_CLOSED",
        409,
        `the dispute of trade ${tradeId} passed its deadline; anyone can now unwind it`,
      );
    }
    return [
      this.#request(
        listing.arbiter,
        this.#escrow,
        refundBuyer
          ? `Resolve trade ${tradeId}: refund the buyer, items back to the seller`
          : `Resolve trade ${tradeId}: complete the sale`,
        "resolve",
        [BigInt(tradeId), refundBuyer],
      ),
    ];
  }

  /** The commission of new listings, for the admin's wallet to sign; at most the escrow's cap. */
  prepareSetCommission(commissionBps: number): TransactionRequest[] {
    return [
      this.#request(
        this.deps.deployment.roles.admin.toLowerCase(),
        this.#escrow,
        `Charge new listings a commission of ${commissionBps / 100}%`,
        "setCommission",
        [commissionBps],
      ),
    ];
  }

  /** The listing as the escrow holds it now, in any state; 404 when there is none. */
  chainListing(tradeId: string): Promise<ChainListing> {
    return this.#listing(tradeId, [...TRADE_STATES]);
  }

  /** The chain's time now, in Unix seconds. */
  now(): Promise<bigint> {
    return this.#now();
  }

  async #now(): Promise<bigint> {
    const block = await this.deps.provider.getBlock("latest");
    return BigInt(block?.timestamp ?? Math.floor(Date.now() / 1000));
  }

  /** The listing as the chain has it now, required to be in one of `states`. */
  async #listing(tradeId: string, states: ChainState[]): Promise<ChainListing> {
    const count = await this.#escrow.listingCount();
    if (BigInt(tradeId) > count) throw notFound("trade", { listingId: tradeId });
    const l = await this.#escrow.getListing(tradeId);
    const state = STATES[Number(l.state)]!;
    if (!states.includes(state)) {
      throw new AppError(
        "INVALID_STATE",
        409,
        `trade ${tradeId} is ${state}; this step needs it ${states.join(" or ")}`,
        {
          state,
        },
      );
    }
    return {
      seller: l.seller.toLowerCase(),
      buyer: l.buyer.toLowerCase(),
      state,
      deadline: l.deadline,
      confirmBy: l.confirmBy,
      resolveBy: l.resolveBy,
      arbiter: l.arbiter.toLowerCase(),
      currency: l.currency.toLowerCase(),
      price: l.price,
      itemsClaimed: l.itemsClaimed,
      fundsClaimed: l.fundsClaimed,
    };
  }

  #requireBuyer(tradeId: string, listing: ChainListing, buyer: string): void {
    if (listing.buyer !== buyer)
      throw new AppError("NOT_BUYER", 403, `trade ${tradeId} was bought by another wallet`);
  }

  #request(
    from: string,
    contract: ItemEscrow | GameItems,
    description: string,
    method: string,
    args: unknown[],
  ): TransactionRequest {
    return {
      description,
      chainId: this.deps.chainId,
      from: checksum(from)!,
      to: checksum(String(contract.target).toLowerCase())!,
      data: contract.interface.encodeFunctionData(method as never, args as never),
      value: "0",
    };
  }
}
