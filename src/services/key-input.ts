/**
 * What the admin API asks of the key service: the fields of a new, imported or changed key,
 * and a listing's filters.
 */
import type { Credits, Json } from "../keys/record";
import type { Limits } from "../policy/schema";

export interface KeySettings {
  name?: string;
  ownerId?: string;
  permissions?: string[];
  roles?: string[];
  meta?: Record<string, Json>;
  plan?: string;
  limits?: Limits;
  credits?: Credits;
  ipAllowlist?: string[];
  expiresAt?: string;
}

export interface NewKey extends KeySettings {
  workspaceId: string;
  type: string;
}

export interface ImportedKey extends NewKey {
  key?: string;
  hash?: string;
}

export interface KeyChange {
  name?: string | null;
  ownerId?: string | null;
  permissions?: string[];
  roles?: string[];
  meta?: Record<string, Json>;
  plan?: string | null;
  limits?: Limits;
  expiresAt?: string | null;
  enabled?: boolean;
  ipAllowlist?: string[];
}

export interface KeyQuery {
  workspaceId?: string;
  ownerId?: string;
  type?: string;
  /** Only keys of these types (the portal's). */
  types?: string[];
  /** A prefix of the key's name or of its `start`. */
  q?: string;
  cursor?: string;
  limit: number;
}
