// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @title Settlement of card revenue to its payees in one stablecoin
/// @notice The platform collects card payments off chain and owes each payee (a revenue split, a referrer)
/// its part. A settler pays many payees per transaction from the treasury, which approved this contract for
/// the token; each settlement has an id chosen by the platform's ledger that can be paid once, ever, so a
/// settlement sent twice pays once. The event names the card payments (`paymentRefs`) the settlement covers.
interface IPayoutSettlement {
    /// @notice `settlementId` paid `amounts[i]` of the token to `payees[i]` from `treasury`, `total` in all,
    /// for the card payments `paymentRefs`.
    event SettlementPaid(
        bytes32 indexed settlementId,
        address indexed treasury,
        uint256 total,
        address[] payees,
        uint256[] amounts,
        bytes32[] paymentRefs
    );
    /// @notice Settlements are paid from `treasury` from now on.
    event TreasurySet(address treasury);

    /// @notice `settlementId` was paid already, or is zero (never a valid id).
    error SettlementIdUsed(bytes32 settlementId);
    /// @notice A settlement names no payee.
    error SettlementEmpty();
    /// @notice A settlement has `payees` payees but `amounts` amounts.
    error SettlementLengthMismatch(uint256 payees, uint256 amounts);
    /// @notice A settlement has `count` payees, more than `max`.
    error SettlementTooLarge(uint256 count, uint256 max);
    /// @notice Payees must be sorted by address, each strictly above the one before (no duplicates).
    error PayeesNotAscending(address previous, address next);
    /// @notice `payee` cannot be paid: the zero address, the treasury itself or this contract.
    error InvalidPayee(address payee);
    /// @notice `payee` is owed nothing in this settlement; zero amounts are refused.
    error ZeroAmount(address payee);
    /// @notice `treasury` cannot pay settlements: the zero address.
    error InvalidTreasury(address treasury);
    /// @notice `token` is not a token: the zero address.
    error InvalidToken(address token);

    /// @notice Pays `amounts[i]` of the token from the treasury to `payees[i]`, once per `settlementId`;
    /// SETTLER_ROLE. Payees are sorted ascending by address, at most MAX_PAYEES of them, none paid zero.
    /// Reverts as a whole, paying nobody, when the treasury's balance or allowance does not cover the total.
    function settle(
        bytes32 settlementId,
        address[] calldata payees,
        uint256[] calldata amounts,
        bytes32[] calldata paymentRefs
    ) external;

    /// @notice Sets the account settlements are paid from; DEFAULT_ADMIN_ROLE. It must approve this contract.
    function setTreasury(address treasury) external;

    /// @notice Whether `settlementId` has been paid.
    function isSettled(bytes32 settlementId) external view returns (bool);

    /// @notice The stablecoin every settlement pays in, fixed at deployment.
    function token() external view returns (IERC20);

    /// @notice The account settlements are paid from.
    function treasury() external view returns (address);
}
