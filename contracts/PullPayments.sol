// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IPullPayments} from "./interfaces/IPullPayments.sol";

/// @title The owed ledger, its withdrawal, and the exact payment checks every paying contract shares
/// @dev The transient reentrancy guard needs no constructor-set storage and costs about 2,000 gas less per
/// guarded call than the storage-based one.
abstract contract PullPayments is IPullPayments, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    mapping(address account => mapping(address currency => uint256)) private _owed;

    /// @inheritdoc IPullPayments
    function withdraw(address currency) external nonReentrant returns (uint256 amount) {
        amount = _owed[msg.sender][currency];
        if (amount == 0) revert NothingToWithdraw(msg.sender, currency);
        delete _owed[msg.sender][currency];
        emit Withdrawn(msg.sender, currency, amount);
        _pay(msg.sender, currency, amount);
    }

    /// @inheritdoc IPullPayments
    function owed(address account, address currency) external view returns (uint256) {
        return _owed[account][currency];
    }

    /// @dev Records that `account` may withdraw `amount` more of `currency`.
    function _credit(address account, address currency, uint256 amount) internal {
        _owed[account][currency] += amount;
    }

    /// @dev Checks what the caller attached: exactly `price` in native currency, or nothing when it pays an ERC-20.
    function _checkPayment(address currency, uint256 price) internal view {
        if (currency == address(0)) {
            if (msg.value != price) revert WrongPayment(price, msg.value);
        } else if (msg.value != 0) {
            revert UnexpectedNativePayment(msg.value);
        }
    }

    /// @dev Takes `amount` of `token` from the caller and refuses tokens that deliver less than was sent.
    function _pullExactly(IERC20 token, uint256 amount) internal {
        uint256 balanceBefore = token.balanceOf(address(this));
        token.safeTransferFrom(msg.sender, address(this), amount);
        uint256 received = token.balanceOf(address(this)) - balanceBefore;
        if (received != amount) revert WrongPayment(amount, received);
    }

    /// @dev Sends `amount` of `currency` to `to`; callers have already recorded the payment.
    function _pay(address to, address currency, uint256 amount) internal {
        if (currency == address(0)) {
            (bool ok, ) = to.call{value: amount}("");
            if (!ok) revert NativeTransferFailed(to, amount);
        } else {
            IERC20(currency).safeTransfer(to, amount);
        }
    }
}
