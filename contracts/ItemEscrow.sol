// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC1155} from "@openzeppelin/contracts/token/ERC1155/IERC1155.sol";
import {ERC1155Holder} from "@openzeppelin/contracts/token/ERC1155/utils/ERC1155Holder.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ERC165Checker} from "@openzeppelin/contracts/utils/introspection/ERC165Checker.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IItemEscrow} from "./interfaces/IItemEscrow.sol";

/// @title Escrow for player-to-player trades of ERC-1155 game items
/// @notice Items are held from listing until the trade ends; payments are held from purchase until completion or
/// refund. Every payout is credited to `owed` and pulled with `withdraw`.
/// @dev Items and currencies are expected to be standard: an ERC-1155 token or buyer contract that refuses transfers
/// out of the escrow blocks the end of its own trade. Fee-on-transfer currencies are refused at purchase.
contract ItemEscrow is IItemEscrow, AccessControl, ReentrancyGuardTransient, ERC1155Holder {
    using SafeERC20 for IERC20;

    bytes32 public constant ARBITER_ROLE = keccak256("ARBITER_ROLE");
    uint16 public constant MAX_COMMISSION_BPS = 1000;
    uint64 public constant MIN_CONFIRMATION_WINDOW = 1 hours;
    uint64 public constant MAX_CONFIRMATION_WINDOW = 30 days;
    uint256 private constant BPS = 10_000;

    /// @dev The public `Listing` plus the commission fixed at purchase, so an admin change never reprices a trade in
    /// flight. Amount and price are capped at uint96 so each shares a slot with an address, five slots per listing.
    /// Slot 0 (seller, deadline, state) is what every state change touches; slot 1 (buyer, confirmBy,
    /// commissionBps) is written whole by `buy`; `buy` reads the price with its currency in one slot.
    struct ListingRecord {
        address seller;
        uint64 deadline;
        State state;
        address buyer;
        uint64 confirmBy;
        uint16 commissionBps;
        address token;
        uint96 amount;
        address currency;
        uint96 price;
        uint256 id;
    }

    // One slot: `buy` reads the commission and the window together.
    address public treasury;
    uint16 public commissionBps;
    uint64 public confirmationWindow;

    uint256 private _listingCount;
    mapping(uint256 listingId => ListingRecord) private _listings;
    mapping(address account => mapping(address currency => uint256)) private _owed;

    /// @dev Hash of the single ERC-1155 receipt `list` is waiting for; anything else sent to the escrow is refused.
    bytes32 private transient _expectedReceipt;

    constructor(address admin, address treasury_, uint16 commissionBps_, uint64 confirmationWindow_) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _setTreasury(treasury_);
        _setCommission(commissionBps_);
        _setConfirmationWindow(confirmationWindow_);
    }

    // --- seller ---

    /// @inheritdoc IItemEscrow
    /// @dev `amount` and `price` must fit in 96 bits; the seller must have approved the escrow on `token`.
    function list(
        address token,
        uint256 id,
        uint256 amount,
        uint256 price,
        address currency,
        uint64 deadline
    ) external nonReentrant returns (uint256 listingId) {
        if (amount == 0 || amount > type(uint96).max) revert InvalidListing("amount");
        if (price == 0 || price > type(uint96).max) revert InvalidListing("price");
        if (deadline <= block.timestamp) revert InvalidListing("deadline");
        if (currency != address(0) && currency.code.length == 0) revert InvalidListing("currency");
        if (!ERC165Checker.supportsInterface(token, type(IERC1155).interfaceId)) revert InvalidListing("token");

        listingId = ++_listingCount;
        ListingRecord storage l = _listings[listingId];
        l.seller = msg.sender;
        l.deadline = deadline;
        l.state = State.Listed;
        l.token = token;
        l.currency = currency;
        l.id = id;
        l.amount = uint96(amount);
        l.price = uint96(price);
        emit Listed(listingId, msg.sender, token, id, amount, price, currency, deadline);

        _expectedReceipt = _receiptHash(token, msg.sender, id, amount);
        IERC1155(token).safeTransferFrom(msg.sender, address(this), id, amount, "");
    }

    /// @inheritdoc IItemEscrow
    function cancel(uint256 listingId) external nonReentrant {
        ListingRecord storage l = _listingIn(listingId, State.Listed);
        if (msg.sender != l.seller) revert NotSeller(listingId, msg.sender);
        l.state = State.Cancelled;
        emit Cancelled(listingId, msg.sender);
        _sendItems(l, msg.sender);
    }

    /// @inheritdoc IItemEscrow
    function reclaim(uint256 listingId) external nonReentrant {
        ListingRecord storage l = _listingIn(listingId, State.Listed);
        if (block.timestamp <= l.deadline) revert DeadlineNotReached(listingId, l.deadline);
        l.state = State.Expired;
        address seller = l.seller;
        emit Expired(listingId, seller);
        _sendItems(l, seller);
    }

    // --- buyer ---

    /// @inheritdoc IItemEscrow
    function buy(uint256 listingId) external payable nonReentrant {
        ListingRecord storage l = _listingIn(listingId, State.Listed);
        if (block.timestamp > l.deadline) revert DeadlinePassed(listingId, l.deadline);
        if (msg.sender == l.seller) revert SellerCannotBuy(listingId);
        address currency = l.currency;
        uint256 price = l.price;
        if (currency == address(0)) {
            if (msg.value != price) revert WrongPayment(price, msg.value);
        } else if (msg.value != 0) {
            revert UnexpectedNativePayment(msg.value);
        }

        uint64 confirmBy = uint64(block.timestamp) + confirmationWindow;
        l.state = State.Paid;
        l.buyer = msg.sender;
        l.confirmBy = confirmBy;
        l.commissionBps = commissionBps;
        emit Bought(listingId, msg.sender, confirmBy);

        if (currency != address(0)) _pullExact(IERC20(currency), price);
    }

    /// @inheritdoc IItemEscrow
    function confirm(uint256 listingId) external nonReentrant {
        ListingRecord storage l = _listingIn(listingId, State.Paid);
        if (msg.sender != l.buyer) revert NotBuyer(listingId, msg.sender);
        _complete(listingId, l, false);
    }

    /// @inheritdoc IItemEscrow
    function dispute(uint256 listingId) external {
        ListingRecord storage l = _listingIn(listingId, State.Paid);
        if (msg.sender != l.buyer) revert NotBuyer(listingId, msg.sender);
        if (block.timestamp > l.confirmBy) revert WindowClosed(listingId, l.confirmBy);
        l.state = State.Disputed;
        emit Disputed(listingId, msg.sender);
    }

    /// @inheritdoc IItemEscrow
    function settle(uint256 listingId) external nonReentrant {
        ListingRecord storage l = _listingIn(listingId, State.Paid);
        if (block.timestamp <= l.confirmBy) revert WindowOpen(listingId, l.confirmBy);
        _complete(listingId, l, true);
    }

    /// @inheritdoc IItemEscrow
    function withdraw(address currency) external nonReentrant returns (uint256 amount) {
        amount = _owed[msg.sender][currency];
        if (amount == 0) revert NothingToWithdraw(msg.sender, currency);
        delete _owed[msg.sender][currency];
        emit Withdrawn(msg.sender, currency, amount);

        if (currency == address(0)) {
            (bool ok, ) = msg.sender.call{value: amount}("");
            if (!ok) revert NativeTransferFailed(msg.sender, amount);
        } else {
            IERC20(currency).safeTransfer(msg.sender, amount);
        }
    }

    // --- arbiter / admin ---

    /// @inheritdoc IItemEscrow
    function resolve(uint256 listingId, bool refundBuyer) external onlyRole(ARBITER_ROLE) nonReentrant {
        ListingRecord storage l = _listingIn(listingId, State.Disputed);
        if (!refundBuyer) {
            emit DisputeRejected(listingId, msg.sender);
            _complete(listingId, l, false);
            return;
        }
        address buyer = l.buyer;
        l.state = State.Refunded;
        _owed[buyer][l.currency] += l.price;
        emit Refunded(listingId, buyer, msg.sender);
        _sendItems(l, l.seller);
    }

    /// @inheritdoc IItemEscrow
    function setCommission(uint16 newCommissionBps) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setCommission(newCommissionBps);
    }

    /// @inheritdoc IItemEscrow
    function setConfirmationWindow(uint64 window) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setConfirmationWindow(window);
    }

    /// @inheritdoc IItemEscrow
    function setTreasury(address newTreasury) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setTreasury(newTreasury);
    }

    // --- ERC-1155 receipts ---

    /// @notice Accepts only the transfer that `list` itself requested.
    function onERC1155Received(
        address operator,
        address from,
        uint256 id,
        uint256 value,
        bytes memory
    ) public override returns (bytes4) {
        if (operator != address(this) || _expectedReceipt != _receiptHash(msg.sender, from, id, value)) {
            revert UnsolicitedTransfer(msg.sender, operator);
        }
        delete _expectedReceipt;
        return this.onERC1155Received.selector;
    }

    /// @notice Always refuses: the escrow never pulls batches, so a batch can only be unsolicited.
    function onERC1155BatchReceived(
        address operator,
        address,
        uint256[] memory,
        uint256[] memory,
        bytes memory
    ) public view override returns (bytes4) {
        revert UnsolicitedTransfer(msg.sender, operator);
    }

    // --- views ---

    /// @inheritdoc IItemEscrow
    function getListing(uint256 listingId) external view returns (Listing memory) {
        ListingRecord storage l = _listings[listingId];
        if (l.state == State.None) revert UnknownListing(listingId);
        return
            Listing({
                seller: l.seller,
                deadline: l.deadline,
                state: l.state,
                buyer: l.buyer,
                confirmBy: l.confirmBy,
                token: l.token,
                currency: l.currency,
                id: l.id,
                amount: l.amount,
                price: l.price
            });
    }

    /// @notice Commission rate fixed when the listing was bought (0 before purchase).
    function commissionBpsOf(uint256 listingId) external view returns (uint16) {
        ListingRecord storage l = _listings[listingId];
        if (l.state == State.None) revert UnknownListing(listingId);
        return l.commissionBps;
    }

    /// @inheritdoc IItemEscrow
    function owed(address account, address currency) external view returns (uint256) {
        return _owed[account][currency];
    }

    /// @inheritdoc IItemEscrow
    function listingCount() external view returns (uint256) {
        return _listingCount;
    }

    function supportsInterface(bytes4 interfaceId) public view override(AccessControl, ERC1155Holder) returns (bool) {
        return interfaceId == type(IItemEscrow).interfaceId || super.supportsInterface(interfaceId);
    }

    // --- internal ---

    function _listingIn(uint256 listingId, State expected) private view returns (ListingRecord storage l) {
        l = _listings[listingId];
        State state = l.state;
        if (state == State.None) revert UnknownListing(listingId);
        if (state != expected) revert InvalidState(listingId, state);
    }

    /// @dev Items to the buyer, price less the commission fixed at purchase to the seller, commission to the treasury.
    function _complete(uint256 listingId, ListingRecord storage l, bool settled) private {
        address seller = l.seller;
        address buyer = l.buyer;
        address currency = l.currency;
        uint256 price = l.price;
        uint256 commission = (price * l.commissionBps) / BPS;
        uint256 proceeds = price - commission;

        l.state = State.Completed;
        _owed[seller][currency] += proceeds;
        if (commission != 0) _owed[treasury][currency] += commission;
        emit Completed(listingId, seller, buyer, proceeds, commission, settled);

        _sendItems(l, buyer);
    }

    function _sendItems(ListingRecord storage l, address to) private {
        IERC1155(l.token).safeTransferFrom(address(this), to, l.id, l.amount, "");
    }

    /// @dev Refuses currencies that deliver less than the price, which would leave the escrow short of what it owes.
    function _pullExact(IERC20 currency, uint256 price) private {
        uint256 balanceBefore = currency.balanceOf(address(this));
        currency.safeTransferFrom(msg.sender, address(this), price);
        uint256 received = currency.balanceOf(address(this)) - balanceBefore;
        if (received != price) revert WrongPayment(price, received);
    }

    function _setCommission(uint16 newCommissionBps) private {
        if (newCommissionBps > MAX_COMMISSION_BPS) revert CommissionTooHigh(newCommissionBps, MAX_COMMISSION_BPS);
        commissionBps = newCommissionBps;
        emit CommissionSet(newCommissionBps);
    }

    function _setConfirmationWindow(uint64 window) private {
        if (window < MIN_CONFIRMATION_WINDOW || window > MAX_CONFIRMATION_WINDOW) revert InvalidWindow(window);
        confirmationWindow = window;
        emit ConfirmationWindowSet(window);
    }

    function _setTreasury(address newTreasury) private {
        if (newTreasury == address(0)) revert InvalidTreasury(newTreasury);
        treasury = newTreasury;
        emit TreasurySet(newTreasury);
    }

    function _receiptHash(address token, address from, uint256 id, uint256 amount) private pure returns (bytes32) {
        return keccak256(abi.encode(token, from, id, amount));
    }
}
