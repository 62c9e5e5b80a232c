// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC1155Holder} from "@openzeppelin/contracts/token/ERC1155/utils/ERC1155Holder.sol";
import {Address} from "@openzeppelin/contracts/utils/Address.sol";

/// @title Test double: a trading contract that calls back into a target when it receives items or native currency
/// @notice `execute` drives any call (approvals, list, buy, confirm, withdraw). Once armed, the chosen receipt hook
/// makes one re-entrant call and records its outcome instead of reverting, so tests can check what it achieved.
/// `RefuseNative` and `RefuseItems` make it reject native currency or ERC-1155 receipts outright, so it can
/// play a counterparty that turns hostile in the middle of a trade.
contract ReentrantTrader is ERC1155Holder {
    enum Hook {
        None,
        OnItems,
        OnNative,
        RefuseNative,
        RefuseItems
    }

    error NativeRefused();
    error ItemsRefused();

    address public reentryTarget;
    Hook public hook;
    bytes public reentryCall;
    bool public reentryAttempted;
    bool public reentrySucceeded;
    bytes public reentryResult;

    function execute(address to, bytes calldata data) external payable returns (bytes memory) {
        return Address.functionCallWithValue(to, data, msg.value);
    }

    function arm(Hook hook_, address target_, bytes calldata call_) external {
        hook = hook_;
        reentryTarget = target_;
        reentryCall = call_;
        reentryAttempted = false;
        reentrySucceeded = false;
        delete reentryResult;
    }

    function onERC1155Received(
        address operator,
        address from,
        uint256 id,
        uint256 value,
        bytes memory data
    ) public override returns (bytes4) {
        if (hook == Hook.RefuseItems) revert ItemsRefused();
        if (hook == Hook.OnItems) _reenter();
        return super.onERC1155Received(operator, from, id, value, data);
    }

    receive() external payable {
        if (hook == Hook.RefuseNative) revert NativeRefused();
        if (hook == Hook.OnNative) _reenter();
    }

    function _reenter() private {
        if (reentryAttempted) return;
        reentryAttempted = true;
        (reentrySucceeded, reentryResult) = reentryTarget.call(reentryCall);
    }
}
