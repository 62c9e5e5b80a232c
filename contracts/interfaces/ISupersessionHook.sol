// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title What the work registry tells when a live work loses to an earlier claim of its file
/// @notice The registry calls its hook in the transaction that supersedes the work, so whatever sells on
/// the work (the license token) stops at once, with one storage read per sale instead of a call.
interface ISupersessionHook {
    /// @notice Work `workId` was live and is now superseded: its creator is not the author.
    function onWorkSuperseded(uint256 workId) external;
}
