/**
 * What the soak knows about the deployment it drives: every key, the lineage it belongs to (a key
 * and its rotated successors, which share counters: docs/admin-api.md), every owner, every request
 * a client made and every admin change, each with the times it was sent and answered. The checks
 * (checks.ts) read only this.
 *
 * A setting changed by an admin call is in force somewhere between the call's `sent` and
 * `answered` times; timelines keep both, so that a check knows which requests were surely decided
 * under which setting (docs/consistency.md: a change is in force for every request that starts
 * after its answer).
 */
export type Window = "minute" | "hour" | "day";
export type Limits = Partial<Record<Window, number>>;

export interface Span {
  sent: number;
  answered: number;
}

/** A setting over time: entry 0 holds from the start, entry i from some moment of its span. */
export type Timeline<T> = { span: Span; value: T }[];

/** The entries of `timeline` that may have been in force at some moment of [start, end]. */
export function possible<T>(timeline: Timeline<T>, start: number, end: number): number[] {
  const found: number[] = [];
  for (let i = 0; i < timeline.length; i++) {
    const from = i === 0 ? Number.NEGATIVE_INFINITY : (timeline[i]?.span.sent ?? 0);
    const next = timeline[i + 1];
    const to = next ? next.span.answered : Number.POSITIVE_INFINITY;
    if (from <= end && to > start) found.push(i);
  }
  return found;
}

/** The one entry surely in force during all of [start, end], or null. */
export function definite<T>(timeline: Timeline<T>, start: number, end: number): number | null {
  const found = possible(timeline, start, end);
  return found.length === 1 ? (found[0] as number) : null;
}

/** An interval of time during which a restriction holds for every request wholly inside it. */
export interface Restriction {
  from: number;
  to: number;
  /** The admin change that started it, for the report. */
  cause: string;
}

export interface Key {
  id: string;
  secret: string;
  workspaceId: string;
  lineage: Lineage;
  /** When the create (or rotate) call that made it was answered. */
  createdAt: number;
  /** Its own `ownerId` as stored (a rotated key keeps the one it had: an owner revoke finds it by it). */
  ownerId: string | null;
  /** How often clients pick it, relative to others (keys with tight limits: more). */
  weight: number;
  enabled: boolean;
  canWrite: boolean;
  revokedAt: number | null;
  /** A rotated key: when its grace period surely ended, and its successor. */
  expiresAt: number | null;
  successor: string | null;
  revocations: Restriction[];
  disables: Restriction[];
  narrowings: Restriction[];
}

export interface Lineage {
  id: string;
  workspaceId: string;
  head: Key;
  keys: Key[];
  /** The head's limits: its successor inherits them, and counts its predecessor's requests. */
  limits: Timeline<Limits>;
  /** The head's owner: the owner that counts the lineage's requests. */
  owners: Timeline<string | null>;
  /** Its own balance's sets (creation included), or null for a key that spends its owner's. */
  credits: Timeline<number> | null;
}

export type OwnerKind = "limits+credits" | "limits" | "credits" | "none";

export interface Owner {
  id: string;
  workspaceId: string;
  kind: OwnerKind;
  limits: Timeline<Limits>;
  credits: Timeline<number> | null;
}

export interface Request {
  /** The X-Request-Id sent, which Portcullis keeps and forwards. */
  id: string;
  keyId: string;
  write: boolean;
  cost: number;
  start: number;
  end: number;
  /** 0: no answer (connection refused or reset, timeout). */
  status: number;
  /** X-Portcullis-Code, `valid` for an allowed request, null for an answer Portcullis did not make. */
  code: string | null;
  allowed: boolean;
  /** X-Credits-Remaining, when sent. */
  credits: number | null;
  hammer: boolean;
}

export type ChangeKind =
  | "disable"
  | "enable"
  | "narrow"
  | "widen"
  | "lower-limit"
  | "set-credits"
  | "rotate"
  | "change-owner"
  | "owner-put"
  | "revoke"
  | "owner-revoke"
  | "create-key";

export interface Change {
  requestId: string;
  kind: ChangeKind;
  workspaceId: string;
  keyId: string | null;
  ownerId: string | null;
  method: string;
  path: string;
  span: Span;
  status: number;
  /** Audit entries the change must have, by action and target (docs/admin-api.md#audit). */
  audit: { action: string; targetId: string }[];
  /** Events it must deliver (docs/events.md): type, and the key or owner they name. */
  events: { type: string; subject: string }[];
  /** What its answer said that the model did not expect (an owner revoke's count). */
  mismatch?: string;
}

export interface KillWindow {
  /** The kill -9. */
  at: number;
  /** wrangler dev answering again, plus the settle time. */
  end: number;
  restartMs: number;
}

export interface World {
  seed: number;
  leaseMs: number;
  keys: Map<string, Key>;
  lineages: Lineage[];
  owners: Map<string, Owner>;
  workspaces: string[];
  requests: Request[];
  changes: Change[];
  kills: KillWindow[];
  /** Route costs: GET (products:read) and POST (products:write). */
  cost: { read: number; write: number };
}

export function inKillWindow(world: World, start: number, end: number): boolean {
  return world.kills.some((kill) => start < kill.end && end > kill.at);
}
