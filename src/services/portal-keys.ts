/**
 * A member's keys through the portal (docs/portal.md#keys). Every change is an admin change
 * made through `KeyService` with the `portal` actor, bound to the member's workspace; this
 * service adds what the portal allows on top: which keys a member sees (portal types only, its
 * own for `keys:own`), what it may grant (`grantable`, the type's ceiling, the plan's limits,
 * `maxLifetimeDays`), the maximums (kept by the create itself), and the provider's keys
 * read-only but for revoke.
 */
import { newKeyPlanLimits } from "../decision/decide";
import { beyondCeiling, holds } from "../keys/permissions";
import type { KeyRecord } from "../keys/record";
import type { CompiledPolicy } from "../policy/compiled";
import { ownEntry } from "../policy/own-entry";
import type { Portal, PortalKeyType, PortalPermission } from "../policy/portal";
import type { Limits, Window } from "../policy/schema";
import { type FieldError, Refusal } from "../refusals";
import { AuditStore } from "../storage/audit";
import { KeyStore } from "../storage/keys";
import { OwnerStore } from "../storage/owners";
import { RoleStore, resolveRoles } from "../storage/roles";
import { type AdminContext, notFound } from "./admin-context";
import type { Inspection, KeyService } from "./keys";
import { badRequest } from "./policy-checks";
import type { PortalMember } from "./portal-session";
import { type UsageItem, type UsageQuery, usageReport } from "./usage-range";

const DAY_MS = 86_400_000;
/** Usage of this many keys is read at once when summing. */
const USAGE_BATCH = 20;
/** Keys `GET /usage` sums at most (one call of each key's object): docs/portal.md#limits. */
export const MAX_SUMMED_KEYS = 100;

/** A key's id: `key_` and 20 base62 characters. */
const KEY_ID = /^key_[A-Za-z0-9]{20}$/;

/** `ownerId` as the admin API takes it: a member's subject must be one to own keys. */
const OWNER_ID = /^[A-Za-z0-9_.:@|-]{1,128}$/;

export interface PortalNewKey {
  type: string;
  name: string;
  permissions?: string[];
  expiresAt?: string;
  limits?: Limits;
}

export interface PortalKeyQuery {
  mine: boolean;
  cursor?: string;
  limit: number;
}

function forbidden(detail: string): Refusal {
  return new Refusal("insufficient_permissions", detail);
}

/** The effective plan of a workspace for `createOnPlans`: its own, else the deployment's default. */
function workspacePlan(compiled: CompiledPolicy, plan: string | null): string | null {
  const chain = [plan, compiled.policy.defaultPlan];
  return (
    chain.find((name): name is string => !!name && ownEntry(compiled.policy.plans, name) !== undefined) ??
    null
  );
}

export class PortalKeyService {
  private readonly portal: Portal;
  private readonly store: KeyStore;
  private readonly audit: AuditStore;
  private readonly owners: OwnerStore;
  private readonly roles: RoleStore;

  constructor(
    db: D1Database,
    private readonly compiled: CompiledPolicy,
    private readonly keys: KeyService,
    private readonly member: PortalMember,
    private readonly context: AdminContext,
  ) {
    this.portal = compiled.policy.portal as Portal;
    this.store = new KeyStore(db);
    this.audit = new AuditStore(db);
    this.owners = new OwnerStore(db);
    this.roles = new RoleStore(db);
  }

  private holds(permission: PortalPermission): boolean {
    return this.member.permissions.includes(permission);
  }

  private portalType(type: string): PortalKeyType | undefined {
    return ownEntry(this.portal.keyTypes, type);
  }

  /** Types of `ownedBy: "member"`, whose keys a member owns. */
  private memberTypes(): string[] {
    return Object.entries(this.portal.keyTypes)
      .filter(([, type]) => type.ownedBy === "member")
      .map(([name]) => name);
  }

  private isOwn(record: KeyRecord): boolean {
    return this.portalType(record.type)?.ownedBy === "member" && record.ownerId === this.member.subject;
  }

