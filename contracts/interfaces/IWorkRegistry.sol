// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title Rights Ledger work registry
/// @notice Proof of existence and authorship: the SHA-256 of a file is registered once, by its creator,
/// either one work per transaction (with a work id other contracts can refer to) or many hashes at
/// once in a Merkle batch.
interface IWorkRegistry {
    /// @notice What another contract may read about a registered work.
    struct Work {
        bytes32 contentHash;
        address creator;
        uint48 registeredAt;
        uint48 parentId;
    }

    /// @notice A work was registered. `parentId` is 0 for a first version.
    event WorkRegistered(
        uint256 indexed workId,
        bytes32 indexed contentHash,
        address indexed creator,
        uint256 parentId,
        string cid,
        string metadataURI
    );
    /// @notice The creator named the work's co-authors (replaces any earlier list).
    event CoAuthorsSet(uint256 indexed workId, address indexed creator, address[] coAuthors);
    /// @notice A Merkle root of (contentHash, creator) leaves was anchored.
    event BatchAnchored(
        uint256 indexed batchId,
        bytes32 indexed merkleRoot,
        address indexed submitter,
        uint256 count,
        string manifestCid
    );

    error AlreadyRegistered(bytes32 contentHash, uint256 workId);
    error EmptyContentHash();
    error UnknownWork(uint256 workId);
    error ParentNotOwned(uint256 parentId, address creator);
    error NotWorkCreator(uint256 workId, address caller);
    error InvalidCreatorSignature(address creator);
    error SignatureExpired(uint256 deadline);
    error NonceAlreadyUsed(address creator, uint256 nonce);
    error InvalidCoAuthor(address coAuthor);
    error TooManyCoAuthors(uint256 count, uint256 max);
    error EmptyBatch();
    error UnknownBatch(uint256 batchId);

    /// @notice Registers `contentHash` (SHA-256 of the file's bytes) with the caller as creator.
    /// @param parentId an earlier work of the same creator this is a new version of, or 0.
    /// @return workId the new work's id (ids start at 1).
    function register(
        bytes32 contentHash,
        string calldata cid,
        string calldata metadataURI,
        uint256 parentId
    ) external returns (uint256 workId);

    /// @notice Registers on behalf of `creator`, who signed the EIP-712 `Register` message; the caller pays gas.
    /// @param nonce any unused value chosen by the signer (unordered, so signatures can be submitted in any order).
    function registerFor(
        address creator,
        bytes32 contentHash,
        string calldata cid,
        string calldata metadataURI,
        uint256 parentId,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external returns (uint256 workId);

    /// @notice Names the co-authors of a work; only its creator.
    function setCoAuthors(uint256 workId, address[] calldata coAuthors) external;

    /// @notice Anchors a Merkle root over `count` leaves in OpenZeppelin's standard tree format with leaf
    /// values `(bytes32 contentHash, address creator)`; REGISTRAR_ROLE only.
    function anchorBatch(
        bytes32 merkleRoot,
        uint256 count,
        string calldata manifestCid
    ) external returns (uint256 batchId);

    /// @notice True when `leaf` is in batch `batchId`.
    function verifyAnchored(uint256 batchId, bytes32 leaf, bytes32[] calldata proof) external view returns (bool);

    /// @notice The standard-tree leaf for a (contentHash, creator) pair.
    function leafOf(bytes32 contentHash, address creator) external pure returns (bytes32);

    /// @notice The work id registered for a content hash, 0 when none.
    function workOf(bytes32 contentHash) external view returns (uint256);

    /// @notice A registered work; reverts with UnknownWork.
    function getWork(uint256 workId) external view returns (Work memory);

    /// @notice The creator of a registered work; reverts with UnknownWork.
    function creatorOf(uint256 workId) external view returns (address);

    /// @notice Number of registered works (the highest work id).
    function workCount() external view returns (uint256);

    /// @notice Root, anchor time and leaf count of a batch; reverts with UnknownBatch.
    function getBatch(uint256 batchId) external view returns (bytes32 merkleRoot, uint48 anchoredAt, uint48 count);

    /// @notice Whether `creator` has used `nonce` in a registerFor signature.
    function nonceUsed(address creator, uint256 nonce) external view returns (bool);
}
