// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IPullPayments} from "./IPullPayments.sol";
import {ISupersessionHook} from "./ISupersessionHook.sol";

/// @title Time-limited licenses as ERC-721 tokens
/// @notice Creators publish offers on their works; buyers pay in native currency or an ERC-20 and
/// receive one token per license. Revenue after the platform fee (fixed when the offer is published)
/// and the commission of a referrer the creator approved goes to the offer's revenue split. Card
/// payments are minted by the platform's minter with a payment reference that can be used once only.
/// A license is revoked only for a stated reason: its card payment was refunded or charged back, or
/// the terms of an offer that declared itself revocable.
interface ILicenseToken is IPullPayments, ISupersessionHook {
    /// @notice Terms of an offer, as given by the creator.
    struct OfferParams {
        uint256 workId;
        address currency; // address(0) for native currency
        uint256 price; // per license and per renewal, in the currency's smallest unit
        uint64 duration; // seconds; 0 for perpetual
        uint32 maxSupply; // 0 for unlimited
        bool transferable; // false: soulbound
        bool commercialUse;
        uint16 referrerBps; // commission paid to a purchase's referrer
        uint16 royaltyBps; // ERC-2981 royalty on resales of transferable licenses
        address split; // receives revenue; must come from the split factory
        string territory; // e.g. "WORLD" or ISO 3166 codes, shown to buyers
        bool revocable; // the creator may revoke licenses for breach of the offer's terms
    }

    /// @notice An offer as stored.
    struct Offer {
        uint256 workId;
        address creator;
        uint64 duration;
        uint32 maxSupply;
        uint32 sold;
        bool transferable;
        bool commercialUse;
        bool active;
        uint16 referrerBps;
        uint16 royaltyBps;
        uint16 platformFeeBps; // fixed when the offer was published
        bool revocable;
        address currency;
        address split;
        uint256 price;
    }

    /// @notice One license paid off chain (card), as minted by `mintForFiatBatch`.
    struct FiatMint {
        uint256 offerId;
        address recipient;
        bytes32 paymentRef;
    }

    /// @notice A license as stored.
    struct License {
        uint64 offerId;
        uint64 workId;
        uint64 expiresAt; // 0 for perpetual
        bool revoked;
        uint64 cardPaidUntil; // the end of the term a card paid for; 0 when none can still be taken back
    }

    /// @notice Why a license is revoked. A card refund or chargeback takes back only what the card paid for.
    enum RevocationReason {
        CardRefund,
        CardChargeback,
        OfferTerms
    }

    /// @notice A creator published an offer; `platformFeeBps` is the fee its sales and renewals pay for good.
    event OfferCreated(
        uint256 indexed offerId,
        uint256 indexed workId,
        address indexed creator,
        address currency,
        uint256 price,
        uint64 duration,
        uint32 maxSupply,
        bool transferable,
        bool commercialUse,
        uint16 referrerBps,
        uint16 royaltyBps,
        address split,
        string territory,
        bool revocable,
        uint16 platformFeeBps
    );
    /// @notice Sales of the offer were paused or resumed.
    event OfferActiveSet(uint256 indexed offerId, bool active);
    /// @notice The offer's creator approved `referrer` to earn the offer's commission, or withdrew the approval.
    event ReferrerSet(uint256 indexed offerId, address indexed referrer, bool approved);
    /// @notice `creator` cancelled `nonce` before any signature using it was submitted.
    event NonceCancelled(address indexed creator, uint256 nonce);
    /// @notice A license was minted. `paymentRef` is 0 for on-chain purchases.
    event LicenseIssued(
        uint256 indexed tokenId,
        uint256 indexed offerId,
        uint256 indexed workId,
        address holder,
        uint64 expiresAt,
        address payer,
        bytes32 paymentRef
    );
    /// @notice `payer` extended the license to `expiresAt`.
    event LicenseRenewed(uint256 indexed tokenId, address indexed payer, uint64 expiresAt);
    /// @notice The license is no longer valid and can no longer be transferred.
    event LicenseRevoked(uint256 indexed tokenId, address indexed by, RevocationReason reason);
    /// @notice A card refund or chargeback took back the unused part of the card-paid term of a license renewed
    /// since with other money; the license now ends at `expiresAt`.
    event LicenseShortened(uint256 indexed tokenId, address indexed by, RevocationReason reason, uint64 expiresAt);
    /// @notice Revenue of a purchase or renewal: fee to the treasury, commission to the referrer (0 when the
    /// creator has not approved them), the rest to the split.
    event RevenuePaid(
        uint256 indexed tokenId,
        address indexed currency,
        address indexed split,
        uint256 amount,
        uint256 platformFee,
        address referrer,
        uint256 referrerCommission
    );
    /// @notice Offers published from now on pay `feeBps`; existing offers keep theirs.
    event PlatformFeeSet(uint16 feeBps);
    /// @notice Platform fees accrue to `treasury` from now on.
    event TreasurySet(address treasury);

