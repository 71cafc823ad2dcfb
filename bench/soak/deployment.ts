/**
 * Portcullis under `wrangler dev` for the soak: started on a `--persist-to` directory the soak
 * keeps, killed with `kill -9` of its Worker's workerd, restarted on the same state. Clients and
 * admin calls always use the current address (each start picks a free port).
 */
import { type DevServer, startWranglerDev } from "../../test/e2e/wrangler-dev.ts";
import { alive, workerOf, wranglerTree } from "./processes.ts";

export const ROOT_TOKEN = "soak-root-token-0123456789";
export const SIGNING_SECRET = "soak-origin-signing-secret";
export const WEBHOOK_SECRET = `whsec_${Buffer.from("soak-webhook-signing-secret-32by").toString("base64")}`;

export interface SoakPolicyOptions {
  origin: string;
  webhook: string;
  leaseMs: number;
  cost: { read: number; write: number };
}

export function soakPolicy(options: SoakPolicyOptions) {
  return {
    origin: options.origin,
    leases: { ms: options.leaseMs },
    creditsLowThreshold: 50,
    // Allowed requests are logged at 1%: `wrangler dev` prints each line, on the same cores.
    logging: { allowedSampleRate: 0.01 },
    webhooks: [{ url: options.webhook, secretEnv: "SOAK_WEBHOOK_SECRET" }],
    keyTypes: { server: { prefix: "sk_soak", defaultPermissions: ["products:read", "products:write"] } },
    routes: [
      { path: "/api/products", methods: ["GET"], permissions: ["products:read"], cost: options.cost.read },
      { path: "/api/products", methods: ["POST"], permissions: ["products:write"], cost: options.cost.write },
    ],
  };
}

export class Deployment {
  url = "";
  /** False from a kill until the restarted server answers. */
  up = false;
  private server: DevServer | null = null;
  private readonly persist: string;
  private readonly vars: Record<string, string>;

  constructor(persist: string, vars: Record<string, string>) {
    this.persist = persist;
    this.vars = vars;
  }

  async start(migrate: boolean): Promise<void> {
    this.server = await startWranglerDev({ persist: this.persist, vars: this.vars, migrate });
    this.url = this.server.url;
    this.up = true;
  }

  /** kill -9 of the workerd that runs the Worker and its Durable Objects; answers its pid. */
  kill(): number {
    const worker = workerOf(Number(new URL(this.url).port));
    process.kill(worker.pid, "SIGKILL");
    this.up = false;
    return worker.pid;
  }

  /** Stops wrangler dev and makes sure none of its processes still holds the state. */
  async stop(): Promise<void> {
    if (!this.server) return;
    const { tree } = wranglerTree(Number(new URL(this.url).port));
    await this.server.stop();
    this.server = null;
    this.up = false;
    for (const proc of tree) if (alive(proc.pid)) process.kill(proc.pid, "SIGKILL");
    const deadline = Date.now() + 10_000;
    while (tree.some((proc) => alive(proc.pid))) {
      if (Date.now() > deadline) throw new Error("wrangler dev's processes did not end");
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
