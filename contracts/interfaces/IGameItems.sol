// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title Game items (ERC-1155) minted by a studio
interface IGameItems {
    /// @notice A new item type was defined with its metadata URI and supply cap (0 for uncapped).
    event ItemDefined(uint256 indexed id, string uri, uint256 maxSupply);

    error ItemAlreadyDefined(uint256 id);
    error UnknownItem(uint256 id);
    error SupplyExceeded(uint256 id, uint256 maxSupply, uint256 requested);
    error LengthMismatch(uint256 ids, uint256 amounts);

    /// @notice Defines an item type; MINTER_ROLE.
    function defineItem(uint256 id, string calldata uri, uint256 maxSupply) external;

    /// @notice Mints defined items to `to`; MINTER_ROLE.
    function mint(address to, uint256 id, uint256 amount, bytes calldata data) external;

    /// @notice Mints several defined items to `to`; MINTER_ROLE.
    function mintBatch(address to, uint256[] calldata ids, uint256[] calldata amounts, bytes calldata data) external;

    /// @notice Changes an item's metadata URI (emits ERC-1155 `URI`); MINTER_ROLE.
    function setItemURI(uint256 id, string calldata uri) external;

    function maxSupplyOf(uint256 id) external view returns (uint256);

    function totalMinted(uint256 id) external view returns (uint256);
}
