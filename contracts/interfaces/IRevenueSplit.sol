// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title Immutable revenue split
/// @notice Receives native currency and ERC-20 tokens and lets each recipient pull their share.
/// Shares are basis points summing to 10,000. Entitlements are exact: in order, each recipient takes
/// its share of what the recipients before it left, rounded up (recipient 0 first, the last takes the rest),
/// so the sum of all entitlements always equals what was received and none ever decreases.
interface IRevenueSplit {
    /// @notice Native currency arrived.
    event PaymentReceived(address indexed from, uint256 amount);
    /// @notice `amount` of `token` (address(0) for native) was paid out to `account`.
    event PaymentReleased(address indexed token, address indexed account, uint256 amount);

    error AlreadyInitialized();
    error InvalidSplit(uint256 recipients, uint256 totalBps);
    error InvalidRecipient(address recipient);
    error NotRecipient(address account);
    error NothingToRelease(address token, address account);
    error NativeTransferFailed(address account, uint256 amount);

    /// @notice Sets recipients and shares once; called by the factory right after cloning.
    function initialize(address[] calldata recipients, uint16[] calldata sharesBps) external;

    /// @notice Pays `account` what it is owed in `token` (address(0) for native).
    function release(address token, address account) external returns (uint256 amount);

    /// @notice Pays every recipient what it is owed in `token`; anyone may call.
    function distribute(address token) external;

    /// @notice What `account` can release now in `token`.
    function releasable(address token, address account) external view returns (uint256);

    /// @notice Everything ever received in `token` (current balance plus released).
    function totalReceived(address token) external view returns (uint256);

    /// @notice What `account` has been paid in `token`.
    function released(address token, address account) external view returns (uint256);

    /// @notice Total paid out in `token`.
    function totalReleased(address token) external view returns (uint256);

    /// @notice Recipients and their shares in basis points.
    function recipients() external view returns (address[] memory accounts, uint16[] memory sharesBps);
}
