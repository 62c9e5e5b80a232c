import type { UndoRow } from "./db/indexer-state.ts";
import type { CurrentTable, HistoryTable } from "./db/rows.ts";

/** A row of a current-state table to load before a range is applied. */
export interface Needed {
  table: CurrentTable<object>;
  key: Record<string, unknown>;
}

/** Names a row of `table` that an event reads or changes. */
export function need<R extends object>(table: CurrentTable<R>, key: Partial<R>): Needed {
  return { table: table as CurrentTable<object>, key };
}

interface TableState {
  table: CurrentTable<object>;
  /** Current value by key; null when the row does not exist. */
  rows: Map<string, object | null>;
  /** Key columns by key string. */
  keys: Map<string, Record<string, unknown>>;
  /** Keys whose row exists in the database, so writing them replaces it. */
  stored: Set<string>;
  changed: Set<string>;
  /** Last block for which an undo image was taken, by key. */
  undoneAt: Map<string, number>;
}

function keyOf(table: CurrentTable<object>, row: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(table.key.map((column) => [column, row[column]]));
}

function keyString(table: CurrentTable<object>, row: Record<string, unknown>): string {
  return table.key.map((column) => String(row[column])).join("|");
}

/**
 * The rows one block range reads and writes, held in memory while its events are applied in order,
 * then written in one go. With `trackUndo`, the first change of a row in each block records the row's
 * prior image, so a reorg can restore it exactly.
 */
export class RangeStore {
  private readonly tables = new Map<string, TableState>();
  private readonly appended = new Map<string, { table: HistoryTable<unknown>; rows: unknown[] }>();
  readonly undo: UndoRow[] = [];

  /** `firstSeq`: the undo sequence number to start from (the blocks may hold images already). */
  constructor(
    private readonly trackUndo: boolean,
    private readonly firstSeq = 0,
  ) {}

  private state<R extends object>(table: CurrentTable<R>): TableState {
    let state = this.tables.get(table.name);
    if (!state) {
      state = {
        table: table as CurrentTable<object>,
        rows: new Map(),
        keys: new Map(),
        stored: new Set(),
        changed: new Set(),
        undoneAt: new Map(),
      };
      this.tables.set(table.name, state);
    }
    return state;
  }

  /** Records what the database holds for the requested keys (absent keys become known-missing). */
  preload<R extends object>(table: CurrentTable<R>, requested: Partial<R>[], found: R[]): void {
    const state = this.state(table);
    for (const key of requested) {
      const k = keyString(state.table, key as Record<string, unknown>);
      if (!state.rows.has(k)) state.rows.set(k, null);
      state.keys.set(k, keyOf(state.table, key as Record<string, unknown>));
    }
    for (const row of found) {
      const k = keyString(state.table, row as Record<string, unknown>);
      state.rows.set(k, row);
      state.stored.add(k);
    }
  }

  /** The current row for `key`, undefined if it does not exist. The key must have been named by a `need`. */
  get<R extends object>(table: CurrentTable<R>, key: Partial<R>): R | undefined {
    const state = this.state(table);
    const k = keyString(state.table, key as Record<string, unknown>);
    if (!state.rows.has(k)) throw new Error(`${table.name} ${k} was read without being loaded`);
    return (state.rows.get(k) ?? undefined) as R | undefined;
  }

  /** Creates a row that the event brings into existence (its key is new by the contract's rules). */
  insert<R extends object>(table: CurrentTable<R>, row: R, block: number): void {
    const state = this.state(table);
    const k = keyString(state.table, row as Record<string, unknown>);
    if (state.rows.get(k)) throw new Error(`${table.name} ${k} already exists`);
    this.write(state, k, row, block);
  }

  /** Replaces an existing row (read with `get`) by a changed copy. */
  update<R extends object>(table: CurrentTable<R>, row: R, block: number): void {
    const state = this.state(table);
    const k = keyString(state.table, row as Record<string, unknown>);
    if (!state.rows.get(k)) throw new Error(`${table.name} ${k} is not loaded or does not exist`);
    this.write(state, k, row, block);
  }

  /** Removes the row for `key`, if any. */
  remove<R extends object>(table: CurrentTable<R>, key: Partial<R>, block: number): void {
    const state = this.state(table);
    const k = keyString(state.table, key as Record<string, unknown>);
    if (!state.rows.get(k)) return;
    this.write(state, k, null, block);
  }

  /** Appends a row to a history table. */
  append<R>(table: HistoryTable<R>, row: R): void {
    let entry = this.appended.get(table.name);
    if (!entry) {
      entry = { table: table as HistoryTable<unknown>, rows: [] };
      this.appended.set(table.name, entry);
    }
    entry.rows.push(row);
  }

  private write(state: TableState, k: string, row: object | null, block: number): void {
    const prior = state.rows.get(k) ?? null;
    if (!state.keys.has(k)) state.keys.set(k, keyOf(state.table, (row ?? prior) as Record<string, unknown>));
    if (this.trackUndo && state.undoneAt.get(k) !== block) {
      this.undo.push({
        block_number: block,
        seq: this.firstSeq + this.undo.length,
        table_name: state.table.name,
        row_key: state.keys.get(k)!,
        prior,
      });
      state.undoneAt.set(k, block);
    }
    state.rows.set(k, row);
    state.changed.add(k);
  }

  /** Per current-state table: keys of stored rows to delete, and rows to insert. */
  *currentWrites(): Generator<{ table: CurrentTable<object>; deletes: object[]; inserts: object[] }> {
    for (const state of this.tables.values()) {
      const deletes: object[] = [];
      const inserts: object[] = [];
      for (const k of state.changed) {
        const row = state.rows.get(k) ?? null;
        if (state.stored.has(k)) deletes.push(state.keys.get(k)!);
        if (row) inserts.push(row);
      }
      if (deletes.length > 0 || inserts.length > 0) yield { table: state.table, deletes, inserts };
    }
  }

  /** Rows appended to history tables, per table. */
  historyWrites(): { table: HistoryTable<unknown>; rows: unknown[] }[] {
    return [...this.appended.values()];
  }
}
