// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {Time} from "@openzeppelin/contracts/utils/types/Time.sol";
import {ICodeCommitments} from "./interfaces/ICodeCommitments.sol";

/// @title Merkle roots of the redemption codes offers sell, one per stock upload
contract CodeCommitments is ICodeCommitments, AccessControl {
    /// @notice The platform's relayer, which commits each upload as it is stored.
    bytes32 public constant COMMITTER_ROLE = keccak256("COMMITTER_ROLE");

    // Root and offer in two slots, the commit time and size packed in a third.
    struct Batch {
        bytes32 merkleRoot;
        uint256 offerId;
    }
    struct BatchMeta {
        uint48 committedAt;
        uint48 count;
    }

    mapping(bytes32 batchId => Batch) private _batches;
    mapping(bytes32 batchId => BatchMeta) private _meta;

    constructor(address admin) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /// @inheritdoc ICodeCommitments
    function commitCodes(
        uint256 offerId,
        bytes32 batchId,
        bytes32 merkleRoot,
        uint256 count
    ) external onlyRole(COMMITTER_ROLE) {
        if (batchId == bytes32(0) || merkleRoot == bytes32(0) || count == 0 || count > type(uint48).max) {
            revert EmptyCodeBatch(batchId);
        }
        if (_batches[batchId].merkleRoot != bytes32(0)) revert CodeBatchCommitted(batchId);
        _batches[batchId] = Batch({merkleRoot: merkleRoot, offerId: offerId});
        _meta[batchId] = BatchMeta({committedAt: Time.timestamp(), count: uint48(count)});
        emit CodesCommitted(offerId, batchId, merkleRoot, count);
    }

    /// @inheritdoc ICodeCommitments
    function verifyCode(
        bytes32 batchId,
        bytes32 salt,
        bytes32 codeHash,
        bytes32[] calldata proof
    ) external view returns (bool) {
        Batch storage batch = _batch(batchId);
        return MerkleProof.verifyCalldata(proof, batch.merkleRoot, _leaf(batch.offerId, salt, codeHash));
    }

    /// @inheritdoc ICodeCommitments
    function leafOf(uint256 offerId, bytes32 salt, bytes32 codeHash) external pure returns (bytes32) {
        return _leaf(offerId, salt, codeHash);
    }

    /// @inheritdoc ICodeCommitments
    function getCodeBatch(
        bytes32 batchId
    ) external view returns (uint256 offerId, bytes32 merkleRoot, uint48 committedAt, uint48 count) {
        Batch storage batch = _batch(batchId);
        BatchMeta storage meta = _meta[batchId];
        return (batch.offerId, batch.merkleRoot, meta.committedAt, meta.count);
    }

    function _batch(bytes32 batchId) private view returns (Batch storage batch) {
        batch = _batches[batchId];
        if (batch.merkleRoot == bytes32(0)) revert UnknownCodeBatch(batchId);
    }

    /// The standard tree's leaf: the values hashed twice, so no inner node passes for a leaf.
    function _leaf(uint256 offerId, bytes32 salt, bytes32 codeHash) private pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(offerId, salt, codeHash))));
    }
}
