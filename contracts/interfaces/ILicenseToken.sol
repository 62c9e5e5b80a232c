// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IPullPayments} from "./IPullPayments.sol";

/// @title Time-limited licenses as ERC-721 tokens
/// @notice Creators publish offers on their works; buyers pay in native currency or an ERC-20 and
/// receive one token per license. Revenue after the platform fee and referrer commission goes to
/// the offer's revenue split. Card payments are minted by the platform's minter with a payment
/// reference that can be used once only.
interface ILicenseToken is IPullPayments {
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
    }

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
        string territory
    );
    event OfferActiveSet(uint256 indexed offerId, bool active);
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
    event LicenseRenewed(uint256 indexed tokenId, address indexed payer, uint64 expiresAt);
    event LicenseRevoked(uint256 indexed tokenId, address indexed by, string reason);
    /// @notice Revenue of a purchase or renewal: fee to the treasury, commission to the referrer, the rest to the split.
    event RevenuePaid(
        uint256 indexed tokenId,
        address indexed currency,
        address indexed split,
        uint256 amount,
        uint256 platformFee,
        address referrer,
        uint256 referrerCommission
    );
    event PlatformFeeSet(uint16 feeBps);
    event TreasurySet(address treasury);

    error UnknownOffer(uint256 offerId);
    error UnknownLicense(uint256 tokenId);
    error NotWorkCreator(uint256 workId, address caller);
    error InvalidOffer(string field);
    error UnknownSplit(address split);
    error OfferInactive(uint256 offerId);
    error OfferSoldOut(uint256 offerId);
    error PaymentRefUsed(bytes32 paymentRef);
    error EmptyPaymentRef();
    error EmptyMintBatch();
    error LicenseIsRevoked(uint256 tokenId);
    error LicenseNotRenewable(uint256 tokenId);
    error LicenseSoulbound(uint256 tokenId);
    error NotAllowedToRevoke(uint256 tokenId, address caller);
    error InvalidRecipient(address recipient);
    error SelfReferral(address referrer);
    error FeeTooHigh(uint16 feeBps, uint16 maxBps);
    error InvalidCreatorSignature(address creator);
    error SignatureExpired(uint256 deadline);
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

    /// @notice Revokes a license (refund, chargeback, breach); the work's creator or an admin.
    function revoke(uint256 tokenId, string calldata reason) external;

    // --- buyer ---

    /// @notice Pays the offer's price and mints a license to `recipient`.
    /// @param referrer receives the offer's referrer commission; address(0) for none.
    function purchase(uint256 offerId, address recipient, address referrer) external payable returns (uint256 tokenId);

    /// @notice Pays the offer's price again and extends the license by its duration from the later of now and its expiry.
    function renew(uint256 tokenId) external payable returns (uint64 expiresAt);

    // --- platform ---

    /// @notice Mints a license paid off chain (card); MINTER_ROLE. `paymentRef` can be used once, ever.
    function mintForFiat(uint256 offerId, address recipient, bytes32 paymentRef) external returns (uint256 tokenId);

    /// @notice Mints several licenses paid off chain in one transaction, as `mintForFiat` would one by one;
    /// MINTER_ROLE. All or nothing: if one cannot be minted, the whole batch reverts with its error.
    function mintForFiatBatch(FiatMint[] calldata mints) external returns (uint256[] memory tokenIds);

    /// @notice Sets the platform fee taken from every sale; DEFAULT_ADMIN_ROLE.
    function setPlatformFee(uint16 feeBps) external;

    /// @notice Sets where platform fees accrue; DEFAULT_ADMIN_ROLE.
    function setTreasury(address treasury) external;

    // --- views ---

    /// @notice Whether the license exists, is not revoked and has not expired.
    function isValid(uint256 tokenId) external view returns (bool);

    /// @notice Whether `holder` holds a valid license to `workId`, and which one.
    function hasValidLicense(address holder, uint256 workId) external view returns (bool valid, uint256 tokenId);

    function getOffer(uint256 offerId) external view returns (Offer memory);

    function getLicense(uint256 tokenId) external view returns (License memory);

    function paymentRefUsed(bytes32 paymentRef) external view returns (bool);
}
