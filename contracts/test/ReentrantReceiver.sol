// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title Test-only attacker: when paid, calls back into a target once and records what happened
/// @notice Swallows the failure of its callback so the outer payment can still complete, letting tests check
/// that the attempt failed and what the attacker ended up with.
contract ReentrantReceiver {
    address public target;
    bytes public payload;
    uint256 public callValue;
    bool public armed;
    bool public attempted;
    bool public reentrySucceeded;
    bytes public reentryError;

    /// @notice Makes the next incoming payment trigger `target.call{value: callValue_}(payload)`.
    function arm(address target_, bytes calldata payload_, uint256 callValue_) external {
        target = target_;
        payload = payload_;
        callValue = callValue_;
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
        (bool ok, bytes memory result) = target.call{value: callValue}(payload);
        reentrySucceeded = ok;
        if (!ok) reentryError = result;
    }
}
