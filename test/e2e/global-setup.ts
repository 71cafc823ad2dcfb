/**
 * Starts what the end-to-end tests talk to over real HTTP: the test origin and Portcullis under
 * `wrangler dev`, protecting that origin.
 */
import type { TestProject } from "vitest/node";
import { E2E_ROOT_TOKEN, E2E_SIGNING_SECRET, e2ePolicy } from "./fixtures";
import { startOrigin } from "./origin";
import { startWranglerDev } from "./wrangler-dev";

declare module "vitest" {
  export interface ProvidedContext {
    portcullisUrl: string;
    originUrl: string;
  }
}

export async function setup(project: TestProject) {
  const origin = await startOrigin(E2E_SIGNING_SECRET);
  const portcullis = await startWranglerDev({
    vars: {
      POLICY: JSON.stringify(e2ePolicy(origin.url)),
      ADMIN_TOKEN: E2E_ROOT_TOKEN,
      ORIGIN_SIGNING_SECRET: E2E_SIGNING_SECRET,
    },
  });
  project.provide("portcullisUrl", portcullis.url);
  project.provide("originUrl", origin.url);
  return async () => {
    await portcullis.stop();
    await origin.close();
  };
}
