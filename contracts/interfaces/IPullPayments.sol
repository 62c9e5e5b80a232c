// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title Pull payments: what a contract owes is credited to a ledger and withdrawn by its owner
/// @notice Nobody is ever paid by a push in the middle of someone else's transaction, so a recipient that
/// refuses payments blocks only its own withdrawal. `currency` is an ERC-20 address, or address(0) for the
/// chain's native currency.
interface IPullPayments {
    /// @notice `account` withdrew `amount` of `currency` it was owed.
    event Withdrawn(address indexed account, address indexed currency, uint256 amount);

    /// @notice `account` is owed nothing in `currency`.
    error NothingToWithdraw(address account, address currency);
    /// @notice Sending `amount` of native currency to `to` failed: it reverted or cannot receive.
    error NativeTransferFailed(address to, uint256 amount);
    /// @notice A payment delivered `sent` instead of the `expected` amount (a wrong `msg.value`, or a token that
    /// keeps a fee on transfer and would leave others' credits unbacked).
    error WrongPayment(uint256 expected, uint256 sent);
    /// @notice `sent` native currency came with a payment due in an ERC-20.
    error UnexpectedNativePayment(uint256 sent);

    /// @notice Pays the caller everything it is owed in `currency`.
    function withdraw(address currency) external returns (uint256 amount);

    /// @notice What `account` can withdraw in `currency`.
    function owed(address account, address currency) external view returns (uint256);
}
