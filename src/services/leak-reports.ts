/**
 * GitHub secret-scanning leak reports (docs/leaks.md), once their signature is verified: every
 * reported token that is a key of this deployment (any workspace, admin keys included) is handled
 * by the policy's `leaks.action`, audited as `key.leak` and announced as `key.leaked`; a token
 * already handled for the same `url` is left alone, so that a replayed report cannot undo a
 * later re-enable.
 */

import type { GateDirectory } from "../key-client/client";
import { publish } from "../key-object/events";
import { keyEvent, type PortcullisEvent } from "../keys/events";
import { sha256Hex } from "../keys/hash";
import { newId } from "../keys/random";
import type { CompiledPolicy } from "../policy/compiled";
import { Refusal } from "../refusals";
import { type Actor, AuditStore } from "../storage/audit";
import { EventStore } from "../storage/events";
import { commit } from "../storage/guard";
import { KeyStore } from "../storage/keys";
import { LeakReportStore } from "../storage/leak-reports";
import type { AdminContext } from "./admin-context";
import { KeyService } from "./keys";
import type { UnconfirmedRestrictions } from "./unconfirmed";

export type LeakAction = "revoke" | "disable" | "notify";

/** One reported token, as GitHub sends it. */
export interface LeakReport {
  token: string;
  type: string;
  url: string;
  source: string;
}

/** GitHub's answer format: whether each reported token was a real key. */
export interface LeakLabel {
  token_hash: string;
  token_type: string;
  label: "true_positive" | "false_positive";
}

export const GITHUB_ACTOR: Actor = { type: "system", id: "github" };

export class LeakReportService {
  private readonly keys: KeyStore;
  private readonly reports: LeakReportStore;
  private readonly audit: AuditStore;
  private readonly events: EventStore;
  private readonly keyService: KeyService;

  constructor(
    private readonly db: D1Database,
    compiled: CompiledPolicy,
    gates: GateDirectory,
    unconfirmed: UnconfirmedRestrictions,
    private readonly action: LeakAction,
    private readonly queue: Queue<PortcullisEvent> | undefined,
  ) {
    this.keys = new KeyStore(db);
    this.reports = new LeakReportStore(db);
    this.audit = new AuditStore(db);
    this.events = new EventStore(db);
    this.keyService = new KeyService(db, compiled, gates, unconfirmed);
  }

  /**
   * One after the other, so that a token reported twice in one body is handled once. A storage
   * failure stops here (503): what was handled is recorded, the rest is handled on GitHub's retry.
   */
  async handle(reports: LeakReport[], requestId: string): Promise<LeakLabel[]> {
    const labels: LeakLabel[] = [];
    for (const report of reports) labels.push(await this.handleOne(report, requestId));
    return labels;
  }

  private async handleOne(report: LeakReport, requestId: string): Promise<LeakLabel> {
    const tokenHash = await sha256Hex(report.token);
    const label = (found: boolean): LeakLabel => ({
      token_hash: tokenHash,
      token_type: report.type,
      label: found ? "true_positive" : "false_positive",
    });
    const stored = await this.keys.findByHash(tokenHash);
    // A deleted key no longer exists for anyone; its hash stays only to stay reserved.
    if (!stored || stored.deleted) return label(false);
    if (await this.reports.handled(tokenHash, report.url)) return label(true);

    const { record } = stored;
    const context: AdminContext = { actor: GITHUB_ACTOR, workspaceId: null, permissions: ["*"], requestId };
    await this.act(context, record.id);
    const at = Date.now();
    const details = { action: this.action, type: report.type, url: report.url, source: report.source };
    // `tokenType` is GitHub's name for the format; `type` in an event's data is the key's type.
    const event = keyEvent(newId("evt"), "key.leaked", record, at, {
      action: this.action,
      tokenType: report.type,
      url: report.url,
      source: report.source,
    });
    // The report is recorded only once acted on: if acting failed, GitHub's retry acts again.
    await commit(this.db, [
      this.reports.insert(tokenHash, report.url, at),
      this.audit.insert({
        id: newId("aud"),
        at,
        workspaceId: record.workspaceId,
        actor: GITHUB_ACTOR,
        action: "key.leak",
        targetId: record.id,
        requestId,
        before: null,
        after: details,
      }),
      this.events.insert(event),
    ]);
    await publish(this.queue, [event]);
    return label(true);
  }

  /** Through the key's object, as the admin API changes a key; a key revoked or deleted meanwhile needs nothing more. */
  private async act(context: AdminContext, keyId: string): Promise<void> {
    try {
      if (this.action === "revoke") await this.keyService.revoke(context, keyId);
      else if (this.action === "disable") await this.keyService.update(context, keyId, { enabled: false });
    } catch (error) {
      if (error instanceof Refusal && (error.code === "key_revoked" || error.code === "not_found")) return;
      throw error;
    }
  }
}
