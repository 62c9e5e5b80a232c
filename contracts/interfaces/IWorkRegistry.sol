// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title Rights Ledger work registry
/// @notice Proof of existence and authorship by commitment. A creator (or the platform relayer for
/// them) first commits to `keccak256(abi.encode(creator, contentHash, nonce))`, which reserves the next
/// work id without showing the hash; a later block reveals the hash and binds it to that id. A Merkle
/// batch reserves one id per leaf when it is anchored. Priority is the order of the ids: the earliest
/// revealed claim of a content hash is its work, any other claim of the same hash is superseded and
/// never named its author. Whoever learns a hash from a pending reveal or a published manifest can
/// only commit after the creator did, so their claim loses.
interface IWorkRegistry {
    /// @notice What another contract may read about a registered work.
    /// @param registeredAt when the work's id was reserved (its commitment or batch was mined).
    /// @param superseded true when an earlier claim of the same content hash exists.
    struct Work {
        address creator;
        uint48 registeredAt;
        uint40 parentId;
        bool superseded;
    }

    /// @notice The message a creator signs so the relayer may reveal (or claim from a batch) in their name.
    /// @param nonce a random value chosen at signing that salts the commitment; it also makes each signature unique.
    struct Registration {
        address creator;
        bytes32 contentHash;
        string cid;
        string metadataURI;
        uint256 parentId;
        uint256 nonce;
        uint256 deadline;
    }

    /// @notice One leaf to claim with `claimBatchedMany`: the creator's signed registration and the leaf's proof.
    struct BatchClaim {
        uint256 batchId;
        uint256 index;
        Registration registration;
        bytes signature;
        bytes32[] proof;
    }

    /// @notice Work id `workId` was reserved for a commitment; its content is revealed later.
    event WorkCommitted(uint256 indexed workId);
    /// @notice A commitment or batch leaf was revealed as a work. `parentId` is 0 for a first version;
    /// `registeredAt` is when the id was reserved. A claim that lost to an earlier one is followed by ClaimSuperseded.
    event WorkRegistered(
        uint256 indexed workId,
        bytes32 indexed contentHash,
        address indexed creator,
        uint256 parentId,
        uint256 registeredAt,
        string cid,
        string metadataURI
    );
    /// @notice Claim `workId` of `contentHash` lost to the earlier claim `earlierWorkId`; it never counts as the work.
    event ClaimSuperseded(uint256 indexed workId, bytes32 indexed contentHash, uint256 indexed earlierWorkId);
    /// @notice The creator named the work's co-authors (replaces any earlier list).
    event CoAuthorsSet(uint256 indexed workId, address indexed creator, address[] coAuthors);
    /// @notice The contract told when a live work is superseded is now `hook` (zero for none).
    event SupersessionHookSet(address indexed hook);
    /// @notice A Merkle root was anchored; leaf `i` holds work id `firstWorkId + i`.
    event BatchAnchored(
        uint256 indexed batchId,
        bytes32 indexed merkleRoot,
        address indexed submitter,
        uint256 count,
        uint256 firstWorkId,
        string manifestCid
    );

    /// @notice The content hash is zero.
    error EmptyContentHash();
    /// @notice No revealed work has this id (never reserved, or reserved and not yet revealed).
    error UnknownWork(uint256 workId);
    /// @notice The work lost to an earlier claim of its content hash and has no author.
    error WorkSuperseded(uint256 workId);
    /// @notice The id holds no pending commitment: never reserved, reserved by a batch, or already revealed.
    error NotCommitted(uint256 workId);
    /// @notice The reveal does not open the commitment stored under the id.
    error CommitmentMismatch(uint256 workId);
    /// @notice A reveal must come in a later block than its commitment.
    error RevealTooEarly(uint256 workId, uint48 committedAt);
    /// @notice The parent is not a live work of this creator.
    error ParentNotOwned(uint256 parentId, address creator);
    /// @notice Only the work's creator may do this.
    error NotWorkCreator(uint256 workId, address caller);
    /// @notice The creator did not sign this registration.
    error InvalidCreatorSignature(address creator);
    /// @notice The signed registration's deadline has passed.
    error SignatureExpired(uint256 deadline);
    /// @notice A co-author is zero, the creator, or named twice.
    error InvalidCoAuthor(address coAuthor);
    /// @notice More co-authors than `max`.
    error TooManyCoAuthors(uint256 count, uint256 max);
    /// @notice A batch needs a root and at least one leaf.
    error EmptyBatch();
    /// @notice A batch may hold at most `max` leaves.
    error BatchTooLarge(uint256 count, uint256 max);
    /// @notice No batch has this id.
    error UnknownBatch(uint256 batchId);
    /// @notice The batch has fewer leaves than `index + 1`.
    error LeafOutOfRange(uint256 batchId, uint256 index);
    /// @notice The proof does not lead from the registration's leaf to the batch root.
    error InvalidBatchProof(uint256 batchId, uint256 index);
    /// @notice The batch leaf's work id was already claimed.
    error LeafAlreadyClaimed(uint256 batchId, uint256 index);
    /// @notice `claimBatchedMany` needs at least one claim.
    error EmptyClaimBatch();