  /** The key if the member may see it; else 404, as if it did not exist. */
  private async visible(id: string): Promise<Inspection> {
    if (!this.holds("keys:read") && !this.holds("keys:own")) {
      throw forbidden("Seeing keys needs the portal permission keys:read or keys:own.");
    }
    // An id that cannot be a key's costs no object call.
    if (!KEY_ID.test(id)) throw notFound("key", id);
    const inspection = await this.keys.get(this.context, id).catch((error: unknown) => {
      if (error instanceof Refusal && error.code === "not_found") throw notFound("key", id);
      throw error;
    });
    const { record } = inspection;
    const seen =
      record.workspaceId === this.member.workspace.id &&
      this.portalType(record.type) !== undefined &&
      (this.holds("keys:read") || this.isOwn(record));
    if (!seen) throw notFound("key", id);
    return inspection;
  }

  /** The key if the member may change it: `keys:manage`, or `keys:own` for its own keys. */
  private async changeable(id: string, provider: "refuse" | "allow"): Promise<KeyRecord> {
    const { record } = await this.visible(id);
    if (!this.holds("keys:manage") && !(this.holds("keys:own") && this.isOwn(record))) {
      throw forbidden(
        "Changing this key needs the portal permission keys:manage, or keys:own for one's own key.",
      );
    }
    if (provider === "refuse" && record.createdBy?.type !== "portal") {
      throw forbidden("A key the provider created is read-only in the portal, apart from revoking it.");
    }
    return record;
  }

  async list(query: PortalKeyQuery): Promise<{ items: KeyRecord[]; cursor: string | null }> {
    if (!this.holds("keys:read") && !this.holds("keys:own")) {
      throw forbidden("Seeing keys needs the portal permission keys:read or keys:own.");
    }
    const all = this.holds("keys:read") && !query.mine;
    const types = all ? Object.keys(this.portal.keyTypes) : this.memberTypes();
    if (types.length === 0) return { items: [], cursor: null };
    return this.keys.list(this.context, {
      workspaceId: this.member.workspace.id,
      types,
      ...(!all && { ownerId: this.member.subject }),
      ...(query.cursor !== undefined && { cursor: query.cursor }),
      limit: query.limit,
    });
  }

  async get(id: string): Promise<Inspection> {
    return this.visible(id);
  }

  async create(input: PortalNewKey): Promise<{ record: KeyRecord; key: string }> {
    const type = this.portalType(input.type);
    const isMemberType = type?.ownedBy === "member";
    if (!this.holds("keys:manage") && !(this.holds("keys:own") && (type === undefined || isMemberType))) {
      throw forbidden(
        "Creating keys needs the portal permission keys:manage, or keys:own for one's own keys of a member's type.",
      );
    }
    const plans = this.portal.createOnPlans;
    if (plans && !plans.includes(workspacePlan(this.compiled, this.member.workspace.plan) ?? "")) {
      throw new Refusal(
        "plan_required",
        `Creating keys needs a workspace on one of the plans: ${plans.join(", ")}.`,
      );
    }
    if (!type) {
      const known = Object.keys(this.portal.keyTypes).join(", ");
      throw badRequest("type", `not a key type of the portal (known: ${known})`);
    }
    if (isMemberType && !OWNER_ID.test(this.member.subject)) {
      throw forbidden("This member's subject cannot own keys (ownerId is 1 to 128 of [A-Za-z0-9_.:@|-]).");
    }
    const permissions = this.permissionsFor(input.type, type, input.permissions);
    if (input.permissions !== undefined && ownEntry(this.compiled.policy.keyTypes, input.type)?.ownerScoped) {
      await this.withinOwnerRoles(input.permissions);
    }
    const limits = this.limitsFor(input.type, type, input.limits);
    this.checkExpiry(input.expiresAt);
    const portalTypes = Object.keys(this.portal.keyTypes);
    return this.keys.create(
      this.context,
      {
        workspaceId: this.member.workspace.id,
        type: input.type,
        name: input.name,
        permissions,
        ...(isMemberType && { ownerId: this.member.subject }),
        ...(limits && { limits }),
        ...(input.expiresAt !== undefined && { expiresAt: input.expiresAt }),
      },
      {
        types: portalTypes,
        maxPerWorkspace: this.portal.maxKeysPerWorkspace,
        member: isMemberType
          ? { ownerId: this.member.subject, types: this.memberTypes(), max: this.portal.maxKeysPerMember }
          : null,
      },
    );
  }

