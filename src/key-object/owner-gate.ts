/**
 * OwnerGate: one Durable Object per owner (SPEC 10), the counting authority for the owner's
 * windows and credits and for the windows of every key of the owner while the owner has limits
 * or credits. A key's object decides rows 5-10 itself, then asks this object to count the
 * request: reading every window and the balance, deciding and writing happen with no await in
 * between, so a request is counted in the key's windows and the owner's, or in none, and
 * concurrent requests of all the owner's keys are counted exactly.
 */
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";
import { type CreditState, creditState, currentCredits } from "../limits/credits";
import { meterSets } from "../limits/meter";
import { effectiveLimits, laterWindows, type WindowStates } from "../limits/windows";
import type {
  OwnerGateApi,
  OwnerMeterAsk,
  OwnerMeterOutcome,
  OwnerSettings,
  OwnerView,
} from "./owner-client";

const SETTINGS = "settings";
const METERS = "meters";
/** Prefix of each key's windows, `key:<id>`. */
const KEY_PREFIX = "key:";

interface OwnerMeters {
  windows: WindowStates;
  credits: CreditState | null;
}

export class OwnerGate extends DurableObject<Env> implements OwnerGateApi {
  /** The clock; tests replace it to cross window edges without sleeping. */
  now: () => number = () => Date.now();
  private settings: OwnerSettings | null = null;
  private meters: OwnerMeters = { windows: {}, credits: null };
  private readonly keys = new Map<string, WindowStates>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      this.settings = (await ctx.storage.get<OwnerSettings>(SETTINGS)) ?? null;
      this.meters = (await ctx.storage.get<OwnerMeters>(METERS)) ?? this.meters;
      for (const [name, windows] of await ctx.storage.list<WindowStates>({ prefix: KEY_PREFIX })) {
        this.keys.set(name.slice(KEY_PREFIX.length), windows);
      }
    });
  }

  async configure(settings: OwnerSettings): Promise<void> {
    const credits = settings.credits ? creditState(settings.credits, this.now()) : null;
    this.settings = settings;
    this.meters = { windows: this.meters.windows, credits };
    await this.ctx.storage.put({ [SETTINGS]: settings, [METERS]: this.meters });
  }

  async meter(ask: OwnerMeterAsk): Promise<OwnerMeterOutcome> {
    const now = this.now();
    const counted = this.keys.get(ask.keyId);
    // The key's own copy may be ahead of this object (it was counted elsewhere before it came
    // to this owner) or behind it (answers cross): the later state of each window holds.
    const keyWindows = counted ? laterWindows(ask.keyWindows, counted) : ask.keyWindows;
    const chargesOwner = ask.keyCredits === null;
    const metered = meterSets({
      sets: [
        { limits: ask.keyLimits, windows: keyWindows },
        { limits: this.limits(), windows: this.meters.windows, owner: true },
      ],
      credits: chargesOwner ? this.meters.credits : ask.keyCredits,
      cost: ask.cost,
      now,
      take: ask.take,
    });
    const [nextKey = keyWindows, nextOwner = this.meters.windows] = metered.nextWindows;
    if (ask.take && metered.code === "valid") {
      this.keys.set(ask.keyId, nextKey);
      this.meters = { windows: nextOwner, credits: chargesOwner ? metered.credits : this.meters.credits };
      // Like a key's counters: the answer does not wait for the disk (an evicted object completes the write).
      this.ctx.storage.put(
        { [METERS]: this.meters, [`${KEY_PREFIX}${ask.keyId}`]: nextKey },
        { allowUnconfirmed: true },
      );
    }
    return {
      code: metered.code,
      windows: metered.windows,
      credits: metered.credits,
      retryAfter: metered.retryAfter,
      keyWindows: nextKey,
    };
  }

  async inspect(): Promise<OwnerView> {
    const now = this.now();
    const metered = meterSets({
      sets: [{ limits: this.limits(), windows: this.meters.windows }],
      credits: this.meters.credits,
      cost: 0,
      now,
      take: false,
    });
    return {
      settings: this.settings,
      windows: metered.windows,
      credits: this.meters.credits ? currentCredits(this.meters.credits, now) : null,
    };
  }

  private limits() {
    return this.settings ? effectiveLimits(this.settings.limits, undefined) : [];
  }
}
