// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IPullPayments} from "./IPullPayments.sol";

/// @title Escrow for player-to-player trades of ERC-1155 game items
/// @notice A seller lists items (moved into escrow) at a commission fixed then; a buyer pays (held in escrow);
/// the buyer confirms, or the confirmation window lapses and anyone settles. A buyer can dispute within the
/// window; the listing's arbiter resolves it before the dispute deadline, after which anyone can unwind the
/// trade. Once a trade with a buyer ends, each party pulls what it is owed on its own — the buyer or seller
/// its items with `claimItems`, the other its money with `claimFunds` — so neither can block the other.
/// Commissions accrue to the treasury and are withdrawn with `withdraw`.
interface IItemEscrow is IPullPayments {
    enum State {
        None,
        Listed,
        Paid,
        Disputed,
        Completed,
        Cancelled,
        Expired,
        Refunded
    }

    struct Listing {
        address seller;
        uint64 deadline; // last moment a buyer can pay
        State state;
        uint16 commissionBps; // fixed when listed
        address buyer;
        uint64 confirmBy; // end of the confirmation window once paid
        uint64 resolveBy; // end of the arbiter's time once disputed
        address arbiter; // who may resolve a dispute of this listing
        address token; // ERC-1155 contract
        address currency; // address(0) for native currency
        uint256 id;
        uint256 amount;
        uint256 price;
        bool itemsClaimed;
        bool fundsClaimed;
    }

    /// @notice A seller moved `amount` of item `id` into escrow, for sale at `price` until `deadline`.
    event Listed(
        uint256 indexed listingId,
        address indexed seller,
        address indexed token,
        uint256 id,
        uint256 amount,
        uint256 price,
        address currency,
        uint64 deadline,
        uint16 commissionBps
    );
    /// @notice The seller cancelled an unpaid listing; the items went back to them.
    event Cancelled(uint256 indexed listingId, address indexed seller);
    /// @notice An unpaid listing's deadline passed; the items went back to the seller.
    event Expired(uint256 indexed listingId, address indexed seller);
    /// @notice A buyer paid; they may confirm or dispute until `confirmBy`.
    event Bought(uint256 indexed listingId, address indexed buyer, uint64 confirmBy);
    /// @notice The buyer disputed; the arbiter has until `resolveBy`, after which anyone can unwind the trade.
    event Disputed(uint256 indexed listingId, address indexed buyer, uint64 resolveBy);
    /// @notice The sale went through: the buyer may claim the items and the seller `sellerProceeds`.
    /// `settled` is true when completed by anyone after the window lapsed.
    event Completed(
        uint256 indexed listingId,
        address indexed seller,
        address indexed buyer,
        uint256 sellerProceeds,
        uint256 commission,
        bool settled
    );
    /// @notice The trade was unwound: the buyer may claim the price back and the seller the items. `arbiter` is
    /// address(0) when nobody resolved the dispute by its deadline.
    event Refunded(uint256 indexed listingId, address indexed buyer, address indexed arbiter);
    /// @notice The arbiter resolved a dispute in the seller's favour (followed by Completed).
    event DisputeRejected(uint256 indexed listingId, address indexed arbiter);
    /// @notice The admin handed a listing's dispute to `arbiter`.
    event ArbiterAssigned(uint256 indexed listingId, address indexed arbiter);
    /// @notice `to` took the listing's items out of escrow.
    event ItemsClaimed(uint256 indexed listingId, address indexed to);
    /// @notice `to` took the listing's money out of escrow: the seller's proceeds, or the buyer's refund.
    event FundsClaimed(uint256 indexed listingId, address indexed to, address currency, uint256 amount);
    /// @notice New listings pay `commissionBps` of their price to the treasury.
    event CommissionSet(uint16 commissionBps);
    /// @notice Buyers of new purchases have `window` seconds to confirm or dispute.
    event ConfirmationWindowSet(uint64 window);
    /// @notice New disputes give their arbiter `window` seconds.
    event DisputeWindowSet(uint64 window);
    /// @notice Disputes without an arbiter of their own go to `arbiter`.
    event ArbiterSet(address arbiter);
    /// @notice Commissions accrue to `treasury`.
    event TreasurySet(address treasury);
    /// @notice ERC-1155 `token` may (or may no longer) be listed.
    event ItemTokenSet(address indexed token, bool allowed);

