// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title Test-only account that refuses native currency, to exercise failed payouts
contract RejectingReceiver {
    error Rejected();

    /// @notice Acts as this contract, e.g. to withdraw.
    function execute(address to, bytes calldata data) external returns (bytes memory) {
        (bool ok, bytes memory result) = to.call(data);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(result, 0x20), mload(result))
            }
        }
        return result;
    }

    receive() external payable {
        revert Rejected();
    }
}
