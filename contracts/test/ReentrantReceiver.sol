// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title Test-only attacker: when paid, calls back into a target once and records what happened
/// @notice Swallows the failure of its callback so the outer payment can still complete, letting tests check
/// that the attempt failed and what the attacker ended up with.
contract ReentrantReceiver {
    address public reentryTarget;
    bytes public reentryPayload;
    uint256 public reentryValue;
    bool public armed;
    bool public attempted;
    bool public reentrySucceeded;
    bytes public reentryError;

    /// @notice Makes the next incoming payment trigger `target.call{value: value}(payload)`.
    function arm(address target, bytes calldata payload, uint256 value) external {
        reentryTarget = target;
        reentryPayload = payload;
        reentryValue = value;
        armed = true;
    }

    /// @notice Acts as this contract, e.g. to buy or withdraw.
    function execute(address to, bytes calldata data) external payable returns (bytes memory) {
        (bool ok, bytes memory result) = to.call{value: msg.value}(data);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(result, 0x20), mload(result))
            }
        }
        return result;
    }

    receive() external payable {
        if (!armed) return;
        armed = false;
        attempted = true;
        (bool ok, bytes memory result) = reentryTarget.call{value: reentryValue}(reentryPayload);
        reentrySucceeded = ok;
        if (!ok) reentryError = result;
    }
}
