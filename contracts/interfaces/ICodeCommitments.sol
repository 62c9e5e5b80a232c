// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title Commitments to the redemption codes an offer sells
/// @notice Each stock upload of an offer's codes is committed as one Merkle root, so a buyer can prove
/// their code was issued for that offer at that time, and no code can be added to a batch later.
/// Leaves are in OpenZeppelin's standard tree format with values
/// `(uint256 offerId, bytes32 salt, bytes32 codeHash)`, `codeHash` being keccak256 of the code's
/// UTF-8 bytes and `salt` a random value per code, so a proof shows nothing of the batch's other codes.
interface ICodeCommitments {
    /// @notice Batch `batchId` of offer `offerId` holds `count` codes under `merkleRoot`.
    event CodesCommitted(uint256 indexed offerId, bytes32 indexed batchId, bytes32 merkleRoot, uint256 count);

    /// @notice A batch needs an id, a root and at least one code.
    error EmptyCodeBatch(bytes32 batchId);
    /// @notice A batch is committed once; its root never changes.
    error CodeBatchCommitted(bytes32 batchId);
    /// @notice No batch was committed under this id.
    error UnknownCodeBatch(bytes32 batchId);

    /// @notice Commits a batch of `count` codes of `offerId` under `merkleRoot`; COMMITTER_ROLE only.
    function commitCodes(uint256 offerId, bytes32 batchId, bytes32 merkleRoot, uint256 count) external;

    /// @notice True when the code of `codeHash` with `salt` is a leaf of batch `batchId` (under its offer).
    function verifyCode(
        bytes32 batchId,
        bytes32 salt,
        bytes32 codeHash,
        bytes32[] calldata proof
    ) external view returns (bool);

    /// @notice The standard-tree leaf of a code.
    function leafOf(uint256 offerId, bytes32 salt, bytes32 codeHash) external pure returns (bytes32);

    /// @notice The offer, root, commit time and size of a batch; reverts with UnknownCodeBatch.
    function getCodeBatch(
        bytes32 batchId
    ) external view returns (uint256 offerId, bytes32 merkleRoot, uint48 committedAt, uint48 count);
}