    /// @notice Reserves the next work id for `commitment = keccak256(abi.encode(creator, contentHash, nonce))`.
    /// Anyone may commit; only the creator (or their signature) can reveal.
    /// @return workId the reserved id (ids start at 1).
    function commit(bytes32 commitment) external returns (uint256 workId);

    /// @notice Reveals the caller's commitment under `workId` in a later block than the commit.
    /// @param parentId an earlier live work of the same creator this is a new version of, or 0.
    function reveal(
        uint256 workId,
        bytes32 contentHash,
        uint256 nonce,
        string calldata cid,
        string calldata metadataURI,
        uint256 parentId
    ) external;

    /// @notice Reveals `registration.creator`'s commitment under `workId`, who signed the EIP-712
    /// `Register` message; the caller pays gas.
    function revealFor(uint256 workId, Registration calldata registration, bytes calldata signature) external;

    /// @notice Makes leaf `index` of batch `batchId` the work `firstWorkId + index`; anyone may claim
    /// with the creator's signature and the leaf's proof.
    function claimBatched(
        uint256 batchId,
        uint256 index,
        Registration calldata registration,
        bytes calldata signature,
        bytes32[] calldata proof
    ) external;

    /// @notice Claims several batch leaves in one transaction, as `claimBatched` each. A leaf already claimed
    /// is skipped rather than reverting, so whoever claims one leaf first cannot make the others fail.
    /// @return claimed how many leaves this call claimed.
    function claimBatchedMany(BatchClaim[] calldata claims) external returns (uint256 claimed);

    /// @notice Sets the contract told in the same transaction when a live work is superseded (the license
    /// token, so offers on the work stop selling), or zero for none; DEFAULT_ADMIN_ROLE only.
    function setSupersessionHook(address hook) external;

    /// @notice Names the co-authors of a work; only its creator.
    function setCoAuthors(uint256 workId, address[] calldata coAuthors) external;

    /// @notice Anchors a Merkle root over `count` leaves in OpenZeppelin's standard tree format with leaf
    /// values `(uint256 index, address creator, bytes32 contentHash, bytes32 registrationDigest)`,
    /// reserving one work id per leaf; REGISTRAR_ROLE only.
    function anchorBatch(
        bytes32 merkleRoot,
        uint256 count,
        string calldata manifestCid
    ) external returns (uint256 batchId);

    /// @notice True when the leaf of these values is in batch `batchId`. The leaf is hashed here, so
    /// an inner node of the tree is never mistaken for a leaf.
    function verifyAnchored(
        uint256 batchId,
        uint256 index,
        address creator,
        bytes32 contentHash,
        bytes32 registrationDigest,
        bytes32[] calldata proof
    ) external view returns (bool);

    /// @notice The standard-tree leaf of a batch entry.
    function leafOf(
        uint256 index,
        address creator,
        bytes32 contentHash,
        bytes32 registrationDigest
    ) external pure returns (bytes32);

    /// @notice The EIP-712 digest the creator signs for `registration`.
    function registrationDigest(Registration calldata registration) external view returns (bytes32);

    /// @notice The commitment a creator reserves an id with.
    function commitmentOf(address creator, bytes32 contentHash, uint256 nonce) external pure returns (bytes32);

    /// @notice The earliest revealed claim of a content hash, 0 when none.
    function workOf(bytes32 contentHash) external view returns (uint256);

    /// @notice A revealed work, superseded or not; reverts with UnknownWork.
    function getWork(uint256 workId) external view returns (Work memory);

    /// @notice The creator of a live work; reverts with UnknownWork or WorkSuperseded.
    function creatorOf(uint256 workId) external view returns (address);

    /// @notice The contract told when a live work is superseded, zero when none.
    function supersessionHook() external view returns (address);

    /// @notice Number of reserved work ids (the highest work id).
    function workCount() external view returns (uint256);

    /// @notice Root, anchor time, leaf count and first work id of a batch; reverts with UnknownBatch.
    function getBatch(
        uint256 batchId
    ) external view returns (bytes32 merkleRoot, uint48 anchoredAt, uint48 count, uint48 firstWorkId);
}
