/**
 * The upgrade from objects named by a key's hash (an earlier revision) to objects named by its
 * id: an id-named object that holds nothing adopts its key from D1 and from the hash-named
 * object, which hands over its state, counters and queued D1 writes once and holds nothing
 * afterwards. It also completes a key whose D1 row was written but whose object was not. The
 * key's context is not read here: its workspace's context shard lends it to every decision.
 */

import type { KeyGateApi } from "../key-client/client";
import type { HandOff } from "../key-client/contract";
import { creditState } from "../limits/credits";
import { KeyStore } from "../storage/keys";
import { type KeyCell, METERS, type Meters, STATE, type StoredState } from "./cell";
import type { OrderedWrites, PendingWrite } from "./ordered-writes";
import { NO_ACTIVITY } from "./usage";

export interface Adopter {
  cell: KeyCell;
  writes: OrderedWrites;
  db: () => D1Database;
  now: () => number;
  /** The object of the earlier revision, named by the key's hash. */
  previous: (hash: string) => KeyGateApi;
}

/** Takes the key over; false when D1 shows no such live key. Runs among the ordered writes. */
export function adopt(adopter: Adopter, keyId: string, hash: string): Promise<boolean> {
  const { cell, writes, now } = adopter;
  return writes.run(async () => {
    if (cell.state) return true;
    const db = adopter.db();
    const keys = new KeyStore(db);
    const stored = await keys.findByHash(hash);
    if (!stored || stored.deleted || stored.record.id !== keyId) return false;
    const handed = await adopter.previous(hash).handOff();
    const previous = handed?.state as StoredState | undefined;
    const record = previous?.record ?? stored.record;
    let successor: string | undefined;
    if (previous?.successor) {
      // The earlier revision named a rotated key's successor by hash.
      successor = (await keys.findByHash(previous.successor))?.record.id;
      if (!successor) return false;
    }
    const at = now();
    const credits = stored.record.credits ? creditState(stored.record.credits, at) : null;
    const meters = (handed?.meters as Meters | undefined) ?? {
      counters: { windows: {}, credits },
      activity: NO_ACTIVITY,
    };
    await cell.setMeters(meters, true);
    for (const pending of (handed?.repairs ?? []) as PendingWrite[]) await writes.queueRepair(pending);
    await cell.persist({ record, deleted: previous?.deleted ?? false, ...(successor && { successor }) });
    return true;
  });
}

/**
 * Gives a hash-named object's key away: it answers as holding nothing from now on. Its storage
 * is kept, so that an adoption that failed half-way can ask again and get the same.
 */
export function handOff(
  cell: KeyCell,
  writes: OrderedWrites,
  storage: DurableObjectStorage,
): Promise<HandOff | null> {
  return writes.run(async () => {
    const state = await storage.get<StoredState>(STATE);
    if (!state) return null;
    const meters = (await storage.get<Meters>(METERS)) ?? cell.meters;
    const repairs = await writes.queued();
    await cell.forget();
    return { state, meters, repairs };
  });
}
