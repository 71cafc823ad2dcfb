/**
 * JSON columns: D1 stores arrays and objects as text.
 */

export function parseJson<T>(text: string | null, fallback: T): T {
  return text === null ? fallback : (JSON.parse(text) as T);
}