  /** Each requested permission a `grantable` entry within the type's ceiling; absent: the grantable defaults. */
  private permissionsFor(name: string, type: PortalKeyType, requested: string[] | undefined): string[] {
    const keyType = ownEntry(this.compiled.policy.keyTypes, name);
    if (requested === undefined) {
      const defaults = (keyType?.defaultPermissions ?? []).filter((p) => type.grantable.includes(p));
      return defaults.filter((p) => beyondCeiling([p], keyType?.allowedPermissions).length === 0);
    }
    if (requested.length === 0 && type.grantable.length > 0) {
      throw badRequest(
        "permissions",
        "name at least one permission, or leave permissions out for the defaults",
      );
    }
    const refused = requested.filter(
      (p) => !type.grantable.includes(p) || beyondCeiling([p], keyType?.allowedPermissions).length > 0,
    );
    if (refused.length > 0) {
      const errors: FieldError[] = refused.map((p) => ({
        field: "permissions",
        message: `"${p}" is not a permission a member may grant on key type "${name}"`,
      }));
      throw new Refusal("permission_not_allowed", `Members may not grant: ${refused.join(", ")}.`, {
        errors,
      });
    }
    return [...new Set(requested)];
  }

  /**
   * A member's key of an `ownerScoped` type would hold only what the member's owner roles grant:
   * choosing more is refused rather than created inert (docs/portal.md#creating).
   */
  private async withinOwnerRoles(requested: readonly string[]): Promise<void> {
    const workspaceId = this.member.workspace.id;
    const names = (await this.owners.find(workspaceId, this.member.subject))?.roles ?? [];
    const granted = Object.values(
      resolveRoles(names, await this.roles.find(workspaceId, names), this.compiled.policy.roles),
    ).flat();
    const refused = requested.filter((permission) => !holds(granted, permission));
    if (refused.length === 0) return;
    const errors: FieldError[] = refused.map((p) => ({
      field: "permissions",
      message: `"${p}" is not granted by the member's roles`,
    }));
    throw new Refusal("permission_not_allowed", `The member's roles do not grant: ${refused.join(", ")}.`, {
      errors,
    });
  }

  /**
   * The windows of `type.limits` only, each at most the value of the plan the key will be decided
   * under (0 included; any when that plan sets none): a key's own value replaces its plan's.
   */
  private limitsFor(name: string, type: PortalKeyType, limits: Limits | undefined): Limits | undefined {
    if (limits === undefined) return undefined;
    const settable = new Set<Window>(type.limits ?? []);
    const maxima = newKeyPlanLimits(this.member.workspace.plan, this.compiled.gatePolicy(name));
    for (const [window, value] of Object.entries(limits) as [Window, number][]) {
      if (!settable.has(window))
        throw badRequest(`limits.${window}`, "members may not set this window on this key type");
      const max = maxima[window];
      // A plan's 0 admits no request in the window: a key's own positive value would replace it.
      if (max !== undefined && value > max) {
        throw badRequest(`limits.${window}`, `at most the plan's ${max}`);
      }
    }
    return limits;
  }

  private checkExpiry(expiresAt: string | undefined): void {
    const days = this.portal.maxLifetimeDays;
    if (days === undefined) return;
    if (expiresAt === undefined)
      throw badRequest("expiresAt", `required: keys here live at most ${days} days`);
    if (Date.parse(expiresAt) > Date.now() + days * DAY_MS) {
      throw badRequest("expiresAt", `at most ${days} days ahead`);
    }
  }

  /** Refuses a change that would free a key someone other than a member disabled. */
  private async notHeldDisabled(record: KeyRecord, what: string): Promise<void> {
    if (!record.enabled && (await this.audit.heldDisabled(record.workspaceId, record.id))) {
      throw forbidden(`The provider disabled this key; only the provider can ${what} it.`);
    }
  }