    /// @notice No listing has id `listingId`.
    error UnknownListing(uint256 listingId);
    /// @notice The listing is in `state`, where this step is not possible.
    error InvalidState(uint256 listingId, State state);
    /// @notice Only the listing's seller may do this.
    error NotSeller(uint256 listingId, address caller);
    /// @notice Only the listing's buyer may do this.
    error NotBuyer(uint256 listingId, address caller);
    /// @notice Only the listing's arbiter may resolve its dispute.
    error NotArbiter(uint256 listingId, address caller);
    /// @notice Only `claimant` may take this out of escrow.
    error NotClaimant(uint256 listingId, address caller, address claimant);
    /// @notice The listing's items were already claimed.
    error ItemsAlreadyClaimed(uint256 listingId);
    /// @notice The listing's money was already claimed.
    error FundsAlreadyClaimed(uint256 listingId);
    /// @notice A listing parameter is out of range; `field` names it.
    error InvalidListing(string field);
    /// @notice `token` is not on the list of item contracts the escrow trades.
    error ItemTokenNotAllowed(address token);
    /// @notice `token` does not implement ERC-1155.
    error InvalidItemToken(address token);
    /// @notice The listing can no longer be bought.
    error DeadlinePassed(uint256 listingId, uint64 deadline);
    /// @notice The listing can still be bought, so it cannot be reclaimed yet.
    error DeadlineNotReached(uint256 listingId, uint64 deadline);
    /// @notice The buyer's confirmation window has closed.
    error WindowClosed(uint256 listingId, uint64 confirmBy);
    /// @notice The buyer's confirmation window is still open.
    error WindowOpen(uint256 listingId, uint64 confirmBy);
    /// @notice The arbiter's time to resolve the dispute is over.
    error ResolutionClosed(uint256 listingId, uint64 resolveBy);
    /// @notice The arbiter still has time to resolve the dispute.
    error ResolutionOpen(uint256 listingId, uint64 resolveBy);
    /// @notice A seller cannot buy their own listing.
    error SellerCannotBuy(uint256 listingId);
    /// @notice The commission exceeds the cap.
    error CommissionTooHigh(uint16 commissionBps, uint16 maxBps);
    /// @notice A confirmation or dispute window outside its allowed range.
    error InvalidWindow(uint64 window);
    /// @notice The zero address cannot receive commissions.
    error InvalidTreasury(address treasury);
    /// @notice The zero address cannot arbitrate.
    error InvalidArbiter(address arbiter);
    /// @notice ERC-1155 items reach the escrow only through `list`; any other transfer in is refused.
    error UnsolicitedTransfer(address token, address operator);

    // --- seller ---

    /// @notice Moves `amount` of item `id` of an allowed ERC-1155 `token` into escrow, for sale at `price` until
    /// `deadline`, at the commission in force now.
    function list(
        address token,
        uint256 id,
        uint256 amount,
        uint256 price,
        address currency,
        uint64 deadline
    ) external returns (uint256 listingId);

    /// @notice Cancels an unpaid listing and returns the items to the seller; the seller only.
    function cancel(uint256 listingId) external;

    /// @notice Returns the items of an unsold listing whose deadline passed to the seller; anyone may call.
    function reclaim(uint256 listingId) external;

    // --- buyer ---

    /// @notice Pays the listing's price into escrow.
    function buy(uint256 listingId) external payable;

    /// @notice Confirms the purchase: the buyer may claim the items and the seller the price less commission.
    function confirm(uint256 listingId) external;

    /// @notice Disputes a paid listing within the confirmation window.
    function dispute(uint256 listingId) external;

    /// @notice Completes a paid listing whose window lapsed with no dispute; anyone may call.
    function settle(uint256 listingId) external;

    // --- either party, once the trade has ended ---

    /// @notice Sends the items of a completed (to the buyer) or refunded (to the seller) trade to the caller,
    /// who must be that party.
    function claimItems(uint256 listingId) external;

    /// @notice Sends the money of a completed (proceeds to the seller) or refunded (the price to the buyer)
    /// trade to the caller, who must be that party.
    function claimFunds(uint256 listingId) external returns (uint256 amount);

    // --- arbiter ---

    /// @notice Resolves a dispute before its deadline: refund the buyer (items back to the seller) or complete
    /// the sale; the listing's arbiter only.
    function resolve(uint256 listingId, bool refundBuyer) external;

    /// @notice Unwinds a dispute nobody resolved by its deadline, as a refund; anyone may call.
    function unwind(uint256 listingId) external;

    // --- admin ---

    /// @notice Hands a listing's open dispute to another arbiter; DEFAULT_ADMIN_ROLE. The deadline stays.
    function assignArbiter(uint256 listingId, address arbiter) external;

    /// @notice Sets the arbiter of disputes that have none of their own; DEFAULT_ADMIN_ROLE.
    function setArbiter(address arbiter) external;

    /// @notice Allows or disallows listing items of `token`; DEFAULT_ADMIN_ROLE. Open listings are unaffected.
    function setItemToken(address token, bool allowed) external;

    /// @notice Sets the commission of new listings, capped by MAX_COMMISSION_BPS; DEFAULT_ADMIN_ROLE.
    function setCommission(uint16 commissionBps) external;

    /// @notice Sets the confirmation window of new purchases; DEFAULT_ADMIN_ROLE.
    function setConfirmationWindow(uint64 window) external;

    /// @notice Sets the arbiter's time on new disputes; DEFAULT_ADMIN_ROLE.
    function setDisputeWindow(uint64 window) external;

    /// @notice Sets where commissions accrue; DEFAULT_ADMIN_ROLE.
    function setTreasury(address treasury) external;

    // --- views ---

    /// @notice A listing; reverts with UnknownListing.
    function getListing(uint256 listingId) external view returns (Listing memory);

    /// @notice Number of listings (the highest listing id).
    function listingCount() external view returns (uint256);

    /// @notice Whether items of `token` may be listed.
    function isItemToken(address token) external view returns (bool);
}
