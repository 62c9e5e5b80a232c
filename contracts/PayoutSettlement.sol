// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IPayoutSettlement} from "./interfaces/IPayoutSettlement.sol";

/// @title Pays settled card revenue from the treasury to many payees at once in one stablecoin
/// @dev Holds no funds: every payment moves straight from the treasury to its payee, so nothing can be
/// stranded here and there is nothing to withdraw.
contract PayoutSettlement is IPayoutSettlement, AccessControl, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @notice The platform's settlement job.
    bytes32 public constant SETTLER_ROLE = keccak256("SETTLER_ROLE");
    /// @notice Most payees of one settlement, which keeps a settlement well inside a block.
    uint256 public constant MAX_PAYEES = 200;

    /// @inheritdoc IPayoutSettlement
    IERC20 public immutable token;
    /// @inheritdoc IPayoutSettlement
    address public treasury;
    // One slot per settlement and nothing more: what was paid to whom is in the event, not in storage.
    mapping(bytes32 settlementId => bool) private _settled;

    constructor(address admin, IERC20 token_, address treasury_) {
        if (address(token_) == address(0)) revert InvalidToken(address(token_));
        token = token_;
        _setTreasury(treasury_);
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /// @inheritdoc IPayoutSettlement
    function settle(
        bytes32 settlementId,
        address[] calldata payees,
        uint256[] calldata amounts,
        bytes32[] calldata paymentRefs
    ) external onlyRole(SETTLER_ROLE) nonReentrant {
        if (settlementId == bytes32(0) || _settled[settlementId]) revert SettlementIdUsed(settlementId);
        uint256 count = payees.length;
        if (count == 0) revert SettlementEmpty();
        if (count != amounts.length) revert SettlementLengthMismatch(count, amounts.length);
        if (count > MAX_PAYEES) revert SettlementTooLarge(count, MAX_PAYEES);

        address from = treasury;
        address previous;
        uint256 total;
        for (uint256 i; i < count; ++i) {
            address payee = payees[i];
            // Strictly ascending rules out duplicates, and the zero address can only come first.
            if (payee <= previous) {
                if (payee == address(0)) revert InvalidPayee(payee);
                revert PayeesNotAscending(previous, payee);
            }
            if (payee == from || payee == address(this)) revert InvalidPayee(payee);
            uint256 amount = amounts[i];
            if (amount == 0) revert ZeroAmount(payee);
            total += amount;
            previous = payee;
        }

        _settled[settlementId] = true;
        emit SettlementPaid(settlementId, from, total, payees, amounts, paymentRefs);

        for (uint256 i; i < count; ++i) {
            token.safeTransferFrom(from, payees[i], amounts[i]);
        }
    }

    /// @inheritdoc IPayoutSettlement
    function setTreasury(address treasury_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setTreasury(treasury_);
    }

    /// @inheritdoc IPayoutSettlement
    function isSettled(bytes32 settlementId) external view returns (bool) {
        return _settled[settlementId];
    }

    function _setTreasury(address treasury_) private {
        if (treasury_ == address(0)) revert InvalidTreasury(treasury_);
        treasury = treasury_;
        emit TreasurySet(treasury_);
    }
}
