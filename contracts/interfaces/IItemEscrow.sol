// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title Escrow for player-to-player trades of ERC-1155 game items
/// @notice A seller lists items (moved into escrow); a buyer pays (held in escrow); the buyer confirms,
/// or the confirmation window lapses and anyone settles, releasing items to the buyer and funds to the
/// seller minus the platform commission. A buyer can dispute within the window; an arbiter resolves.
/// Payouts are pulled with `withdraw`.
interface IItemEscrow {
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
        address buyer;
        uint64 confirmBy; // end of the confirmation window once paid
        address token; // ERC-1155 contract
        address currency; // address(0) for native currency
        uint256 id;
        uint256 amount;
        uint256 price;
    }

    event Listed(
        uint256 indexed listingId,
        address indexed seller,
        address indexed token,
        uint256 id,
        uint256 amount,
        uint256 price,
        address currency,
        uint64 deadline
    );
    event Cancelled(uint256 indexed listingId, address indexed seller);
    event Expired(uint256 indexed listingId, address indexed seller);
    event Bought(uint256 indexed listingId, address indexed buyer, uint64 confirmBy);
    event Disputed(uint256 indexed listingId, address indexed buyer);
    /// @notice Items went to the buyer and funds to the seller. `settled` is true when completed after the window lapsed.
    event Completed(
        uint256 indexed listingId,
        address indexed seller,
        address indexed buyer,
        uint256 sellerProceeds,
        uint256 commission,
        bool settled
    );
    /// @notice The arbiter refunded the buyer; items returned to the seller.
    event Refunded(uint256 indexed listingId, address indexed buyer, address indexed arbiter);
    /// @notice The arbiter resolved a dispute in the seller's favour (followed by Completed).
    event DisputeRejected(uint256 indexed listingId, address indexed arbiter);
    event Withdrawn(address indexed account, address indexed currency, uint256 amount);
    event CommissionSet(uint16 commissionBps);
    event ConfirmationWindowSet(uint64 window);
    event TreasurySet(address treasury);

    error UnknownListing(uint256 listingId);
    error InvalidState(uint256 listingId, State state);
    error NotSeller(uint256 listingId, address caller);
    error NotBuyer(uint256 listingId, address caller);
    error InvalidListing(string field);
    error DeadlinePassed(uint256 listingId, uint64 deadline);
    error DeadlineNotReached(uint256 listingId, uint64 deadline);
    error WindowClosed(uint256 listingId, uint64 confirmBy);
    error WindowOpen(uint256 listingId, uint64 confirmBy);
    error SellerCannotBuy(uint256 listingId);
    error WrongPayment(uint256 expected, uint256 sent);
    error UnexpectedNativePayment(uint256 sent);
    error CommissionTooHigh(uint16 commissionBps, uint16 maxBps);
    error InvalidWindow(uint64 window);
    error NothingToWithdraw(address account, address currency);
    error NativeTransferFailed(address to, uint256 amount);
    error InvalidTreasury(address treasury);
    /// @notice ERC-1155 items reach the escrow only through `list`; any other transfer in is refused.
    error UnsolicitedTransfer(address token, address operator);

    // --- seller ---

    /// @notice Moves `amount` of item `id` of ERC-1155 `token` into escrow, for sale at `price` until `deadline`.
    function list(
        address token,
        uint256 id,
        uint256 amount,
        uint256 price,
        address currency,
        uint64 deadline
    ) external returns (uint256 listingId);

    /// @notice Cancels an unpaid listing and returns the items.
    function cancel(uint256 listingId) external;

    /// @notice Returns the items of an unsold listing whose deadline passed; anyone may call.
    function reclaim(uint256 listingId) external;

    // --- buyer ---

    /// @notice Pays the listing's price into escrow.
    function buy(uint256 listingId) external payable;

    /// @notice Confirms receipt: items to the buyer, funds to the seller.
    function confirm(uint256 listingId) external;

    /// @notice Disputes a paid listing within the confirmation window.
    function dispute(uint256 listingId) external;

    /// @notice Completes a paid listing whose window lapsed with no dispute; anyone may call.
    function settle(uint256 listingId) external;

    /// @notice Pulls what the caller is owed in `currency`.
    function withdraw(address currency) external returns (uint256 amount);

    // --- arbiter / admin ---

    /// @notice Resolves a dispute: refund the buyer (items back to the seller) or complete the sale; ARBITER_ROLE.
    function resolve(uint256 listingId, bool refundBuyer) external;

    /// @notice Sets the platform commission on completed sales, capped by MAX_COMMISSION_BPS; DEFAULT_ADMIN_ROLE.
    function setCommission(uint16 commissionBps) external;

    /// @notice Sets the confirmation window; DEFAULT_ADMIN_ROLE.
    function setConfirmationWindow(uint64 window) external;

    /// @notice Sets where commissions accrue; DEFAULT_ADMIN_ROLE.
    function setTreasury(address treasury) external;

    // --- views ---

    function getListing(uint256 listingId) external view returns (Listing memory);

    function owed(address account, address currency) external view returns (uint256);

    function listingCount() external view returns (uint256);
}
