// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title Factory of revenue splits
/// @notice Deploys immutable splits as minimal clones at addresses derived from their terms, so the
/// same recipients and shares always map to one split.
interface ISplitFactory {
    /// @notice A split was deployed.
    event SplitCreated(address indexed split, address indexed createdBy, address[] recipients, uint16[] sharesBps);

    /// @notice Deploys the split for these terms, or returns the existing one.
    function createSplit(address[] calldata recipients, uint16[] calldata sharesBps) external returns (address split);

    /// @notice The address the split for these terms has or will have.
    function predictSplit(address[] calldata recipients, uint16[] calldata sharesBps) external view returns (address);

    /// @notice Whether `split` was deployed by this factory.
    function isSplit(address split) external view returns (bool);

    /// @notice The implementation every clone delegates to.
    function implementation() external view returns (address);
}
