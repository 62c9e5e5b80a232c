// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {Time} from "@openzeppelin/contracts/utils/types/Time.sol";
import {ISupersessionHook} from "./interfaces/ISupersessionHook.sol";
import {IWorkRegistry} from "./interfaces/IWorkRegistry.sol";

/// @title Rights Ledger work registry
/// @notice Works are registered by commit and reveal (or by a Merkle batch); the earliest reserved id of
/// a content hash is its work. The CID and metadata URI live only in the event log.
contract WorkRegistry is IWorkRegistry, AccessControl, EIP712 {
    /// @notice The platform relayer that anchors Merkle batches.
    bytes32 public constant REGISTRAR_ROLE = keccak256("REGISTRAR_ROLE");
    /// @notice Largest co-author list accepted by `setCoAuthors`.
    uint256 public constant MAX_CO_AUTHORS = 32;
    /// @notice Most leaves in one batch, so work ids stay far below the 2^40 a parent id is stored in.
    uint256 public constant MAX_BATCH_LEAVES = 1 << 24;
    bytes32 private constant REGISTER_TYPEHASH = keccak256(
        "Register(address creator,bytes32 contentHash,string cid,string metadataURI,uint256 parentId,uint256 nonce,uint256 deadline)"
    );

    // A claim is one word: bits 0-159 the creator (while committed: the commitment's low 160 bits, which
    // no one can match for another creator), 160-207 the time its id was reserved, 208-247 the parent
    // id, 248-255 its state. A reveal rewrites the word its commit wrote, so the pair pays for one
    // fresh slot besides the hash's.
    uint256 private constant COMMITTED = 1;
    uint256 private constant LIVE = 2;
    uint256 private constant SUPERSEDED = 3;
    uint256 private constant TIME_SHIFT = 160;
    uint256 private constant PARENT_SHIFT = 208;
    uint256 private constant STATE_SHIFT = 248;

    /// @dev The root fills a slot; time, leaf count and first work id share the second.
    struct Batch {
        bytes32 merkleRoot;
        uint48 anchoredAt;
        uint48 count;
        uint48 firstWorkId;
    }

    uint256 private _workCount;
    uint256 private _batchCount;
    mapping(uint256 workId => uint256 claim) private _claims;
    /// @dev The earliest revealed claim of each hash.
    mapping(bytes32 contentHash => uint256 workId) private _workOf;
    mapping(uint256 batchId => Batch) private _batches;
    address private _supersessionHook;

    constructor(address admin) EIP712("RightsLedger WorkRegistry", "1") {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    // ----- creators -----

    /// @inheritdoc IWorkRegistry
    function commit(bytes32 commitment) external returns (uint256 workId) {
        // Every id costs a transaction or a bounded batch, so the count never nears 2^40.
        unchecked {
            workId = ++_workCount;
        }
        _claims[workId] =
            (COMMITTED << STATE_SHIFT) |
            (uint256(Time.timestamp()) << TIME_SHIFT) |
            uint160(uint256(commitment));
        emit WorkCommitted(workId);
    }

    /// @inheritdoc IWorkRegistry
    function reveal(
        uint256 workId,
        bytes32 contentHash,
        uint256 nonce,
        string calldata cid,
        string calldata metadataURI,
        uint256 parentId
    ) external {
        uint48 registeredAt = _open(workId, msg.sender, contentHash, nonce);
        uint256 earlier = _record(workId, msg.sender, contentHash, parentId, registeredAt);
        emit WorkRegistered(workId, contentHash, msg.sender, parentId, registeredAt, cid, metadataURI);
        if (earlier != 0) _supersede(workId, contentHash, earlier);
    }

    /// @inheritdoc IWorkRegistry
    function setCoAuthors(uint256 workId, address[] calldata coAuthors) external {
        address creator = _creatorOf(workId);
        if (creator != msg.sender) revert NotWorkCreator(workId, msg.sender);
        uint256 count = coAuthors.length;
        if (count > MAX_CO_AUTHORS) revert TooManyCoAuthors(count, MAX_CO_AUTHORS);
        for (uint256 i = 0; i < count; ++i) {
            address coAuthor = coAuthors[i];
            if (coAuthor == address(0) || coAuthor == creator) revert InvalidCoAuthor(coAuthor);
            for (uint256 j = 0; j < i; ++j) {
                if (coAuthors[j] == coAuthor) revert InvalidCoAuthor(coAuthor);
            }
        }
        emit CoAuthorsSet(workId, creator, coAuthors);
    }

    // ----- relayers -----

    /// @inheritdoc IWorkRegistry
    function revealFor(uint256 workId, Registration calldata registration, bytes calldata signature) external {
        if (block.timestamp > registration.deadline) revert SignatureExpired(registration.deadline);
        uint48 registeredAt = _open(workId, registration.creator, registration.contentHash, registration.nonce);
        _checkSignature(registration, signature);
        _emitRecorded(workId, registration, registeredAt);
    }

    /// @inheritdoc IWorkRegistry
    function claimBatched(
        uint256 batchId,
        uint256 index,
        Registration calldata registration,
        bytes calldata signature,
        bytes32[] calldata proof
    ) external {
        if (!_claimLeaf(batchId, index, registration, signature, proof)) revert LeafAlreadyClaimed(batchId, index);
    }

    /// @inheritdoc IWorkRegistry
    function claimBatchedMany(BatchClaim[] calldata claims) external returns (uint256 claimed) {
        uint256 count = claims.length;
        if (count == 0) revert EmptyClaimBatch();
        for (uint256 i = 0; i < count; ++i) {
            BatchClaim calldata c = claims[i];
            if (_claimLeaf(c.batchId, c.index, c.registration, c.signature, c.proof)) ++claimed;
        }
    }

    // ----- registrar -----

    /// @inheritdoc IWorkRegistry
    function anchorBatch(
        bytes32 merkleRoot,
        uint256 count,
        string calldata manifestCid
    ) external onlyRole(REGISTRAR_ROLE) returns (uint256 batchId) {
        if (merkleRoot == bytes32(0) || count == 0) revert EmptyBatch();
        if (count > MAX_BATCH_LEAVES) revert BatchTooLarge(count, MAX_BATCH_LEAVES);
        uint256 firstWorkId = _workCount + 1;
        _workCount += count;
        batchId = ++_batchCount;
        // count and the ids are bounded above, so they fit their 48 bits.
        _batches[batchId] = Batch({
            merkleRoot: merkleRoot,
            anchoredAt: Time.timestamp(),
            count: uint48(count),
            firstWorkId: uint48(firstWorkId)
        });
        emit BatchAnchored(batchId, merkleRoot, msg.sender, count, firstWorkId, manifestCid);
    }

    // ----- admin -----

    /// @inheritdoc IWorkRegistry
    function setSupersessionHook(address hook) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _supersessionHook = hook;
        emit SupersessionHookSet(hook);
    }

    // ----- views -----

    /// @inheritdoc IWorkRegistry
    function verifyAnchored(
        uint256 batchId,
        uint256 index,
        address creator,
        bytes32 contentHash,
        bytes32 digest,
        bytes32[] calldata proof
    ) external view returns (bool) {
        return
            MerkleProof.verifyCalldata(proof, _batch(batchId).merkleRoot, _leaf(index, creator, contentHash, digest));
    }

    /// @inheritdoc IWorkRegistry
    function leafOf(
        uint256 index,
        address creator,
        bytes32 contentHash,
        bytes32 digest
    ) external pure returns (bytes32) {
        return _leaf(index, creator, contentHash, digest);
    }

    /// @inheritdoc IWorkRegistry
    function registrationDigest(Registration calldata registration) external view returns (bytes32) {
        return _digest(registration);
    }

    /// @inheritdoc IWorkRegistry
    function commitmentOf(address creator, bytes32 contentHash, uint256 nonce) public pure returns (bytes32) {
        return keccak256(abi.encode(creator, contentHash, nonce));
    }

    /// @inheritdoc IWorkRegistry
    function workOf(bytes32 contentHash) external view returns (uint256) {
        return _workOf[contentHash];
    }

    /// @inheritdoc IWorkRegistry
    function getWork(uint256 workId) external view returns (Work memory) {
        uint256 claim = _revealed(workId);
        return
            Work({
                creator: address(uint160(claim)),
                registeredAt: uint48(claim >> TIME_SHIFT),
                parentId: uint40(claim >> PARENT_SHIFT),
                superseded: claim >> STATE_SHIFT == SUPERSEDED
            });
    }

    /// @inheritdoc IWorkRegistry
    function creatorOf(uint256 workId) external view returns (address) {
        return _creatorOf(workId);
    }

    /// @inheritdoc IWorkRegistry
    function supersessionHook() external view returns (address) {
        return _supersessionHook;
    }

    /// @inheritdoc IWorkRegistry
    function workCount() external view returns (uint256) {
        return _workCount;
    }

    /// @inheritdoc IWorkRegistry
    function getBatch(
        uint256 batchId
    ) external view returns (bytes32 merkleRoot, uint48 anchoredAt, uint48 count, uint48 firstWorkId) {
        Batch storage batch = _batch(batchId);
        return (batch.merkleRoot, batch.anchoredAt, batch.count, batch.firstWorkId);
    }

    /// @notice ERC-165: IWorkRegistry, IAccessControl and IERC165.
    function supportsInterface(bytes4 interfaceId) public view override returns (bool) {
        return interfaceId == type(IWorkRegistry).interfaceId || super.supportsInterface(interfaceId);
    }

    // ----- internal -----

    /// @dev Checks that `creator` opens the commitment under `workId` in a later block; answers the commit time.
    function _open(
        uint256 workId,
        address creator,
        bytes32 contentHash,
        uint256 nonce
    ) private view returns (uint48 committedAt) {
        uint256 claim = _claims[workId];
        if (claim >> STATE_SHIFT != COMMITTED) revert NotCommitted(workId);
        committedAt = uint48(claim >> TIME_SHIFT);
        // Block times strictly increase, so this refuses a reveal in its commit's block: a front-runner
        // who saw the reveal cannot commit and reveal at once.
        if (committedAt >= block.timestamp) revert RevealTooEarly(workId, committedAt);
        if (uint160(claim) != uint160(uint256(commitmentOf(creator, contentHash, nonce)))) {
            revert CommitmentMismatch(workId);
        }
    }

    /// @dev Writes the revealed claim and makes it the hash's work unless an earlier claim exists;
    /// answers the other claim of the hash, 0 when none.
    function _record(
        uint256 workId,
        address creator,
        bytes32 contentHash,
        uint256 parentId,
        uint48 registeredAt
    ) private returns (uint256 other) {
        if (contentHash == bytes32(0)) revert EmptyContentHash();
        if (parentId != 0 && _creatorOf(parentId) != creator) revert ParentNotOwned(parentId, creator);
        other = _workOf[contentHash];
        uint256 state = LIVE;
        if (other != 0 && other < workId) state = SUPERSEDED;
        else _workOf[contentHash] = workId;
        // A live parent id is at most the work count, which stays below 2^40.
        _claims[workId] =
            (state << STATE_SHIFT) |
            (parentId << PARENT_SHIFT) |
            (uint256(registeredAt) << TIME_SHIFT) |
            uint160(creator);
    }

    /// @dev Makes a batch leaf its work; false, changing nothing, when the leaf was claimed already.
    function _claimLeaf(
        uint256 batchId,
        uint256 index,
        Registration calldata registration,
        bytes calldata signature,
        bytes32[] calldata proof
    ) private returns (bool) {
        Batch storage batch = _batch(batchId);
        if (index >= batch.count) revert LeafOutOfRange(batchId, index);
        uint256 workId = batch.firstWorkId + index;
        if (_claims[workId] != 0) return false;
        bytes32 digest = _checkSignature(registration, signature);
        bytes32 leaf = _leaf(index, registration.creator, registration.contentHash, digest);
        if (!MerkleProof.verifyCalldata(proof, batch.merkleRoot, leaf)) revert InvalidBatchProof(batchId, index);
        _emitRecorded(workId, registration, batch.anchoredAt);
        return true;
    }

    function _emitRecorded(uint256 workId, Registration calldata r, uint48 registeredAt) private {
        uint256 other = _record(workId, r.creator, r.contentHash, r.parentId, registeredAt);
        emit WorkRegistered(workId, r.contentHash, r.creator, r.parentId, registeredAt, r.cid, r.metadataURI);
        if (other != 0) _supersede(workId, r.contentHash, other);
    }

    /// @dev Of two claims of one hash the lower id wins; a later id loses at once, an earlier one takes over.
    function _supersede(uint256 workId, bytes32 contentHash, uint256 other) private {
        if (other < workId) {
            emit ClaimSuperseded(workId, contentHash, other);
        } else {
            _claims[other] |= SUPERSEDED << STATE_SHIFT;
            emit ClaimSuperseded(other, contentHash, workId);
            // Only a claim that was live can have offers; the hook is the admin's, so it is trusted.
            address hook = _supersessionHook;
            if (hook != address(0)) ISupersessionHook(hook).onWorkSuperseded(other);
        }
    }

    function _checkSignature(Registration calldata r, bytes calldata signature) private view returns (bytes32 digest) {
        digest = _digest(r);
        if (!SignatureChecker.isValidSignatureNowCalldata(r.creator, digest, signature)) {
            revert InvalidCreatorSignature(r.creator);
        }
    }

    function _digest(Registration calldata r) private view returns (bytes32) {
        return
            _hashTypedDataV4(
                keccak256(
                    abi.encode(
                        REGISTER_TYPEHASH,
                        r.creator,
                        r.contentHash,
                        keccak256(bytes(r.cid)),
                        keccak256(bytes(r.metadataURI)),
                        r.parentId,
                        r.nonce,
                        r.deadline
                    )
                )
            );
    }

    /// @dev OpenZeppelin's standard-tree leaf: hashed twice, so no 64-byte inner node hashes to a leaf.
    function _leaf(uint256 index, address creator, bytes32 contentHash, bytes32 digest) private pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(index, creator, contentHash, digest))));
    }

    function _revealed(uint256 workId) private view returns (uint256 claim) {
        claim = _claims[workId];
        uint256 state = claim >> STATE_SHIFT;
        if (state != LIVE && state != SUPERSEDED) revert UnknownWork(workId);
    }

    function _creatorOf(uint256 workId) private view returns (address) {
        uint256 claim = _revealed(workId);
        if (claim >> STATE_SHIFT == SUPERSEDED) revert WorkSuperseded(workId);
        return address(uint160(claim));
    }

    function _batch(uint256 batchId) private view returns (Batch storage batch) {
        batch = _batches[batchId];
        if (batch.merkleRoot == bytes32(0)) revert UnknownBatch(batchId);
    }
}
