/**
 * Leak reports already acted on (migrations/0005_leak_reports.sql), by key hash and the `url`
 * the report names: a report replayed later must not act again, e.g. disable a key that was
 * re-enabled since.
 */
import { d1 } from "./guard";

export class LeakReportStore {
  constructor(private readonly db: D1Database) {}

  async handled(tokenHash: string, url: string): Promise<boolean> {
    const row = await d1(() =>
      this.db
        .prepare("SELECT 1 AS handled FROM leak_reports WHERE token_hash = ?1 AND url = ?2")
        .bind(tokenHash, url)
        .first<{ handled: number }>(),
    );
    return row !== null;
  }

  /** Idempotent: a report handled twice at once is recorded once. */
  insert(tokenHash: string, url: string, at: number): D1PreparedStatement {
    return this.db
      .prepare("INSERT OR IGNORE INTO leak_reports (token_hash, url, handled_at) VALUES (?1, ?2, ?3)")
      .bind(tokenHash, url, at);
  }
}
