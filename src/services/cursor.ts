/**
 * Opaque pagination cursors: base64url JSON of the last item's sort key.
 */
import { decodeBase64Url, encodeBase64Url } from "hono/utils/encode";
import { Refusal } from "../refusals";

export function encodeCursor(value: unknown): string {
  return encodeBase64Url(new TextEncoder().encode(JSON.stringify(value)).buffer).replace(/=+$/, "");
}

export function decodeCursor<T>(cursor: string, valid: (value: unknown) => value is T): T {
  try {
    const value: unknown = JSON.parse(new TextDecoder().decode(decodeBase64Url(cursor)));
    if (valid(value)) return value;
  } catch {
    // Reported below as a bad cursor.
  }
  throw new Refusal("bad_request", "The cursor is not one this API returned.", {
    errors: [{ field: "cursor", message: "invalid cursor" }],
  });
}