  /**
   * Renames, disables or enables; a key the provider disabled stays disabled. An enable is
   * applied only if the key was not changed since it was checked (409 `conflict` otherwise),
   * so a disable that lands in between is never undone.
   */
  async update(id: string, change: { name?: string; enabled?: boolean }): Promise<KeyRecord> {
    const record = await this.changeable(id, "refuse");
    if (change.enabled === true && !record.enabled) {
      await this.notHeldDisabled(record, "enable");
      return this.keys.update(this.context, id, change, { ifUnchangedSince: record.updatedAt });
    }
    return this.keys.update(this.context, id, change);
  }

  /**
   * A successor inherits its predecessor's state: a key the provider disabled is not rotated
   * either. The rotation is applied only if the key was not changed since it was checked (409
   * `conflict` otherwise), so a disable that lands in between cannot pass to a successor that
   * the member could then enable.
   */
  async rotate(id: string, gracePeriodSeconds: number): Promise<{ record: KeyRecord; key: string }> {
    const record = await this.changeable(id, "refuse");
    await this.notHeldDisabled(record, "rotate");
    const days = this.portal.maxLifetimeDays;
    const rotated = await this.keys.rotate(
      this.context,
      id,
      gracePeriodSeconds,
      days === undefined ? undefined : Date.now() + days * DAY_MS,
      { ifUnchangedSince: record.updatedAt },
    );
    // Only the key just rotated stays in its grace: each key in grace passes its requests on to
    // its successor, so an unbounded chain would multiply every request's object calls.
    await this.keys.endPredecessorGraces(this.context, record);
    return rotated;
  }

  async revoke(id: string): Promise<KeyRecord> {
    await this.changeable(id, "allow");
    return this.keys.revoke(this.context, id);
  }

  async usage(id: string, query: UsageQuery): Promise<UsageItem[]> {
    this.needUsage();
    await this.visible(id);
    return this.keys.usage(this.context, id, query);
  }

  /**
   * Usage summed exactly over the keys the member may see: each key's report as the admin API
   * reads it (from its own object, this isolate's lease settled first), added period by period.
   * At most `MAX_SUMMED_KEYS` keys (one object call each): past it, 409 `limit_reached` before
   * any object call, so that no member's call fans out with the keys it accumulated.
   */
  async totalUsage(query: UsageQuery): Promise<UsageItem[]> {
    this.needUsage();
    const all = this.holds("keys:read");
    const types = all ? Object.keys(this.portal.keyTypes) : this.holds("keys:own") ? this.memberTypes() : [];
    const ids =
      types.length === 0
        ? []
        : await this.store.idsOfTypes(
            this.member.workspace.id,
            types,
            all ? null : this.member.subject,
            MAX_SUMMED_KEYS + 1,
          );
    if (ids.length > MAX_SUMMED_KEYS) {
      throw new Refusal(
        "limit_reached",
        `GET /usage sums at most ${MAX_SUMMED_KEYS} keys (revoked ones included) and this member sees more: read each key's usage (GET /keys/{id}/usage).`,
      );
    }
    const items = await usageReport(query, Date.now(), async () => ({}));
    const byPeriod = new Map(items.map((item) => [item.day ?? item.hour, item]));
    for (let start = 0; start < ids.length; start += USAGE_BATCH) {
      const batch = ids.slice(start, start + USAGE_BATCH);
      const reports = await Promise.all(batch.map((id) => this.keys.usage(this.context, id, query)));
      for (const report of reports) {
        for (const item of report) {
          const sum = byPeriod.get(item.day ?? item.hour);
          if (!sum) continue;
          sum.allowed += item.allowed;
          for (const [code, count] of Object.entries(item.denied))
            sum.denied[code] = (sum.denied[code] ?? 0) + count;
        }
      }
    }
    return items;
  }

  private needUsage(): void {
    if (!this.holds("usage:read")) throw forbidden("Reading usage needs the portal permission usage:read.");
  }
}
