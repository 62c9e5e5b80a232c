// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {Time} from "@openzeppelin/contracts/utils/types/Time.sol";
import {IWorkRegistry} from "./interfaces/IWorkRegistry.sol";

/// @title Rights Ledger work registry
/// @notice First registration of a content hash wins; the CID and metadata URI live only in the event log.
contract WorkRegistry is IWorkRegistry, AccessControl, EIP712 {
    /// @notice The platform relayer that anchors Merkle batches.
    bytes32 public constant REGISTRAR_ROLE = keccak256("REGISTRAR_ROLE");
    /// @notice Largest co-author list accepted by `setCoAuthors`.
    uint256 public constant MAX_CO_AUTHORS = 32;
    bytes32 private constant REGISTER_TYPEHASH = keccak256(
        "Register(address creator,bytes32 contentHash,string cid,string metadataURI,uint256 parentId,uint256 nonce,uint256 deadline)"
    );

    /// @dev Fills exactly one hash-keyed slot, which the duplicate check reads anyway: a first version
    /// writes only this slot and the id-to-hash slot.
    struct Registration {
        uint48 workId;
        address creator;
        uint48 registeredAt;
    }

    /// @dev The root fills a slot; time and leaf count share the second.
    struct Batch {
        bytes32 merkleRoot;
        uint48 anchoredAt;
        uint48 count;
    }

    uint256 private _workCount;
    uint256 private _batchCount;
    mapping(bytes32 contentHash => Registration) private _registrations;
    mapping(uint256 workId => bytes32 contentHash) private _contentHashOf;
    /// @dev Written only for new versions, so first versions stay at two fresh slots.
    mapping(uint256 workId => uint48 parentId) private _parentOf;
    /// @dev 256 nonces per word, so a signer counting nonces up pays for a fresh slot once per 256 signatures.
    mapping(address creator => mapping(uint256 word => uint256 bits)) private _nonceBitmap;
    mapping(uint256 batchId => Batch) private _batches;

    constructor(address admin) EIP712("RightsLedger WorkRegistry", "1") {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    // ----- creators -----

    /// @inheritdoc IWorkRegistry
    function register(
        bytes32 contentHash,
        string calldata cid,
        string calldata metadataURI,
        uint256 parentId
    ) external returns (uint256 workId) {
        return _register(msg.sender, contentHash, cid, metadataURI, parentId);
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
    function registerFor(
        address creator,
        bytes32 contentHash,
        string calldata cid,
        string calldata metadataURI,
        uint256 parentId,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external returns (uint256 workId) {
        if (block.timestamp > deadline) revert SignatureExpired(deadline);
        _useNonce(creator, nonce);
        bytes32 digest = _hashTypedDataV4(
            keccak256(
                abi.encode(
                    REGISTER_TYPEHASH,
                    creator,
                    contentHash,
                    keccak256(bytes(cid)),
                    keccak256(bytes(metadataURI)),
                    parentId,
                    nonce,
                    deadline
                )
            )
        );
        if (!SignatureChecker.isValidSignatureNowCalldata(creator, digest, signature)) {
            revert InvalidCreatorSignature(creator);
        }
        return _register(creator, contentHash, cid, metadataURI, parentId);
    }

    // ----- registrar -----

    /// @inheritdoc IWorkRegistry
    function anchorBatch(
        bytes32 merkleRoot,
        uint256 count,
        string calldata manifestCid
    ) external onlyRole(REGISTRAR_ROLE) returns (uint256 batchId) {
        if (merkleRoot == bytes32(0) || count == 0) revert EmptyBatch();
        batchId = ++_batchCount;
        _batches[batchId] = Batch({
            merkleRoot: merkleRoot,
            anchoredAt: Time.timestamp(),
            count: SafeCast.toUint48(count)
        });
        emit BatchAnchored(batchId, merkleRoot, msg.sender, count, manifestCid);
    }

    // ----- views -----

    /// @inheritdoc IWorkRegistry
    function verifyAnchored(uint256 batchId, bytes32 leaf, bytes32[] calldata proof) external view returns (bool) {
        return MerkleProof.verifyCalldata(proof, _batch(batchId).merkleRoot, leaf);
    }

    /// @inheritdoc IWorkRegistry
    function leafOf(bytes32 contentHash, address creator) external pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(contentHash, creator))));
    }

    /// @inheritdoc IWorkRegistry
    function workOf(bytes32 contentHash) external view returns (uint256) {
        return _registrations[contentHash].workId;
    }

    /// @inheritdoc IWorkRegistry
    function getWork(uint256 workId) external view returns (Work memory) {
        bytes32 contentHash = _contentHashOf[workId];
        if (contentHash == bytes32(0)) revert UnknownWork(workId);
        Registration storage registration = _registrations[contentHash];
        return
            Work({
                contentHash: contentHash,
                creator: registration.creator,
                registeredAt: registration.registeredAt,
                parentId: _parentOf[workId]
            });
    }

    /// @inheritdoc IWorkRegistry
    function creatorOf(uint256 workId) external view returns (address) {
        return _creatorOf(workId);
    }

    /// @inheritdoc IWorkRegistry
    function workCount() external view returns (uint256) {
        return _workCount;
    }

    /// @inheritdoc IWorkRegistry
    function getBatch(uint256 batchId) external view returns (bytes32 merkleRoot, uint48 anchoredAt, uint48 count) {
        Batch storage batch = _batch(batchId);
        return (batch.merkleRoot, batch.anchoredAt, batch.count);
    }

    /// @inheritdoc IWorkRegistry
    function nonceUsed(address creator, uint256 nonce) external view returns (bool) {
        return _nonceBitmap[creator][nonce >> 8] & (1 << (nonce & 0xff)) != 0;
    }

    /// @notice ERC-165: IWorkRegistry, IAccessControl and IERC165.
    function supportsInterface(bytes4 interfaceId) public view override returns (bool) {
        return interfaceId == type(IWorkRegistry).interfaceId || super.supportsInterface(interfaceId);
    }

    // ----- internal -----

    function _register(
        address creator,
        bytes32 contentHash,
        string calldata cid,
        string calldata metadataURI,
        uint256 parentId
    ) private returns (uint256 workId) {
        if (contentHash == bytes32(0)) revert EmptyContentHash();
        Registration storage registration = _registrations[contentHash];
        uint256 existing = registration.workId;
        if (existing != 0) revert AlreadyRegistered(contentHash, existing);
        if (parentId != 0 && _creatorOf(parentId) != creator) revert ParentNotOwned(parentId, creator);

        // Every id costs a transaction, so the count never nears 2^48, the width of the stored id.
        unchecked {
            workId = ++_workCount;
        }
        // One whole-word store in Registration's layout; assigning the fields would read the fresh slot back first.
        assembly ("memory-safe") {
            sstore(registration.slot, or(or(workId, shl(48, creator)), shl(208, timestamp())))
        }
        _contentHashOf[workId] = contentHash;
        // A known parent id is at most the work count, so it fits the uint48.
        if (parentId != 0) _parentOf[workId] = uint48(parentId);
        emit WorkRegistered(workId, contentHash, creator, parentId, cid, metadataURI);
    }

    function _useNonce(address creator, uint256 nonce) private {
        uint256 bit = 1 << (nonce & 0xff);
        mapping(uint256 => uint256) storage bitmap = _nonceBitmap[creator];
        uint256 bits = bitmap[nonce >> 8];
        if (bits & bit != 0) revert NonceAlreadyUsed(creator, nonce);
        bitmap[nonce >> 8] = bits | bit;
    }

    function _creatorOf(uint256 workId) private view returns (address) {
        bytes32 contentHash = _contentHashOf[workId];
        if (contentHash == bytes32(0)) revert UnknownWork(workId);
        return _registrations[contentHash].creator;
    }

    function _batch(uint256 batchId) private view returns (Batch storage batch) {
        batch = _batches[batchId];
        if (batch.merkleRoot == bytes32(0)) revert UnknownBatch(batchId);
    }
}
