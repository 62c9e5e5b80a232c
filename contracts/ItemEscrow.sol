// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessControlDefaultAdminRules} from "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {IERC1155} from "@openzeppelin/contracts/token/ERC1155/IERC1155.sol";
import {ERC1155Holder} from "@openzeppelin/contracts/token/ERC1155/utils/ERC1155Holder.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ERC165Checker} from "@openzeppelin/contracts/utils/introspection/ERC165Checker.sol";
import {IItemEscrow} from "./interfaces/IItemEscrow.sol";
import {PullPayments} from "./PullPayments.sol";

/// @title Escrow for player-to-player trades of ERC-1155 game items
/// @notice Items are held from listing until the trade ends; payments from purchase until completion or refund.
/// Once a trade with a buyer has ended, each party claims its own side, so a counterparty contract that refuses
/// ERC-1155 receipts or native currency blocks nobody but itself; a dispute nobody resolves in time is unwound.
/// @dev Only item contracts on the admin's allowlist can be listed, so a hostile ERC-1155 cannot hold trades
/// hostage. Fee-on-transfer currencies are refused at purchase.
contract ItemEscrow is IItemEscrow, AccessControlDefaultAdminRules, PullPayments, ERC1155Holder {
    /// @notice Highest commission the admin may set: 15%, what item-trading platforms commonly charge.
    uint16 public constant MAX_COMMISSION_BPS = 1500;
    uint64 public constant MIN_CONFIRMATION_WINDOW = 1 hours;
    uint64 public constant MAX_CONFIRMATION_WINDOW = 30 days;
    uint64 public constant MIN_DISPUTE_WINDOW = 1 days;
    uint64 public constant MAX_DISPUTE_WINDOW = 90 days;
    uint256 private constant BPS = 10_000;

    /// @dev Five slots per listing. Slot 0 (seller, deadline, state, commission, claim flags) is what every step
    /// reads and writes; slot 1 (buyer and the two windows' ends) is written whole by `buy`; the price shares a
    /// slot with its currency and the amount with its token. Times fit 40 bits for the next 30,000 years.
    struct ListingRecord {
        address seller;
        uint40 deadline;
        State state;
        uint16 commissionBps;
        bool itemsClaimed;
        bool fundsClaimed;
        address buyer;
        uint40 confirmBy;
        uint40 resolveBy;
        address token;
        uint96 amount;
        address currency;
        uint96 price;
        uint256 id;
    }

    // One slot: `list` reads the commission, `buy` the confirmation window, `dispute` the dispute window.
    address public treasury;
    uint16 public commissionBps;
    uint40 public confirmationWindow;
    uint40 public disputeWindow;

    /// @notice The arbiter of disputes the admin has not handed to another.
    address public arbiter;

    uint256 private _listingCount;
    mapping(uint256 listingId => ListingRecord) private _listings;
    mapping(uint256 listingId => address) private _assignedArbiter;
    mapping(address token => bool) private _itemTokens;

    /// @dev Hash of the single ERC-1155 receipt `list` is waiting for; anything else sent to the escrow is refused.
    bytes32 private transient _expectedReceipt;

    constructor(
        address admin,
        uint48 adminDelay,
        address treasury_,
        address arbiter_,
        uint16 commissionBps_,
        uint64 confirmationWindow_,
        uint64 disputeWindow_,
        address[] memory itemTokens
    ) AccessControlDefaultAdminRules(adminDelay, admin) {
        _setTreasury(treasury_);
        _setArbiter(arbiter_);
        _setCommission(commissionBps_);
        _setConfirmationWindow(confirmationWindow_);
        _setDisputeWindow(disputeWindow_);
        for (uint256 i; i < itemTokens.length; ++i) {
            _setItemToken(itemTokens[i], true);
        }
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
        if (deadline <= block.timestamp || deadline > type(uint40).max) revert InvalidListing("deadline");
        if (currency != address(0) && currency.code.length == 0) revert InvalidListing("currency");
        if (!_itemTokens[token]) revert ItemTokenNotAllowed(token);

        uint16 commission = commissionBps;
        listingId = ++_listingCount;
        ListingRecord storage l = _listings[listingId];
        l.seller = msg.sender;
        l.deadline = uint40(deadline);
        l.state = State.Listed;
        l.commissionBps = commission;
        l.token = token;
        l.amount = uint96(amount);
        l.currency = currency;
        l.price = uint96(price);
        l.id = id;
        emit Listed(listingId, msg.sender, token, id, amount, price, currency, deadline, commission);

        _expectedReceipt = _receiptHash(token, msg.sender, id, amount);
        IERC1155(token).safeTransferFrom(msg.sender, address(this), id, amount, "");
    }

    /// @inheritdoc IItemEscrow
    /// @dev Before anyone has paid the seller is the only party, so the items go straight back to them.
    function cancel(uint256 listingId) external nonReentrant {
        ListingRecord storage l = _listingIn(listingId, State.Listed);
        if (msg.sender != l.seller) revert NotSeller(listingId, msg.sender);
        l.state = State.Cancelled;
        l.itemsClaimed = true;
        emit Cancelled(listingId, msg.sender);
        _sendItems(l, msg.sender);
    }

    /// @inheritdoc IItemEscrow
    function reclaim(uint256 listingId) external nonReentrant {
        ListingRecord storage l = _listingIn(listingId, State.Listed);
        if (block.timestamp <= l.deadline) revert DeadlineNotReached(listingId, l.deadline);
        address seller = l.seller;
        l.state = State.Expired;
        l.itemsClaimed = true;
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
        _checkPayment(currency, price);

        uint40 confirmBy = uint40(block.timestamp) + confirmationWindow;
        l.state = State.Paid;
        l.buyer = msg.sender;
        l.confirmBy = confirmBy;
        emit Bought(listingId, msg.sender, confirmBy);

        if (currency != address(0)) _pullExactly(IERC20(currency), price);
    }

    /// @inheritdoc IItemEscrow
    function confirm(uint256 listingId) external {
        ListingRecord storage l = _listingIn(listingId, State.Paid);
        if (msg.sender != l.buyer) revert NotBuyer(listingId, msg.sender);
        _complete(listingId, l, false);
    }

    /// @inheritdoc IItemEscrow
    function dispute(uint256 listingId) external {
        ListingRecord storage l = _listingIn(listingId, State.Paid);
        if (msg.sender != l.buyer) revert NotBuyer(listingId, msg.sender);
        if (block.timestamp > l.confirmBy) revert WindowClosed(listingId, l.confirmBy);
        uint40 resolveBy = uint40(block.timestamp) + disputeWindow;
        l.state = State.Disputed;
        l.resolveBy = resolveBy;
        emit Disputed(listingId, msg.sender, resolveBy);
    }

    /// @inheritdoc IItemEscrow
    function settle(uint256 listingId) external {
        ListingRecord storage l = _listingIn(listingId, State.Paid);
        if (block.timestamp <= l.confirmBy) revert WindowOpen(listingId, l.confirmBy);
        _complete(listingId, l, true);
    }

    // --- either party, once the trade has ended ---

    /// @inheritdoc IItemEscrow
    function claimItems(uint256 listingId) external nonReentrant {
        ListingRecord storage l = _listings[listingId];
        State state = l.state;
        _requireClaimant(listingId, l, state, state == State.Completed);
        if (l.itemsClaimed) revert ItemsAlreadyClaimed(listingId);
        l.itemsClaimed = true;
        emit ItemsClaimed(listingId, msg.sender);
        _sendItems(l, msg.sender);
    }

    /// @inheritdoc IItemEscrow
    function claimFunds(uint256 listingId) external nonReentrant returns (uint256 amount) {
        ListingRecord storage l = _listings[listingId];
        State state = l.state;
        _requireClaimant(listingId, l, state, state == State.Refunded);
        if (l.fundsClaimed) revert FundsAlreadyClaimed(listingId);
        l.fundsClaimed = true;
        address currency = l.currency;
        amount = l.price;
        if (state == State.Completed) amount -= (amount * l.commissionBps) / BPS;
        emit FundsClaimed(listingId, msg.sender, currency, amount);
        _pay(msg.sender, currency, amount);
    }

    // --- arbiter ---

    /// @inheritdoc IItemEscrow
    function resolve(uint256 listingId, bool refundBuyer) external {
        ListingRecord storage l = _listingIn(listingId, State.Disputed);
        if (msg.sender != _arbiterOf(listingId)) revert NotArbiter(listingId, msg.sender);
        if (block.timestamp > l.resolveBy) revert ResolutionClosed(listingId, l.resolveBy);
        if (refundBuyer) {
            _refund(listingId, l, msg.sender);
        } else {
            emit DisputeRejected(listingId, msg.sender);
            _complete(listingId, l, false);
        }
    }

    /// @inheritdoc IItemEscrow
    /// @dev Unwinding returns each party what it brought, so an absent arbiter costs nobody anything but time.
    function unwind(uint256 listingId) external {
        ListingRecord storage l = _listingIn(listingId, State.Disputed);
        if (block.timestamp <= l.resolveBy) revert ResolutionOpen(listingId, l.resolveBy);
        _refund(listingId, l, address(0));
    }

    // --- admin ---

    /// @inheritdoc IItemEscrow
    function assignArbiter(uint256 listingId, address newArbiter) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _listingIn(listingId, State.Disputed);
        if (newArbiter == address(0)) revert InvalidArbiter(newArbiter);
        _assignedArbiter[listingId] = newArbiter;
        emit ArbiterAssigned(listingId, newArbiter);
    }

    /// @inheritdoc IItemEscrow
    function setArbiter(address newArbiter) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setArbiter(newArbiter);
    }

    /// @inheritdoc IItemEscrow
    function setItemToken(address token, bool allowed) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setItemToken(token, allowed);
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
    function setDisputeWindow(uint64 window) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setDisputeWindow(window);
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
                commissionBps: l.commissionBps,
                buyer: l.buyer,
                confirmBy: l.confirmBy,
                resolveBy: l.resolveBy,
                arbiter: _arbiterOf(listingId),
                token: l.token,
                currency: l.currency,
                id: l.id,
                amount: l.amount,
                price: l.price,
                itemsClaimed: l.itemsClaimed,
                fundsClaimed: l.fundsClaimed
            });
    }

    /// @inheritdoc IItemEscrow
    function listingCount() external view returns (uint256) {
        return _listingCount;
    }

    /// @inheritdoc IItemEscrow
    function isItemToken(address token) external view returns (bool) {
        return _itemTokens[token];
    }

    /// @notice ERC-165: IItemEscrow, IAccessControlDefaultAdminRules, IAccessControl, IERC1155Receiver, IERC165.
    function supportsInterface(
        bytes4 interfaceId
    ) public view override(AccessControlDefaultAdminRules, ERC1155Holder) returns (bool) {
        return
            interfaceId == type(IItemEscrow).interfaceId ||
            AccessControlDefaultAdminRules.supportsInterface(interfaceId) ||
            ERC1155Holder.supportsInterface(interfaceId);
    }

    // --- internal ---

    function _listingIn(uint256 listingId, State expected) private view returns (ListingRecord storage l) {
        l = _listings[listingId];
        State state = l.state;
        if (state == State.None) revert UnknownListing(listingId);
        if (state != expected) revert InvalidState(listingId, state);
    }

    /// @dev Only completed and refunded trades have sides left to claim, each by one party: the buyer when
    /// `toBuyer`, else the seller.
    function _requireClaimant(uint256 listingId, ListingRecord storage l, State state, bool toBuyer) private view {
        if (state != State.Completed && state != State.Refunded) {
            if (state == State.None) revert UnknownListing(listingId);
            revert InvalidState(listingId, state);
        }
        address claimant = toBuyer ? l.buyer : l.seller;
        if (msg.sender != claimant) revert NotClaimant(listingId, msg.sender, claimant);
    }

    function _arbiterOf(uint256 listingId) private view returns (address) {
        address assigned = _assignedArbiter[listingId];
        return assigned == address(0) ? arbiter : assigned;
    }

    /// @dev Ends the sale: the buyer may claim the items, the seller the price less the commission fixed at
    /// listing, and the commission accrues to the treasury.
    function _complete(uint256 listingId, ListingRecord storage l, bool settled) private {
        uint256 price = l.price;
        uint256 commission = (price * l.commissionBps) / BPS;
        l.state = State.Completed;
        if (commission != 0) _credit(treasury, l.currency, commission);
        emit Completed(listingId, l.seller, l.buyer, price - commission, commission, settled);
    }

    /// @dev Unwinds the sale: the buyer may claim the price back and the seller the items; no commission.
    function _refund(uint256 listingId, ListingRecord storage l, address by) private {
        l.state = State.Refunded;
        emit Refunded(listingId, l.buyer, by);
    }

    function _sendItems(ListingRecord storage l, address to) private {
        IERC1155(l.token).safeTransferFrom(address(this), to, l.id, l.amount, "");
    }

    function _setCommission(uint16 newCommissionBps) private {
        if (newCommissionBps > MAX_COMMISSION_BPS) revert CommissionTooHigh(newCommissionBps, MAX_COMMISSION_BPS);
        commissionBps = newCommissionBps;
        emit CommissionSet(newCommissionBps);
    }

    function _setConfirmationWindow(uint64 window) private {
        if (window < MIN_CONFIRMATION_WINDOW || window > MAX_CONFIRMATION_WINDOW) revert InvalidWindow(window);
        confirmationWindow = uint40(window);
        emit ConfirmationWindowSet(window);
    }

    function _setDisputeWindow(uint64 window) private {
        if (window < MIN_DISPUTE_WINDOW || window > MAX_DISPUTE_WINDOW) revert InvalidWindow(window);
        disputeWindow = uint40(window);
        emit DisputeWindowSet(window);
    }

    function _setTreasury(address newTreasury) private {
        if (newTreasury == address(0)) revert InvalidTreasury(newTreasury);
        treasury = newTreasury;
        emit TreasurySet(newTreasury);
    }

    function _setArbiter(address newArbiter) private {
        if (newArbiter == address(0)) revert InvalidArbiter(newArbiter);
        arbiter = newArbiter;
        emit ArbiterSet(newArbiter);
    }

    function _setItemToken(address token, bool allowed) private {
        if (allowed && !ERC165Checker.supportsInterface(token, type(IERC1155).interfaceId)) {
            revert InvalidItemToken(token);
        }
        _itemTokens[token] = allowed;
        emit ItemTokenSet(token, allowed);
    }

    function _receiptHash(address token, address from, uint256 id, uint256 amount) private pure returns (bytes32) {
        return keccak256(abi.encode(token, from, id, amount));
    }
}
