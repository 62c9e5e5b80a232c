import type { ValueNotes } from "../untrusted.ts";
import { currentTable, historyTable, type Origin } from "./rows.ts";

export interface WorkRow extends Origin {
  work_id: string;
  content_hash: string;
  creator: string;
  parent_id: string | null;
  /** The first version of this work's version chain (itself for a first version). */
  root_id: string;
  /** 1 for a first version, the parent's plus one for a new version. */
  version: number;
  cid: string;
  metadata_uri: string;
  co_authors: string[];
  /** When the claim's id was reserved, unix seconds (null for claims indexed before commitments). */
  registered_at: string | null;
  /** The earlier claim of the same content hash that holds the work; null while this claim holds it. */
  superseded_by: string | null;
  /** How cid and metadata_uri were changed to be stored; null when they were not. */
  value_notes: ValueNotes | null;
  updated_block: number;
}

export interface BatchRow extends Origin {
  batch_id: string;
  merkle_root: string;
  submitter: string;
  leaf_count: string;
  first_work_id: string;
  manifest_cid: string;
  /** How manifest_cid was changed to be stored; null when it was not. */
  value_notes: ValueNotes | null;
}

export const works = currentTable<WorkRow>("works", ["work_id"]);
export const batches = historyTable<BatchRow>("batches");
