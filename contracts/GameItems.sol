// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC1155} from "@openzeppelin/contracts/token/ERC1155/ERC1155.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IGameItems} from "./interfaces/IGameItems.sol";

/// @title Game items (ERC-1155) minted by a studio
/// @notice Every item type is defined before it can be minted, with its own metadata URI and an optional supply cap.
contract GameItems is ERC1155, AccessControl, IGameItems {
    bytes32 public constant MINTER_ROLE = keccak256("MINTER_ROLE");

    struct Item {
        // Supply figures keep the interface's full width; `defined` tells an uncapped item (maxSupply 0) from an
        // unknown one.
        bool defined;
        uint256 maxSupply;
        uint256 minted;
        string uri;
    }

    mapping(uint256 id => Item) private _items;

    /// @param admin Holder of DEFAULT_ADMIN_ROLE, who grants MINTER_ROLE to the studio.
    constructor(address admin) ERC1155("") {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    // --- studio ---

    /// @inheritdoc IGameItems
    function defineItem(uint256 id, string calldata itemUri, uint256 maxSupply) external onlyRole(MINTER_ROLE) {
        Item storage item = _items[id];
        if (item.defined) revert ItemAlreadyDefined(id);
        item.defined = true;
        item.maxSupply = maxSupply;
        item.uri = itemUri;
        emit ItemDefined(id, itemUri, maxSupply);
        emit URI(itemUri, id);
    }

    /// @inheritdoc IGameItems
    function mint(address to, uint256 id, uint256 amount, bytes calldata data) external onlyRole(MINTER_ROLE) {
        _mint(to, id, amount, data);
    }

    /// @inheritdoc IGameItems
    function mintBatch(
        address to,
        uint256[] calldata ids,
        uint256[] calldata amounts,
        bytes calldata data
    ) external onlyRole(MINTER_ROLE) {
        if (ids.length != amounts.length) revert LengthMismatch(ids.length, amounts.length);
        _mintBatch(to, ids, amounts, data);
    }

    /// @inheritdoc IGameItems
    function setItemURI(uint256 id, string calldata itemUri) external onlyRole(MINTER_ROLE) {
        Item storage item = _items[id];
        if (!item.defined) revert UnknownItem(id);
        item.uri = itemUri;
        emit URI(itemUri, id);
    }

    // --- views ---

    /// @notice The metadata URI of a defined item.
    function uri(uint256 id) public view override returns (string memory) {
        Item storage item = _items[id];
        if (!item.defined) revert UnknownItem(id);
        return item.uri;
    }

    /// @inheritdoc IGameItems
    function maxSupplyOf(uint256 id) external view returns (uint256) {
        return _items[id].maxSupply;
    }

    /// @inheritdoc IGameItems
    function totalMinted(uint256 id) external view returns (uint256) {
        return _items[id].minted;
    }

    function supportsInterface(bytes4 interfaceId) public view override(ERC1155, AccessControl) returns (bool) {
        return interfaceId == type(IGameItems).interfaceId || super.supportsInterface(interfaceId);
    }

    // --- internal ---

    /// @dev Every mint path goes through here, so definitions and caps are enforced once for single and batch mints.
    function _update(address from, address to, uint256[] memory ids, uint256[] memory values) internal override {
        if (from == address(0)) {
            for (uint256 i; i < ids.length; ++i) {
                _recordMint(ids[i], values[i]);
            }
        }
        super._update(from, to, ids, values);
    }

    function _recordMint(uint256 id, uint256 amount) private {
        Item storage item = _items[id];
        if (!item.defined) revert UnknownItem(id);
        uint256 minted = item.minted + amount;
        if (item.maxSupply != 0 && minted > item.maxSupply) revert SupplyExceeded(id, item.maxSupply, amount);
        item.minted = minted;
    }
}
