// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessControlDefaultAdminRules} from "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {ERC2981} from "@openzeppelin/contracts/token/common/ERC2981.sol";
import {Base64} from "@openzeppelin/contracts/utils/Base64.sol";
import {Strings} from "@openzeppelin/contracts/utils/Strings.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ILicenseToken} from "./interfaces/ILicenseToken.sol";
import {ISplitFactory} from "./interfaces/ISplitFactory.sol";
import {IWorkRegistry} from "./interfaces/IWorkRegistry.sol";
import {PullPayments} from "./PullPayments.sol";

/// @title Rights Ledger licenses: one ERC-721 token per license sold on a creator's offer
contract LicenseToken is ERC721, ERC2981, AccessControlDefaultAdminRules, EIP712, PullPayments, ILicenseToken {
    using Strings for uint256;

    /// @notice The platform's card-sales minter.
    bytes32 public constant MINTER_ROLE = keccak256("MINTER_ROLE");
    /// @notice Revokes licenses whose card payment was refunded or charged back, and enforces revocable offers.
    bytes32 public constant REVOKER_ROLE = keccak256("REVOKER_ROLE");
    uint16 public constant MAX_PLATFORM_FEE_BPS = 2000;
    uint16 public constant MAX_ROYALTY_BPS = 1000;
    /// @notice Longest license term an offer may set (100 years), which keeps renewed expiries far from overflow.
    uint64 public constant MAX_DURATION = 100 * 365 days;
    /// @notice Most licenses one holder may hold to one work: anyone can send a holder licenses, and this keeps
    /// `hasValidLicense`, which reads them all, bounded.
    uint16 public constant MAX_LICENSES_PER_WORK = 32;
    uint16 private constant TOTAL_BPS = 10_000;
    bytes32 private constant CREATE_OFFER_TYPEHASH = keccak256(
        "CreateOffer(address creator,uint256 workId,address currency,uint256 price,uint64 duration,uint32 maxSupply,"
        "bool transferable,bool commercialUse,uint16 referrerBps,uint16 royaltyBps,address split,string territory,"
        "bool revocable,uint256 nonce,uint256 deadline)"
    );
    bytes32 private constant SET_REFERRER_TYPEHASH = keccak256(
        "SetReferrer(uint256 offerId,address referrer,bool approved,uint256 nonce,uint256 deadline)"
    );

    // Laid out so a sale reads three slots and writes one: the terms it checks and the sold counter share
    // the first slot, the fee fixed at publication shares the split's, the creator (never needed by a sale)
    // sits alone in the last.
    struct OfferData {
        uint64 workId;
        uint64 duration;
        uint32 maxSupply;
        uint32 sold;
        uint16 referrerBps;
        uint16 royaltyBps;
        bool transferable;
        bool commercialUse;
        bool active;
        bool revocable;
        address currency;
        uint96 price;
        address split;
        uint16 platformFeeBps;
        address creator;
    }

    // One slot per license, including the links of its holder's list of licenses to the same work and the end
    // of the term a card paid for (a time, so 40 bits last 30,000 years).
    struct LicenseData {
        uint48 offerId;
        uint64 expiresAt;
        bool revoked;
        uint48 prev;
        uint48 next;
        uint40 cardPaidUntil;
    }

    /// @dev The head of a holder's list of licenses to one work and its length, in the slot a sale writes anyway.
    struct Holding {
        uint48 first;
        uint16 count;
    }

    IWorkRegistry public immutable registry;
    ISplitFactory public immutable splitFactory;

    // Every sale reads the fee settings and bumps the token counter: one slot for the three.
    address public treasury;
    uint16 public platformFeeBps;
    uint48 private _lastTokenId;

    uint48 private _lastOfferId;
    mapping(uint256 offerId => OfferData) private _offers;
    mapping(uint256 tokenId => LicenseData) private _licenses;
    mapping(address holder => mapping(uint256 workId => Holding)) private _holdings;
    mapping(uint256 offerId => mapping(address referrer => bool)) private _referrers;
    mapping(bytes32 paymentRef => bool) private _paymentRefUsed;
    /// @dev Works an earlier claim superseded, as the registry told: one slot a sale reads instead of a call.
    mapping(uint256 workId => bool) private _supersededWorks;

    /// @notice Whether `creator` has used `nonce` in a `createOfferFor` or `setReferrerFor` signature.
    mapping(address creator => mapping(uint256 nonce => bool)) public nonceUsed;

    /// @param minter holds MINTER_ROLE; @param revoker holds REVOKER_ROLE (both may be address(0) for none).
    constructor(
        address admin,
        uint48 adminDelay,
        IWorkRegistry registry_,
        ISplitFactory splits,
        address treasury_,
        uint16 platformFeeBps_,
        address minter,
        address revoker
    )
        ERC721("Rights Ledger License", "RLL")
        EIP712("RightsLedger LicenseToken", "1")
        AccessControlDefaultAdminRules(adminDelay, admin)
    {
        registry = registry_;
        splitFactory = splits;
        if (minter != address(0)) _grantRole(MINTER_ROLE, minter);
        if (revoker != address(0)) _grantRole(REVOKER_ROLE, revoker);
        _setTreasury(treasury_);
        _setPlatformFee(platformFeeBps_);
    }

    // --- creator ---

    /// @inheritdoc ILicenseToken
    function createOffer(OfferParams calldata params) external returns (uint256 offerId) {
        return _createOffer(params, msg.sender);
    }

    /// @inheritdoc ILicenseToken
    function createOfferFor(
        OfferParams calldata params,
        address creator,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external returns (uint256 offerId) {
        _useSignature(creator, nonce, deadline, _createOfferStructHash(params, creator, nonce, deadline), signature);
        return _createOffer(params, creator);
    }

    /// @inheritdoc ILicenseToken
    function setOfferActive(uint256 offerId, bool active) external {
        OfferData storage offer = _existingOffer(offerId);
        if (msg.sender != offer.creator && !hasRole(DEFAULT_ADMIN_ROLE, msg.sender)) {
            revert NotWorkCreator(offer.workId, msg.sender);
        }
        offer.active = active;
        emit OfferActiveSet(offerId, active);
    }

    /// @inheritdoc ILicenseToken
    function setReferrer(uint256 offerId, address referrer, bool approved) external {
        OfferData storage offer = _existingOffer(offerId);
        if (msg.sender != offer.creator) revert NotWorkCreator(offer.workId, msg.sender);
        _setReferrer(offerId, referrer, approved);
    }

    /// @inheritdoc ILicenseToken
    function setReferrerFor(
        uint256 offerId,
        address referrer,
        bool approved,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external {
        address creator = _existingOffer(offerId).creator;
        bytes32 structHash = keccak256(abi.encode(SET_REFERRER_TYPEHASH, offerId, referrer, approved, nonce, deadline));
        _useSignature(creator, nonce, deadline, structHash, signature);
        _setReferrer(offerId, referrer, approved);
    }

    /// @inheritdoc ILicenseToken
    function cancelNonce(uint256 nonce) external {
        if (nonceUsed[msg.sender][nonce]) revert NonceAlreadyUsed(msg.sender, nonce);
        nonceUsed[msg.sender][nonce] = true;
        emit NonceCancelled(msg.sender, nonce);
    }

    /// @inheritdoc ILicenseToken
    function revoke(uint256 tokenId, RevocationReason reason) external {
        LicenseData storage license = _existingLicense(tokenId);
        if (license.revoked) revert LicenseIsRevoked(tokenId);
        bool revoker = hasRole(REVOKER_ROLE, msg.sender);
        if (reason == RevocationReason.OfferTerms) {
            OfferData storage offer = _offers[license.offerId];
            if (!offer.revocable) revert RevocationNotAllowed(tokenId, reason);
            if (!revoker && msg.sender != offer.creator) revert NotAllowedToRevoke(tokenId, msg.sender);
        } else {
            if (!revoker) revert NotAllowedToRevoke(tokenId, msg.sender);
            uint40 paidUntil = license.cardPaidUntil;
            if (paidUntil == 0) revert RevocationNotAllowed(tokenId, reason);
            license.cardPaidUntil = 0;
            uint64 expiresAt = license.expiresAt;
            // Renewed since with other money: only the part of the card-paid term not yet used is taken back.
            if (expiresAt > paidUntil) {
                if (paidUntil > block.timestamp) expiresAt -= paidUntil - uint64(block.timestamp);
                license.expiresAt = expiresAt;
                emit LicenseShortened(tokenId, msg.sender, reason, expiresAt);
                return;
            }
        }
        license.revoked = true;
        emit LicenseRevoked(tokenId, msg.sender, reason);
    }

    // --- buyer ---

    /// @inheritdoc ILicenseToken
    function purchase(
        uint256 offerId,
        address recipient,
        address referrer
    ) external payable nonReentrant returns (uint256 tokenId) {
        OfferData storage offer = _offers[offerId];
        _requireActive(offerId, offer);
        if (referrer != address(0) && (referrer == recipient || referrer == msg.sender)) revert SelfReferral(referrer);
        _checkPayment(offer.currency, offer.price);
        tokenId = _issue(offerId, offer, recipient, bytes32(0));
        _collect(tokenId, offer, referrer != address(0) && _referrers[offerId][referrer] ? referrer : address(0));
    }

    /// @inheritdoc ILicenseToken
    function renew(uint256 tokenId) external payable nonReentrant returns (uint64 expiresAt) {
        LicenseData storage license = _existingLicense(tokenId);
        if (license.revoked) revert LicenseIsRevoked(tokenId);
        uint64 currentExpiry = license.expiresAt;
        if (currentExpiry == 0) revert LicenseNotRenewable(tokenId);
        OfferData storage offer = _offers[license.offerId];
        _requireActive(license.offerId, offer);
        _checkPayment(offer.currency, offer.price);

        expiresAt = uint64(Math.max(block.timestamp, currentExpiry)) + offer.duration;
        license.expiresAt = expiresAt;
        emit LicenseRenewed(tokenId, msg.sender, expiresAt);
        _collect(tokenId, offer, address(0));
    }

    // --- platform ---

    /// @inheritdoc ILicenseToken
    function mintForFiat(
        uint256 offerId,
        address recipient,
        bytes32 paymentRef
    ) external onlyRole(MINTER_ROLE) returns (uint256 tokenId) {
        return _mintForFiat(offerId, recipient, paymentRef);
    }

    /// @inheritdoc ILicenseToken
    function mintForFiatBatch(
        FiatMint[] calldata mints
    ) external onlyRole(MINTER_ROLE) returns (uint256[] memory tokenIds) {
        if (mints.length == 0) revert EmptyMintBatch();
        tokenIds = new uint256[](mints.length);
        for (uint256 i; i < mints.length; ++i) {
            tokenIds[i] = _mintForFiat(mints[i].offerId, mints[i].recipient, mints[i].paymentRef);
        }
    }

    /// @inheritdoc ILicenseToken
    function setPlatformFee(uint16 feeBps) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setPlatformFee(feeBps);
    }

    /// @inheritdoc ILicenseToken
    function setTreasury(address treasury_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setTreasury(treasury_);
    }

    // --- registry ---

    /// @notice Called by the registry in the transaction that supersedes work `workId`: its offers stop selling.
    function onWorkSuperseded(uint256 workId) external {
        if (msg.sender != address(registry)) revert NotRegistry(msg.sender);
        _supersededWorks[workId] = true;
    }

    // --- views ---

    /// @inheritdoc ILicenseToken
    function isValid(uint256 tokenId) external view returns (bool) {
        LicenseData storage license = _licenses[tokenId];
        return license.offerId != 0 && _isLive(license);
    }

    /// @inheritdoc ILicenseToken
    /// @dev Each holder's licenses to a work form a linked list of at most MAX_LICENSES_PER_WORK that `_update`
    /// relinks on every mint and transfer, so the answer stays exact after transfers, renewals and revocations;
    /// the walk visits only that holder's licenses to that work and returns the perpetual one or else the one
    /// expiring last.
    function hasValidLicense(address holder, uint256 workId) external view returns (bool valid, uint256 tokenId) {
        uint64 latestExpiry;
        for (uint256 id = _holdings[holder][workId].first; id != 0; id = _licenses[id].next) {
            LicenseData storage license = _licenses[id];
            if (!_isLive(license)) continue;
            if (license.expiresAt == 0) return (true, id);
            if (license.expiresAt > latestExpiry) {
                latestExpiry = license.expiresAt;
                tokenId = id;
            }
        }
        valid = tokenId != 0;
    }

    /// @inheritdoc ILicenseToken
    function getOffer(uint256 offerId) external view returns (Offer memory) {
        OfferData storage offer = _existingOffer(offerId);
        return
            Offer({
                workId: offer.workId,
                creator: offer.creator,
                duration: offer.duration,
                maxSupply: offer.maxSupply,
                sold: offer.sold,
                transferable: offer.transferable,
                commercialUse: offer.commercialUse,
                active: offer.active,
                referrerBps: offer.referrerBps,
                royaltyBps: offer.royaltyBps,
                platformFeeBps: offer.platformFeeBps,
                revocable: offer.revocable,
                currency: offer.currency,
                split: offer.split,
                price: offer.price
            });
    }

    /// @inheritdoc ILicenseToken
    function getLicense(uint256 tokenId) external view returns (License memory) {
        LicenseData storage license = _existingLicense(tokenId);
        return
            License({
                offerId: license.offerId,
                workId: _offers[license.offerId].workId,
                expiresAt: license.expiresAt,
                revoked: license.revoked,
                cardPaidUntil: license.cardPaidUntil
            });
    }

    /// @inheritdoc ILicenseToken
    function isReferrer(uint256 offerId, address referrer) external view returns (bool) {
        return _referrers[offerId][referrer];
    }

    /// @inheritdoc ILicenseToken
    function paymentRefUsed(bytes32 paymentRef) external view returns (bool) {
        return _paymentRefUsed[paymentRef];
    }

    /// @notice Number of offers created (the highest offer id).
    function offerCount() external view returns (uint256) {
        return _lastOfferId;
    }

    /// @notice Royalties on resales go to the offer's split; soulbound licenses cannot be resold.
    function royaltyInfo(
        uint256 tokenId,
        uint256 salePrice
    ) public view override returns (address receiver, uint256 amount) {
        OfferData storage offer = _offers[_licenses[tokenId].offerId];
        if (!offer.transferable) return (address(0), 0);
        return (offer.split, Math.mulDiv(salePrice, offer.royaltyBps, TOTAL_BPS));
    }

    /// @notice On-chain JSON metadata describing the license's terms and current status.
    function tokenURI(uint256 tokenId) public view override returns (string memory) {
        _requireOwned(tokenId);
        LicenseData storage license = _licenses[tokenId];
        OfferData storage offer = _offers[license.offerId];
        string memory json = string.concat(
            '{"name":"Rights Ledger License #',
            tokenId.toString(),
            '","description":"License to work #',
            uint256(offer.workId).toString(),
            " under offer #",
            uint256(license.offerId).toString(),
            '.","attributes":[',
            _numberAttribute("workId", offer.workId),
            ",",
            _numberAttribute("offerId", license.offerId),
            ",",
            _expiryAttribute(license.expiresAt),
            ",",
            _boolAttribute("valid", _isLive(license)),
            ",",
            _boolAttribute("revoked", license.revoked),
            ",",
            _boolAttribute("commercialUse", offer.commercialUse),
            ",",
            _boolAttribute("transferable", offer.transferable),
            "]}"
        );
        return string.concat("data:application/json;base64,", Base64.encode(bytes(json)));
    }

    function supportsInterface(
        bytes4 interfaceId
    ) public view override(ERC721, ERC2981, AccessControlDefaultAdminRules) returns (bool) {
        return super.supportsInterface(interfaceId);
    }

    // --- internal ---

    function _createOffer(OfferParams calldata params, address creator) private returns (uint256 offerId) {
        if (registry.creatorOf(params.workId) != creator) revert NotWorkCreator(params.workId, creator);
        if (!splitFactory.isSplit(params.split)) revert UnknownSplit(params.split);
        if (params.price == 0 || params.price > type(uint96).max) revert InvalidOffer("price");
        if (params.currency != address(0) && params.currency.code.length == 0) revert InvalidOffer("currency");
        // Against the highest fee the admin may ever set, so a later fee change cannot starve the split.
        if (uint256(params.referrerBps) + MAX_PLATFORM_FEE_BPS > TOTAL_BPS) revert InvalidOffer("referrerBps");
        if (params.royaltyBps > MAX_ROYALTY_BPS) revert InvalidOffer("royaltyBps");
        if (params.duration > MAX_DURATION) revert InvalidOffer("duration");
        if (bytes(params.territory).length == 0) revert InvalidOffer("territory");

        offerId = ++_lastOfferId;
        _offers[offerId] = OfferData({
            workId: SafeCast.toUint64(params.workId),
            duration: params.duration,
            maxSupply: params.maxSupply,
            sold: 0,
            referrerBps: params.referrerBps,
            royaltyBps: params.royaltyBps,
            transferable: params.transferable,
            commercialUse: params.commercialUse,
            active: true,
            revocable: params.revocable,
            currency: params.currency,
            price: uint96(params.price),
            split: params.split,
            platformFeeBps: platformFeeBps,
            creator: creator
        });
        _emitOfferCreated(offerId, creator, params);
    }

    function _emitOfferCreated(uint256 offerId, address creator, OfferParams calldata params) private {
        emit OfferCreated(
            offerId,
            params.workId,
            creator,
            params.currency,
            params.price,
            params.duration,
            params.maxSupply,
            params.transferable,
            params.commercialUse,
            params.referrerBps,
            params.royaltyBps,
            params.split,
            params.territory,
            params.revocable,
            platformFeeBps
        );
    }

    /// @dev Mints one license of an active offer to `recipient`: what paid and card sales share.
    function _issue(
        uint256 offerId,
        OfferData storage offer,
        address recipient,
        bytes32 paymentRef
    ) private returns (uint256 tokenId) {
        if (recipient == address(0)) revert InvalidRecipient(recipient);
        uint32 sold = offer.sold;
        uint32 maxSupply = offer.maxSupply;
        if (maxSupply != 0 && sold >= maxSupply) revert OfferSoldOut(offerId);
        offer.sold = sold + 1;

        uint64 duration = offer.duration;
        uint64 expiresAt = duration == 0 ? 0 : uint64(block.timestamp) + duration;
        tokenId = ++_lastTokenId;
        LicenseData storage license = _licenses[tokenId];
        license.offerId = uint48(offerId);
        license.expiresAt = expiresAt;
        // Not _safeMint: the buyer picks the recipient, whose receiver hook would run in the middle of a sale.
        _mint(recipient, tokenId);
        emit LicenseIssued(tokenId, offerId, offer.workId, recipient, expiresAt, msg.sender, paymentRef);
    }

    function _mintForFiat(uint256 offerId, address recipient, bytes32 paymentRef) private returns (uint256) {
        if (paymentRef == bytes32(0)) revert EmptyPaymentRef();
        if (_paymentRefUsed[paymentRef]) revert PaymentRefUsed(paymentRef);
        OfferData storage offer = _offers[offerId];
        _requireActive(offerId, offer);
        _paymentRefUsed[paymentRef] = true;
        uint256 tokenId = _issue(offerId, offer, recipient, paymentRef);
        uint64 expiresAt = _licenses[tokenId].expiresAt;
        _licenses[tokenId].cardPaidUntil = expiresAt == 0 ? type(uint40).max : uint40(expiresAt);
        return tokenId;
    }

    /// @dev An offer sells while it is active and its work has not been superseded (a work's creator never
    /// changes otherwise, so the offer's creator still holds it).
    function _requireActive(uint256 offerId, OfferData storage offer) private view {
        if (!offer.active) {
            _existingOffer(offerId);
            revert OfferInactive(offerId);
        }
        uint256 workId = offer.workId;
        if (_supersededWorks[workId]) revert WorkSuperseded(workId);
    }

    /// @dev Credits the platform fee fixed at publication and an approved referrer's commission for withdrawal,
    /// and pushes the rest to the split.
    function _collect(uint256 tokenId, OfferData storage offer, address referrer) private {
        address currency = offer.currency;
        address split = offer.split;
        uint256 price = offer.price;
        uint256 fee = (price * offer.platformFeeBps) / TOTAL_BPS;
        uint256 commission = referrer == address(0) ? 0 : (price * offer.referrerBps) / TOTAL_BPS;
        uint256 toSplit = price - fee - commission;
        if (fee != 0) _credit(treasury, currency, fee);
        if (commission != 0) _credit(referrer, currency, commission);
        emit RevenuePaid(tokenId, currency, split, price, fee, referrer, commission);

        if (currency != address(0)) _pullExactly(IERC20(currency), price);
        if (toSplit != 0) _pay(split, currency, toSplit);
    }

    function _setPlatformFee(uint16 feeBps) private {
        if (feeBps > MAX_PLATFORM_FEE_BPS) revert FeeTooHigh(feeBps, MAX_PLATFORM_FEE_BPS);
        platformFeeBps = feeBps;
        emit PlatformFeeSet(feeBps);
    }

    function _setTreasury(address treasury_) private {
        if (treasury_ == address(0)) revert InvalidRecipient(treasury_);
        treasury = treasury_;
        emit TreasurySet(treasury_);
    }

    function _setReferrer(uint256 offerId, address referrer, bool approved) private {
        if (referrer == address(0)) revert InvalidRecipient(referrer);
        _referrers[offerId][referrer] = approved;
        emit ReferrerSet(offerId, referrer, approved);
    }

    /// @dev Spends `creator`'s `nonce` on a signature of `structHash` that must be theirs and not past `deadline`.
    function _useSignature(
        address creator,
        uint256 nonce,
        uint256 deadline,
        bytes32 structHash,
        bytes calldata signature
    ) private {
        if (block.timestamp > deadline) revert SignatureExpired(deadline);
        if (nonceUsed[creator][nonce]) revert NonceAlreadyUsed(creator, nonce);
        if (!SignatureChecker.isValidSignatureNowCalldata(creator, _hashTypedDataV4(structHash), signature)) {
            revert InvalidCreatorSignature(creator);
        }
        nonceUsed[creator][nonce] = true;
    }

    /// @dev Enforces soulbound offers and revocations, and keeps each holder's per-work list of licenses in step
    /// with ownership.
    function _update(address to, uint256 tokenId, address auth) internal override returns (address from) {
        from = super._update(to, tokenId, auth);
        LicenseData storage license = _licenses[tokenId];
        OfferData storage offer = _offers[license.offerId];
        uint256 workId = offer.workId;
        if (from != address(0)) {
            if (!offer.transferable) revert LicenseSoulbound(tokenId);
            if (license.revoked) revert LicenseIsRevoked(tokenId);
            _unlink(from, workId, license);
        }
        _link(to, workId, tokenId, license);
    }

    function _link(address holder, uint256 workId, uint256 tokenId, LicenseData storage license) private {
        Holding storage holding = _holdings[holder][workId];
        uint48 first = holding.first;
        uint16 count = holding.count;
        if (count >= MAX_LICENSES_PER_WORK) revert TooManyLicenses(holder, workId);
        license.prev = 0;
        license.next = first;
        if (first != 0) _licenses[first].prev = uint48(tokenId);
        holding.first = uint48(tokenId);
        holding.count = count + 1;
    }

    function _unlink(address holder, uint256 workId, LicenseData storage license) private {
        Holding storage holding = _holdings[holder][workId];
        uint48 prev = license.prev;
        uint48 next = license.next;
        if (prev == 0) {
            holding.first = next;
        } else {
            _licenses[prev].next = next;
        }
        if (next != 0) _licenses[next].prev = prev;
        holding.count -= 1;
    }

    function _existingOffer(uint256 offerId) private view returns (OfferData storage) {
        if (offerId == 0 || offerId > _lastOfferId) revert UnknownOffer(offerId);
        return _offers[offerId];
    }

    function _existingLicense(uint256 tokenId) private view returns (LicenseData storage license) {
        license = _licenses[tokenId];
        if (license.offerId == 0) revert UnknownLicense(tokenId);
    }

    function _isLive(LicenseData storage license) private view returns (bool) {
        uint64 expiresAt = license.expiresAt;
        return !license.revoked && (expiresAt == 0 || block.timestamp < expiresAt);
    }

    function _createOfferStructHash(
        OfferParams calldata params,
        address creator,
        uint256 nonce,
        uint256 deadline
    ) private pure returns (bytes32) {
        // Two halves because one abi.encode of all sixteen words does not fit the stack; the concatenation
        // is the same bytes.
        return
            keccak256(
                bytes.concat(
                    abi.encode(
                        CREATE_OFFER_TYPEHASH,
                        creator,
                        params.workId,
                        params.currency,
                        params.price,
                        params.duration,
                        params.maxSupply,
                        params.transferable
                    ),
                    abi.encode(
                        params.commercialUse,
                        params.referrerBps,
                        params.royaltyBps,
                        params.split,
                        keccak256(bytes(params.territory)),
                        params.revocable,
                        nonce,
                        deadline
                    )
                )
            );
    }

    function _numberAttribute(string memory trait, uint256 value) private pure returns (string memory) {
        return string.concat('{"trait_type":"', trait, '","value":', value.toString(), "}");
    }

    function _boolAttribute(string memory trait, bool value) private pure returns (string memory) {
        return string.concat('{"trait_type":"', trait, '","value":', value ? "true" : "false", "}");
    }

    function _expiryAttribute(uint64 expiresAt) private pure returns (string memory) {
        if (expiresAt == 0) return '{"trait_type":"expiresAt","value":"perpetual"}';
        return
            string.concat(
                '{"trait_type":"expiresAt","display_type":"date","value":',
                uint256(expiresAt).toString(),
                "}"
            );
    }
}
