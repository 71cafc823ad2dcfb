/**
 * The key's copy of its context (roles' permissions, owner's settings, workspace's plan), re-read
 * from D1 once `ROLE_REFRESH_MS` has passed (docs/key-object.md). The result is dropped when any
 * write replaced the state while D1 was read (the cell's version moved): that write is newer.
 */
import { ownerApplies, readKeyContext, storedContext } from "../storage/key-context";
import type { KeyCell } from "./cell";

/**
 * Longest time a key's copy of its roles' permissions (and of its owner's roles and whether its
 * owner has limits or credits) is trusted, ms. Role edits and owner settings are pushed to every key concerned
 * before the admin call returns; this bound covers a push that failed and a key created while
 * its role or owner was being edited.
 */
export const ROLE_REFRESH_MS = 30_000;

export class ContextRefresh {
  /** The refresh under way, shared by the requests that arrive meanwhile. */
  private refreshing: Promise<void> | null = null;

  constructor(
    private readonly cell: KeyCell,
    private readonly db: () => D1Database,
    private readonly now: () => number,
  ) {}

  /** Refreshes the context if it is due; resolves at once if not. */
  whenDue(): Promise<void> {
    const state = this.cell.state;
    if (
      !state ||
      state.deleted ||
      (state.record.roles.length === 0 && !ownerApplies(state.record)) ||
      this.now() - state.rolesCheckedAt < ROLE_REFRESH_MS
    ) {
      return Promise.resolve();
    }
    this.refreshing ??= (async () => {
      const version = this.cell.version;
      const checkedAt = this.now();
      try {
        const context = storedContext(await readKeyContext(this.db(), state.record));
        const current = this.cell.state;
        if (this.cell.version !== version || !current) return;
        await this.cell.persist({ ...current, ...context, rolesCheckedAt: checkedAt });
      } finally {
        this.refreshing = null;
      }
    })();
    return this.refreshing;
  }
}
