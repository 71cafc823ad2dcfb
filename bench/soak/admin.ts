/**
 * The soak's admin side: the calls that set the deployment up, and the loop of random changes
 * (docs/admin-api.md), one at a time, each with a few clients hammering the keys it touches from
 * a moment before it is sent until a moment after it is answered. Every change is recorded with
 * its sent and answered times and the audit entries and events it must leave.
 */
import { type Deployment, ROOT_TOKEN } from "./deployment.ts";
import type {
  Change,
  ChangeKind,
  Key,
  Limits,
  Lineage,
  Owner,
  OwnerKind,
  Restriction,
  Span,
  World,
} from "./model.ts";
import type { Rng } from "./rng.ts";
import { hammer, now, sleep, type Traffic } from "./traffic.ts";

// biome-ignore lint/suspicious/noExplicitAny: admin answers are read field by field
export type Json = any;

export interface AdminAnswer {
  status: number;
  json: Json;
  span: Span;
  requestId: string;
}

let adminCalls = 0;

export async function adminCall(
  deployment: Deployment,
  world: World,
  method: string,
  path: string,
  body?: unknown,
): Promise<AdminAnswer> {
  adminCalls += 1;
  const requestId = `soak-${world.seed}-admin-${adminCalls}`;
  const sent = now();
  const response = await fetch(`${deployment.url}/_portcullis/admin/v1${path}`, {
    method,
    headers: {
      Authorization: `Bearer ${ROOT_TOKEN}`,
      "X-Request-Id": requestId,
      ...(body === undefined ? {} : { "Content-Type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(60_000),
  });
  const text = await response.text();
  const answered = now();
  return {
    status: response.status,
    json: text ? JSON.parse(text) : null,
    span: { sent, answered },
    requestId,
  };
}

function record(
  world: World,
  answer: AdminAnswer,
  fields: Omit<Change, "requestId" | "span" | "status" | "method" | "path">,
  method: string,
  path: string,
): Change {
  const change: Change = {
    requestId: answer.requestId,
    span: answer.span,
    status: answer.status,
    method,
    path,
    ...fields,
  };
  world.changes.push(change);
  return change;
}

const OWNER_KINDS: OwnerKind[] = ["limits+credits", "limits", "credits", "none"];

/**
 * Limits are drawn so that some are reached within a minute at the few tens of requests a
 * second a loaded two-core machine serves (tight ones, from 16: the least a lease is taken
 * from), and others are not.
 */
function ownerLimits(rng: Rng): Limits {
  const tight = rng.chance(0.5);
  const limits: Limits = { minute: tight ? rng.int(20, 60) : rng.int(400, 1500) };
  if (rng.chance(0.5)) limits.hour = tight ? rng.int(60, 200) : rng.int(2000, 12000);
  if (rng.chance(0.4)) limits.day = tight ? rng.int(80, 300) : rng.int(3000, 15000);
  return limits;
}

function keyLimits(rng: Rng, tight: boolean): Limits {
  const limits: Limits = {};
  if (rng.chance(tight ? 0.8 : 0.6)) limits.minute = tight ? rng.int(16, 24) : rng.int(120, 600);
  if (rng.chance(0.4)) limits.hour = tight ? rng.int(20, 60) : rng.int(400, 3000);
  if (rng.chance(0.35)) limits.day = tight ? rng.int(24, 80) : rng.int(500, 4000);
  return limits;
}

function ownerBody(kind: OwnerKind, limits: Limits, credits: number | null) {
  return {
    ...(kind === "limits+credits" || kind === "limits" ? { limits } : {}),
    ...(credits !== null ? { credits: { remaining: credits } } : {}),
  };
}

async function expectOk(answer: AdminAnswer, what: string): Promise<void> {
  if (answer.status < 200 || answer.status > 299)
    throw new Error(`${what}: ${answer.status} ${JSON.stringify(answer.json)}`);
}

export function newKey(world: World, lineage: Lineage | null, json: Json, created: number): Key {
  const key: Key = {
    id: json.id,
    secret: json.key,
    workspaceId: json.workspaceId,
    lineage: lineage as Lineage,
    createdAt: created,
    ownerId: json.ownerId,
    weight: 1,
    enabled: true,
    canWrite: true,
    revokedAt: null,
    expiresAt: null,
    successor: null,
    revocations: [],
    disables: [],
    narrowings: [],
  };
  world.keys.set(key.id, key);
  return key;
}

/** Two workspaces, `owners` owners over them, `keys` keys over those: all seeded. */
export async function setUp(
  deployment: Deployment,
  world: World,
  rng: Rng,
  counts: { owners: number; keys: number },
): Promise<void> {
  for (const name of ["soak-a", "soak-b"]) {
    const answer = await adminCall(deployment, world, "POST", "/workspaces", { name });
    await expectOk(answer, "create workspace");
    world.workspaces.push(answer.json.id);
  }
  for (let i = 0; i < counts.owners; i++) {
    const workspaceId = world.workspaces[i % 2] as string;
    const kind = OWNER_KINDS[rng.weighted([4, 3, 2, 1])] as OwnerKind;
    const limits = kind === "limits+credits" || kind === "limits" ? ownerLimits(rng) : {};
    const credits = kind === "limits+credits" || kind === "credits" ? rng.int(1500, 8000) : null;
    const owner: Owner = {
      id: `soak-owner-${i}`,
      workspaceId,
      kind,
      limits: [{ span: { sent: 0, answered: 0 }, value: limits }],
      credits: null,
    };
    if (kind !== "none") {
      const path = `/owners/${owner.id}?workspaceId=${workspaceId}`;
      const answer = await adminCall(deployment, world, "PUT", path, ownerBody(kind, limits, credits));
      await expectOk(answer, "put owner");
      owner.limits = [{ span: answer.span, value: limits }];
      if (credits !== null) owner.credits = [{ span: answer.span, value: credits }];
      record(
        world,
        answer,
        {
          kind: "owner-put",
          workspaceId,
          keyId: null,
          ownerId: owner.id,
          audit: [{ action: "owner.update", targetId: owner.id }],
          events: [],
        },
        "PUT",
        path,
      );
    }
    world.owners.set(owner.id, owner);
  }
  const owners = [...world.owners.values()];
  for (let i = 0; i < counts.keys; i++) {
    const workspaceId = world.workspaces[i % 2] as string;
    const mine = owners.filter((owner) => owner.workspaceId === workspaceId);
    const ownerId = mine.length > 0 && rng.chance(0.75) ? rng.pick(mine).id : null;
    const tight = rng.chance(0.25);
    const limits = keyLimits(rng, tight);
    const credits = rng.chance(0.35) ? (tight ? rng.int(30, 150) : rng.int(150, 3000)) : null;
    const body = {
      workspaceId,
      type: "server",
      name: `soak-${i}`,
      ...(ownerId ? { ownerId } : {}),
      ...(Object.keys(limits).length > 0 ? { limits } : {}),
      ...(credits !== null ? { credits: { remaining: credits } } : {}),
    };
    const answer = await adminCall(deployment, world, "POST", "/keys", body);
    await expectOk(answer, "create key");
    const lineage = {
      id: answer.json.id,
      workspaceId,
      keys: [],
      limits: [{ span: answer.span, value: limits }],
      owners: [{ span: answer.span, value: ownerId }],
      credits: credits === null ? null : [{ span: answer.span, value: credits }],
    } as unknown as Lineage;
    const key = newKey(world, lineage, answer.json, answer.span.answered);
    key.weight = tight ? 3 : 1;
    lineage.head = key;
    lineage.keys.push(key);
    world.lineages.push(lineage);
    record(
      world,
      answer,
      {
        kind: "create-key",
        workspaceId,
        keyId: key.id,
        ownerId,
        audit: [{ action: "key.create", targetId: key.id }],
        events: [{ type: "key.created", subject: key.id }],
      },
      "POST",
      "/keys",
    );
  }
}

/** One admin change ready to be made: its call, the keys to hammer, and what it changes. */
interface Plan {
  kind: ChangeKind;
  method: string;
  path: string;
  body?: unknown;
  workspaceId: string;
  keyId: string | null;
  ownerId: string | null;
  targets: Key[];
  writeShare: number;
  /** Applies the answer to the model; returns the audit entries and events it must leave. */
  apply(answer: AdminAnswer): Pick<Change, "audit" | "events" | "mismatch">;
}

const live = (key: Key): boolean => key.revokedAt === null;

function open(list: Restriction[], from: number, cause: string): void {
  list.push({ from, to: Number.POSITIVE_INFINITY, cause });
}

function close(list: Restriction[], to: number): void {
  const last = list.at(-1);
  if (last && last.to === Number.POSITIVE_INFINITY) last.to = to;
}

function keyUpdate(key: Key): Pick<Change, "audit" | "events"> {
  return {
    audit: [{ action: "key.update", targetId: key.id }],
    events: [{ type: "key.updated", subject: key.id }],
  };
}

function patch(
  key: Key,
  kind: ChangeKind,
  body: unknown,
  writeShare: number,
  apply: (span: Span) => void,
): Plan {
  return {
    kind,
    method: "PATCH",
    path: `/keys/${key.id}`,
    body,
    workspaceId: key.workspaceId,
    keyId: key.id,
    ownerId: null,
    targets: [key],
    writeShare,
    apply: (answer) => {
      apply(answer.span);
      return keyUpdate(key);
    },
  };
}

function toggleEnabled(key: Key): Plan {
  const enable = !key.enabled;
  return patch(key, enable ? "enable" : "disable", { enabled: enable }, 0.25, (span) => {
    if (enable) close(key.disables, span.sent);
    else open(key.disables, span.answered, `disable ${key.id}`);
    key.enabled = enable;
  });
}

function togglePermissions(key: Key): Plan {
  const widen = !key.canWrite;
  const permissions = widen ? ["products:read", "products:write"] : ["products:read"];
  return patch(key, widen ? "widen" : "narrow", { permissions }, 0.7, (span) => {
    if (widen) close(key.narrowings, span.sent);
    else open(key.narrowings, span.answered, `narrow ${key.id}`);
    key.canWrite = widen;
  });
}

function lowerLimit(lineage: Lineage, rng: Rng): Plan | null {
  const limits = lineage.limits.at(-1)?.value ?? {};
  const windows = (Object.keys(limits) as (keyof Limits)[]).filter((w) => (limits[w] ?? 0) > 20);
  if (windows.length === 0) return null;
  const window = rng.pick(windows);
  const lower = Math.max(16, Math.floor((limits[window] ?? 0) * (0.5 + rng.next() * 0.35)));
  const next = { ...limits, [window]: lower };
  return patch(lineage.head, "lower-limit", { limits: next }, 0.25, (span) => {
    lineage.limits.push({ span, value: next });
  });
}

function changeOwner(world: World, lineage: Lineage, rng: Rng): Plan {
  const key = lineage.head;
  const choices = [
    null,
    ...[...world.owners.values()].filter((o) => o.workspaceId === key.workspaceId).map((o) => o.id),
  ].filter((id) => id !== key.ownerId);
  const ownerId = rng.pick(choices);
  return patch(key, "change-owner", { ownerId }, 0.25, (span) => {
    lineage.owners.push({ span, value: ownerId });
    key.ownerId = ownerId;
  });
}

function setCredits(lineage: Lineage, rng: Rng): Plan {
  const key = lineage.head;
  const amount = rng.chance(0.2) ? rng.int(20, 80) : rng.int(200, 3000);
  return {
    kind: "set-credits",
    method: "POST",
    path: `/keys/${key.id}/credits`,
    body: { op: "set", amount },
    workspaceId: key.workspaceId,
    keyId: key.id,
    ownerId: null,
    targets: [key],
    writeShare: 0.3,
    apply: (answer) => {
      lineage.credits?.push({ span: answer.span, value: amount });
      return {
        audit: [{ action: "key.credits", targetId: key.id }],
        events: [{ type: "key.updated", subject: key.id }],
      };
    },
  };
}

function rotate(world: World, lineage: Lineage, rng: Rng): Plan {
  const old = lineage.head;
  const graceSeconds = rng.int(3, 15);
  const targets = [old];
  return {
    kind: "rotate",
    method: "POST",
    path: `/keys/${old.id}/rotate`,
    body: { gracePeriodSeconds: graceSeconds },
    workspaceId: old.workspaceId,
    keyId: old.id,
    ownerId: null,
    targets,
    writeShare: 0.25,
    apply: (answer) => {
      const successor = newKey(world, lineage, answer.json, answer.span.answered);
      successor.weight = old.weight;
      successor.enabled = old.enabled;
      successor.canWrite = old.canWrite;
      if (!old.enabled) open(successor.disables, answer.span.answered, `rotate ${old.id} (disabled)`);
      if (!old.canWrite) open(successor.narrowings, answer.span.answered, `rotate ${old.id} (narrowed)`);
      old.expiresAt = answer.span.answered + graceSeconds * 1000;
      old.successor = successor.id;
      lineage.head = successor;
      lineage.keys.push(successor);
      targets.push(successor);
      return {
        audit: [
          { action: "key.rotate", targetId: old.id },
          { action: "key.rotate", targetId: successor.id },
        ],
        events: [{ type: "key.rotated", subject: successor.id }],
      };
    },
  };
}

function revoke(key: Key): Plan {
  return {
    kind: "revoke",
    method: "POST",
    path: `/keys/${key.id}/revoke`,
    workspaceId: key.workspaceId,
    keyId: key.id,
    ownerId: null,
    targets: [key],
    writeShare: 0.25,
    apply: (answer) => {
      key.revokedAt = answer.span.answered;
      open(key.revocations, answer.span.answered, `revoke ${key.id}`);
      return {
        audit: [{ action: "key.revoke", targetId: key.id }],
        events: [{ type: "key.revoked", subject: key.id }],
      };
    },
  };
}

function ownedKeys(world: World, owner: Owner): Key[] {
  return [...world.keys.values()].filter((key) => key.ownerId === owner.id && live(key));
}

function putOwner(world: World, owner: Owner, rng: Rng): Plan {
  const current = owner.limits.at(-1)?.value ?? {};
  const limits: Limits = {};
  for (const [window, value] of Object.entries(current) as [keyof Limits, number][])
    limits[window] = Math.max(16, Math.floor(value * (0.6 + rng.next() * 0.7)));
  const credits = owner.credits ? rng.int(300, 6000) : null;
  const targets = ownedKeys(world, owner).slice(0, 3);
  return {
    kind: "owner-put",
    method: "PUT",
    path: `/owners/${owner.id}?workspaceId=${owner.workspaceId}`,
    body: ownerBody(owner.kind, limits, credits),
    workspaceId: owner.workspaceId,
    keyId: null,
    ownerId: owner.id,
    targets,
    writeShare: 0.25,
    apply: (answer) => {
      owner.limits.push({ span: answer.span, value: limits });
      if (credits !== null) owner.credits?.push({ span: answer.span, value: credits });
      return { audit: [{ action: "owner.update", targetId: owner.id }], events: [] };
    },
  };
}

function revokeOwner(world: World, owner: Owner): Plan {
  // Every key stored with this ownerId and not revoked: a rotated key in (or past) its grace
  // period included (docs/admin-api.md#owners).
  const keys = ownedKeys(world, owner);
  return {
    kind: "owner-revoke",
    method: "POST",
    path: `/owners/${owner.id}/revoke?workspaceId=${owner.workspaceId}`,
    workspaceId: owner.workspaceId,
    keyId: null,
    ownerId: owner.id,
    targets: keys.slice(0, 4),
    writeShare: 0.25,
    apply: (answer) => {
      const revoked = answer.json?.revoked;
      for (const key of keys) {
        key.revokedAt = answer.span.answered;
        open(key.revocations, answer.span.answered, `owner revoke ${owner.id}`);
      }
      return {
        audit: [
          { action: "owner.revoke", targetId: owner.id },
          ...keys.map((key) => ({ action: "key.revoke", targetId: key.id })),
        ],
        events: [{ type: "owner.revoked", subject: owner.id }],
        ...(revoked === keys.length
          ? {}
          : { mismatch: `answered revoked ${revoked}, the model counts ${keys.length} live keys` }),
      };
    },
  };
}

export interface AdminLimits {
  /** Most lineages revoked, one by one. */
  maxRevokes: number;
  maxOwnerRevokes: number;
}

function choose(world: World, rng: Rng, limits: AdminLimits, done: Map<ChangeKind, number>): Plan | null {
  const heads = world.lineages.filter((lineage) => live(lineage.head));
  if (heads.length === 0) return null;
  const owners = [...world.owners.values()];
  const kinds = [
    "toggle-enabled",
    "toggle-permissions",
    "lower-limit",
    "set-credits",
    "rotate",
    "change-owner",
    "owner-put",
    "revoke",
    "owner-revoke",
  ] as const;
  const revokes = done.get("revoke") ?? 0;
  const ownerRevokes = done.get("owner-revoke") ?? 0;
  const weights = [
    14,
    14,
    12,
    12,
    10,
    14,
    10,
    revokes < limits.maxRevokes ? 5 : 0,
    ownerRevokes < limits.maxOwnerRevokes ? 2 : 0,
  ];
  const kind = kinds[rng.weighted(weights)];
  const lineage = rng.pick(heads);
  switch (kind) {
    case "toggle-enabled":
      return toggleEnabled(lineage.head);
    case "toggle-permissions":
      return togglePermissions(lineage.head);
    case "lower-limit":
      return lowerLimit(lineage, rng);
    case "set-credits": {
      const withCredits = heads.filter((l) => l.credits !== null);
      return withCredits.length > 0 ? setCredits(rng.pick(withCredits), rng) : null;
    }
    case "rotate":
      return rotate(world, lineage, rng);
    case "change-owner":
      return changeOwner(world, lineage, rng);
    case "owner-put": {
      const set = owners.filter((owner) => owner.kind !== "none");
      return set.length > 0 ? putOwner(world, rng.pick(set), rng) : null;
    }
    case "revoke":
      return revoke(lineage.head);
    case "owner-revoke": {
      const withKeys = owners.filter((owner) => ownedKeys(world, owner).length > 0);
      return withKeys.length > 0 ? revokeOwner(world, rng.pick(withKeys)) : null;
    }
    default:
      return null;
  }
}

/** How long the hammer runs before a change is sent and after it is answered, ms. */
const HAMMER_BEFORE_MS = 300;
const HAMMER_AFTER_MS = 500;
/** Clients hammering the keys of each change. */
const HAMMERS = 3;

/** Makes one random change with its hammer; false when there was nothing left to change. */
export async function oneChange(
  traffic: Traffic,
  rng: Rng,
  limits: AdminLimits,
  done: Map<ChangeKind, number>,
): Promise<boolean> {
  const world = traffic.world;
  const plan = choose(world, rng, limits, done);
  if (!plan) return world.lineages.some((lineage) => live(lineage.head));
  const until = { done: false };
  const hammers =
    plan.targets.length === 0
      ? []
      : Array.from({ length: HAMMERS }, (_, i) =>
          hammer(
            traffic,
            rng.fork(`hammer-${world.changes.length}-${i}`),
            plan.targets,
            plan.writeShare,
            until,
          ),
        );
  await sleep(HAMMER_BEFORE_MS);
  const answer = await adminCall(traffic.deployment, world, plan.method, plan.path, plan.body);
  const ok = answer.status >= 200 && answer.status < 300;
  const expected = ok ? plan.apply(answer) : { audit: [], events: [] };
  record(
    world,
    answer,
    {
      kind: plan.kind,
      workspaceId: plan.workspaceId,
      keyId: plan.keyId,
      ownerId: plan.ownerId,
      ...expected,
    },
    plan.method,
    plan.path,
  );
  if (ok) done.set(plan.kind, (done.get(plan.kind) ?? 0) + 1);
  await sleep(HAMMER_AFTER_MS);
  until.done = true;
  await Promise.all(hammers);
  return true;
}
