/** Types of server.mjs, for the browser test that starts it. */
export interface DemoUser {
  name: string;
  org: string;
  roles: string[];
}

export const DEMO: {
  secret: string;
  issuer: string;
  audience: string;
  lifetimeSeconds: number;
  users: Record<string, DemoUser>;
};

export function signToken(claims: Record<string, unknown>, secret: string): string;

export function startProvider(options: {
  portcullis: string;
  port?: number;
  host?: string;
  secret?: string;
  issuer?: string;
  audience?: string;
  lifetimeSeconds?: number;
  users?: Record<string, DemoUser>;
}): Promise<{ url: string; issued: () => number; close: () => Promise<void> }>;
