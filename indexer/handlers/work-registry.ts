import type { Stored } from "../abi.ts";
import { batches, works, type WorkRow } from "../db/works.ts";
import { need, type RangeStore } from "../store.ts";
import { notesFor } from "../untrusted.ts";
import type {
  BatchAnchoredEvent,
  ClaimSupersededEvent,
  CoAuthorsSetEvent,
  WorkRegisteredEvent,
} from "../../types/typechain/contracts/interfaces/IWorkRegistry.ts";
import { on, origin, type ContractHandlers } from "./handler.ts";

type WorkRegistered = Stored<WorkRegisteredEvent.OutputObject>;
type CoAuthorsSet = Stored<CoAuthorsSetEvent.OutputObject>;
type BatchAnchored = Stored<BatchAnchoredEvent.OutputObject>;
type ClaimSuperseded = Stored<ClaimSupersededEvent.OutputObject>;

/** Changes fields of work `workId` at `block`, if it is mirrored. */
function updateWork(
  store: RangeStore,
  workId: WorkRow["work_id"],
  block: number,
  fields: Partial<WorkRow>,
): void {
  const work = store.get(works, { work_id: workId });
  if (work) store.update(works, { ...work, ...fields, updated_block: block }, block);
}

/** Works (every claim, the superseded ones marked) with their version chains and co-authors, and anchored batches. */
export const workRegistryHandlers: ContractHandlers = {
  WorkRegistered: on<WorkRegistered>({
    needs: (a) => (a.parentId === "0" ? [] : [need(works, { work_id: a.parentId })]),
    apply(event, store) {
      const a = event.args;
      const isVersion = a.parentId !== "0";
      // A parent from before the start block is unknown: its id then stands in for the root.
      const parent = isVersion ? store.get(works, { work_id: a.parentId }) : undefined;
      store.insert(
        works,
        {
          work_id: a.workId,
          content_hash: a.contentHash,
          creator: a.creator,
          parent_id: isVersion ? a.parentId : null,
          root_id: isVersion ? (parent?.root_id ?? a.parentId) : a.workId,
          version: isVersion ? (parent?.version ?? 1) + 1 : 1,
          cid: a.cid,
          metadata_uri: a.metadataURI,
          co_authors: [],
          registered_at: a.registeredAt,
          superseded_by: null,
          value_notes: notesFor(event.notes, { cid: "cid", metadataURI: "metadata_uri" }),
          ...origin(event),
          updated_block: event.blockNumber,
        },
        event.blockNumber,
      );
    },
  }),

  ClaimSuperseded: on<ClaimSuperseded>({
    needs: (a) => [need(works, { work_id: a.workId })],
    apply(event, store) {
      updateWork(store, event.args.workId, event.blockNumber, { superseded_by: event.args.earlierWorkId });
    },
  }),

  CoAuthorsSet: on<CoAuthorsSet>({
    needs: (a) => [need(works, { work_id: a.workId })],
    apply(event, store) {
      updateWork(store, event.args.workId, event.blockNumber, { co_authors: event.args.coAuthors });
    },
  }),

  BatchAnchored: on<BatchAnchored>({
    apply(event, store) {
      const a = event.args;
      store.append(batches, {
        batch_id: a.batchId,
        merkle_root: a.merkleRoot,
        submitter: a.submitter,
        leaf_count: a.count,
        first_work_id: a.firstWorkId,
        manifest_cid: a.manifestCid,
        value_notes: notesFor(event.notes, { manifestCid: "manifest_cid" }),
        ...origin(event),
      });
    },
  }),
};