    /// @notice No offer has id `offerId`.
    error UnknownOffer(uint256 offerId);
    /// @notice No license has id `tokenId`.
    error UnknownLicense(uint256 tokenId);
    /// @notice Only the work's (or the offer's) creator may do this.
    error NotWorkCreator(uint256 workId, address caller);
    /// @notice An offer term is out of range; `field` names it.
    error InvalidOffer(string field);
    /// @notice `split` was not created by the split factory.
    error UnknownSplit(address split);
    /// @notice The offer's sales are paused.
    error OfferInactive(uint256 offerId);
    /// @notice An earlier claim of the file superseded the offer's work: its creator is not the author, and
    /// nothing sells on it any more (the registry's error of the same name).
    error WorkSuperseded(uint256 workId);
    /// @notice Only the work registry tells the license token that a work was superseded.
    error NotRegistry(address caller);
    /// @notice The offer sold its whole supply.
    error OfferSoldOut(uint256 offerId);
    /// @notice The card payment reference was used before.
    error PaymentRefUsed(bytes32 paymentRef);
    /// @notice A card mint needs a payment reference.
    error EmptyPaymentRef();
    /// @notice A batch of card mints needs at least one.
    error EmptyMintBatch();
    /// @notice The license is revoked.
    error LicenseIsRevoked(uint256 tokenId);
    /// @notice Perpetual licenses cannot be renewed.
    error LicenseNotRenewable(uint256 tokenId);
    /// @notice The license's offer is not transferable.
    error LicenseSoulbound(uint256 tokenId);
    /// @notice `caller` may not revoke this license.
    error NotAllowedToRevoke(uint256 tokenId, address caller);
    /// @notice `reason` does not apply to this license: it was not paid by card (or already taken back), or its
    /// offer did not declare itself revocable.
    error RevocationNotAllowed(uint256 tokenId, RevocationReason reason);
    /// @notice `holder` already holds the most licenses to `workId` one holder may.
    error TooManyLicenses(address holder, uint256 workId);
    /// @notice The zero address cannot hold licenses or fees.
    error InvalidRecipient(address recipient);
    /// @notice A buyer cannot refer their own purchase.
    error SelfReferral(address referrer);
    /// @notice The fee exceeds MAX_PLATFORM_FEE_BPS.
    error FeeTooHigh(uint16 feeBps, uint16 maxBps);
    /// @notice The signature is not `creator`'s.
    error InvalidCreatorSignature(address creator);
    /// @notice The signature's deadline has passed.
    error SignatureExpired(uint256 deadline);
    /// @notice `creator` has used or cancelled `nonce`.
    error NonceAlreadyUsed(address creator, uint256 nonce);

    // --- creator ---

    /// @notice Publishes an offer for a work the caller created.
    function createOffer(OfferParams calldata params) external returns (uint256 offerId);

    /// @notice Publishes an offer signed (EIP-712 `CreateOffer`) by the work's creator; anyone may submit it.
    function createOfferFor(
        OfferParams calldata params,
        address creator,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external returns (uint256 offerId);

    /// @notice Pauses or resumes sales of an offer; its creator or an admin.
    function setOfferActive(uint256 offerId, bool active) external;

    /// @notice Approves `referrer` to earn the offer's commission on purchases they refer, or withdraws the
    /// approval; the offer's creator only. Purchases naming anyone else pay no commission.
    function setReferrer(uint256 offerId, address referrer, bool approved) external;

    /// @notice Approves or withdraws `referrer` as `setReferrer` does, signed (EIP-712 `SetReferrer`) by the offer's
    /// creator with a nonce of the same space as `createOfferFor`'s; anyone may submit it.
    function setReferrerFor(
        uint256 offerId,
        address referrer,
        bool approved,
        uint256 nonce,
        uint256 deadline,
        bytes calldata signature
    ) external;

    /// @notice Marks `nonce` used so that no `createOfferFor` or `setReferrerFor` signature with it can be
    /// submitted any more.
    function cancelNonce(uint256 nonce) external;

    /// @notice Revokes a license for a stated reason. A card refund or chargeback (REVOKER_ROLE) applies to
    /// licenses minted by card: one renewed since with other money loses only the unused card-paid term.
    /// A breach of terms (the offer's creator or REVOKER_ROLE) applies to licenses of revocable offers.
    function revoke(uint256 tokenId, RevocationReason reason) external;

    // --- buyer ---

    /// @notice Pays the offer's price and mints a license to `recipient`.
    /// @param referrer earns the offer's commission if the creator approved them; address(0) for none.
    function purchase(uint256 offerId, address recipient, address referrer) external payable returns (uint256 tokenId);

    /// @notice Pays the offer's price again and extends the license by its duration from the later of now and its expiry.
    function renew(uint256 tokenId) external payable returns (uint64 expiresAt);

    // --- platform ---

    /// @notice Mints a license paid off chain (card); MINTER_ROLE. `paymentRef` can be used once, ever.
    function mintForFiat(uint256 offerId, address recipient, bytes32 paymentRef) external returns (uint256 tokenId);

    /// @notice Mints several licenses paid off chain in one transaction, as `mintForFiat` would one by one;
    /// MINTER_ROLE. All or nothing: if one cannot be minted, the whole batch reverts with its error.
    function mintForFiatBatch(FiatMint[] calldata mints) external returns (uint256[] memory tokenIds);

    /// @notice Sets the platform fee of offers published from now on; DEFAULT_ADMIN_ROLE.
    function setPlatformFee(uint16 feeBps) external;

    /// @notice Sets where platform fees accrue; DEFAULT_ADMIN_ROLE.
    function setTreasury(address treasury) external;

    // --- views ---

    /// @notice Whether the license exists, is not revoked and has not expired.
    function isValid(uint256 tokenId) external view returns (bool);

    /// @notice Whether `holder` holds a valid license to `workId`, and which one. Reads at most
    /// MAX_LICENSES_PER_WORK licenses, the most one holder may hold to one work.
    function hasValidLicense(address holder, uint256 workId) external view returns (bool valid, uint256 tokenId);

    /// @notice Whether the offer's creator approved `referrer`.
    function isReferrer(uint256 offerId, address referrer) external view returns (bool);

    /// @notice An offer; reverts with UnknownOffer.
    function getOffer(uint256 offerId) external view returns (Offer memory);

    /// @notice A license; reverts with UnknownLicense.
    function getLicense(uint256 tokenId) external view returns (License memory);

    /// @notice Whether a card payment reference has been minted.
    function paymentRefUsed(bytes32 paymentRef) external view returns (bool);
}
