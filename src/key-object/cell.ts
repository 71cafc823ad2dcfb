/**
 * The key's state inside its Durable Object, and the one place that replaces it. One writer
 * discipline: `state` is replaced only through `persist`, by code that read `state` after its
 * own last await (admin writes are serialised by `OrderedWrites`; work that awaits outside
 * them compares `version` before and after and drops its result when anything was written
 * meanwhile), so no write computed from an old snapshot can undo a newer restriction.
 */

import type { Counters, GateState } from "../decision/decide";
import type { AdminScope, KeySnapshot } from "../key-client/contract";
import type { KeyRecord } from "../keys/record";
import { currentCredits } from "../limits/credits";
import { type Activity, NO_ACTIVITY } from "./usage";

/** Storage key of the `StoredState`, written by admin changes. */
export const STATE = "state";
/** Storage key of the `Meters` (counters and activity), written by every counted request. */
export const METERS = "meters";
/** Set on an object of the earlier revision (named by hash) once it handed its key over. */
export const HANDED_OFF = "handedOff";

/**
 * The key as its object stores it: the record and its lifecycle, never its context (which the
 * workspace's context shard lends: `KeyState`). States stored by earlier revisions also hold a
 * copy of the context (`workspacePlan`, `rolePermissions`, `rolesCheckedAt`, `ownerMetered`,
 * `ownerRoles`, `ownerRolePermissions`); `load` keeps only the fields below.
 */
export interface StoredState {
  record: KeyRecord;
  /** DELETE was called: the key answers `key_revoked` for ever. */
  deleted: boolean;
  /** Id of the key this one was rotated into: during the grace period it counts there. */
  successor?: string;
}

/** The stored state with the context a request is decided under (`withContext` in key-gate.ts). */
export interface KeyState extends StoredState, GateState {
  /**
   * The key's owner has limits or credits (docs/consistency.md#owners): the owner's object
   * counts the key's requests, and the key gets no lease.
   */
  ownerMetered: boolean;
}

/** What of a stored state this revision keeps: an earlier revision's copy of the context is dropped. */
export function storedState(stored: StoredState): StoredState {
  const { record, deleted, successor } = stored;
  return successor === undefined ? { record, deleted } : { record, deleted, successor };
}

export interface Meters {
  counters: Counters;
  activity: Activity;
}

export class KeyCell {
  state: StoredState | null = null;
  /** Counts replacements of `state`, so that a read begun before one can tell it is stale. */
  version = 0;
  meters: Meters = { counters: { windows: {}, credits: null }, activity: NO_ACTIVITY };
  /** This object was addressed by hash and gave its key to the id-addressed one. */
  handedOff = false;
  /** Set while a rotation hands the counters over: decisions wait for it. */
  paused: Promise<void> | null = null;

  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly now: () => number,
  ) {}

  async load(): Promise<void> {
    this.handedOff = (await this.storage.get<boolean>(HANDED_OFF)) === true;
    const stored = this.handedOff ? undefined : await this.storage.get<StoredState>(STATE);
    this.state = stored ? storedState(stored) : null;
    this.meters = (await this.storage.get<Meters>(METERS)) ?? this.meters;
  }

  /** Replaces the state here at once, then in storage. */
  async persist(state: StoredState): Promise<void> {
    this.state = state;
    this.version += 1;
    await this.storage.put(STATE, state);
  }

  /**
   * Replaces the counters. A counted request does not wait for the disk (an evicted object
   * completes the write); an admin change does.
   */
  async setMeters(meters: Meters, wait: boolean): Promise<void> {
    this.meters = meters;
    if (wait) await this.storage.put(METERS, meters);
    else this.storage.put(METERS, meters, { allowUnconfirmed: true });
  }

  /**
   * Replaces the counters in a write that completes before the object's answer leaves (the
   * output gate holds it). Called only by `KeyLeases.commitBeforeAnswer`, which issues the lease
   * book's write right after it, so that both land in one atomic write (I2 of docs/key-object.md).
   */
  setMetersBeforeAnswer(meters: Meters): void {
    this.meters = meters;
    this.storage.put(METERS, meters);
  }

  /** Makes decisions wait until the returned function is called. */
  pause(): () => void {
    let resume: () => void = () => undefined;
    this.paused = new Promise<void>((resolve) => {
      resume = () => {
        this.paused = null;
        resolve();
      };
    });
    return resume;
  }

  /** Stops holding the key (it moved to its id-addressed object); storage stays for a retry. */
  async forget(): Promise<void> {
    this.handedOff = true;
    this.state = null;
    this.version += 1;
    await this.storage.put(HANDED_OFF, true);
  }

  /** The record as the outside sees it: live balance and last use from the counters. */
  view(record: KeyRecord): KeyRecord {
    const credits = this.meters.counters.credits;
    return {
      ...record,
      credits: credits
        ? { remaining: currentCredits(credits, this.now()).remaining, refill: credits.refill }
        : null,
      lastUsedAt: this.meters.activity.lastUsedAt ?? record.lastUsedAt,
    };
  }

  /** The key as it stands: record with live balance and last use, and counters (no context). */
  snapshot(scope: AdminScope): KeySnapshot | "absent" | null {
    if (!this.state) return "absent";
    const state = this.visible(scope);
    if (!state) return null;
    return {
      record: this.view(state.record),
      context: null,
      counters: this.meters.counters,
      rotated: state.successor !== undefined,
      at: this.now(),
    };
  }

  /** The live key, if the caller may see it. */
  visible(scope: AdminScope): StoredState | null {
    const state = this.state;
    if (!state || state.deleted) return null;
    if (scope.workspaceId !== null && state.record.workspaceId !== scope.workspaceId) return null;
    return state;
  }
}
