// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IRevenueSplit} from "./interfaces/IRevenueSplit.sol";

/// @title Immutable revenue split, deployed as minimal clones by the split factory
/// @notice Pull accounting in the manner of OpenZeppelin's PaymentSplitter: nothing is recorded when money
/// arrives, so receiving stays cheap for the license contract that pushes revenue on every sale.
/// The transient reentrancy guard needs no constructor-set storage, which clones would never run.
contract RevenueSplit is IRevenueSplit, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    uint256 public constant TOTAL_BPS = 10_000;
    uint256 public constant MAX_RECIPIENTS = 50;

    // An account and its share share one slot, so computing every entitlement reads one slot per recipient.
    struct Share {
        address account;
        uint16 bps;
    }

    bool private _initialized;
    Share[] private _shares;
    mapping(address account => uint256) private _positionOf; // index + 1; 0 for non-recipients
    mapping(address token => uint256) private _totalReleased;
    mapping(address token => mapping(address account => uint256)) private _released;

    /// @dev Locks the implementation so only clones can be initialized.
    constructor() {
        _initialized = true;
    }

    receive() external payable {
        emit PaymentReceived(msg.sender, msg.value);
    }

    /// @inheritdoc IRevenueSplit
    function initialize(address[] calldata recipients_, uint16[] calldata sharesBps) external {
        if (_initialized) revert AlreadyInitialized();
        _initialized = true;

        uint256 count = recipients_.length;
        uint256 totalBps;
        bool zeroShare;
        for (uint256 i; i < sharesBps.length; ++i) {
            totalBps += sharesBps[i];
            if (sharesBps[i] == 0) zeroShare = true;
        }
        if (count == 0 || count > MAX_RECIPIENTS || count != sharesBps.length || totalBps != TOTAL_BPS || zeroShare) {
            revert InvalidSplit(count, totalBps);
        }

        for (uint256 i; i < count; ++i) {
            address account = recipients_[i];
            if (account == address(0) || _positionOf[account] != 0) revert InvalidRecipient(account);
            _positionOf[account] = i + 1;
            _shares.push(Share(account, sharesBps[i]));
        }
    }

    /// @inheritdoc IRevenueSplit
    function release(address token, address account) external nonReentrant returns (uint256 amount) {
        uint256 position = _positionOf[account];
        if (position == 0) revert NotRecipient(account);
        amount = _entitlementOf(totalReceived(token), position - 1) - _released[token][account];
        if (amount == 0) revert NothingToRelease(token, account);

        _released[token][account] += amount;
        _totalReleased[token] += amount;
        emit PaymentReleased(token, account, amount);

        _pay(token, account, amount);
    }

    /// @inheritdoc IRevenueSplit
    /// @dev One recipient that rejects native currency makes this revert; the others can still `release`.
    function distribute(address token) external nonReentrant {
        uint256 count = _shares.length;
        uint256[] memory amounts = new uint256[](count);
        uint256 remaining = totalReceived(token);
        uint256 remainingBps = TOTAL_BPS;
        uint256 releasedNow;
        for (uint256 i; i < count; ++i) {
            Share memory share = _shares[i];
            uint256 entitlement;
            (entitlement, remaining, remainingBps) = _take(remaining, remainingBps, share.bps);
            uint256 amount = entitlement - _released[token][share.account];
            if (amount != 0) {
                amounts[i] = amount;
                releasedNow += amount;
                _released[token][share.account] += amount;
                emit PaymentReleased(token, share.account, amount);
            }
        }
        _totalReleased[token] += releasedNow;

        for (uint256 i; i < count; ++i) {
            if (amounts[i] != 0) _pay(token, _shares[i].account, amounts[i]);
        }
    }

    /// @inheritdoc IRevenueSplit
    function releasable(address token, address account) external view returns (uint256) {
        uint256 position = _positionOf[account];
        if (position == 0) return 0;
        return _entitlementOf(totalReceived(token), position - 1) - _released[token][account];
    }

    /// @inheritdoc IRevenueSplit
    function totalReceived(address token) public view returns (uint256) {
        uint256 balance = token == address(0) ? address(this).balance : IERC20(token).balanceOf(address(this));
        return balance + _totalReleased[token];
    }

    /// @inheritdoc IRevenueSplit
    function released(address token, address account) external view returns (uint256) {
        return _released[token][account];
    }

    /// @inheritdoc IRevenueSplit
    function totalReleased(address token) external view returns (uint256) {
        return _totalReleased[token];
    }

    /// @inheritdoc IRevenueSplit
    function recipients() external view returns (address[] memory accounts, uint16[] memory sharesBps) {
        uint256 count = _shares.length;
        accounts = new address[](count);
        sharesBps = new uint16[](count);
        for (uint256 i; i < count; ++i) {
            Share storage share = _shares[i];
            accounts[i] = share.account;
            sharesBps[i] = share.bps;
        }
    }

    /// @dev Recipient i is entitled to its share of what recipients 0..i-1 left over, rounded up; the last
    /// one takes the rest. Entitlements so add up to exactly `received` and never shrink as `received` grows,
    /// which rounding every share down and giving recipient 0 the remainder would not guarantee (recipient 0
    /// could pull a remainder that later arrivals hand back to the others).
    function _entitlementOf(uint256 received, uint256 index) private view returns (uint256 entitlement) {
        uint256 remaining = received;
        uint256 remainingBps = TOTAL_BPS;
        for (uint256 i; i <= index; ++i) {
            (entitlement, remaining, remainingBps) = _take(remaining, remainingBps, _shares[i].bps);
        }
    }

    function _take(
        uint256 remaining,
        uint256 remainingBps,
        uint256 bps
    ) private pure returns (uint256 entitlement, uint256 rest, uint256 restBps) {
        restBps = remainingBps - bps;
        rest = Math.mulDiv(remaining, restBps, remainingBps);
        entitlement = remaining - rest;
    }

    function _pay(address token, address account, uint256 amount) private {
        if (token == address(0)) {
            (bool ok, ) = account.call{value: amount}("");
            if (!ok) revert NativeTransferFailed(account, amount);
        } else {
            IERC20(token).safeTransfer(account, amount);
        }
    }
}
