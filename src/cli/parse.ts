/**
 * Parsers of option values: each answers the value the API expects or throws commander's
 * `InvalidArgumentError`, which the CLI reports as a usage error (exit 2).
 */
import { InvalidArgumentError } from "commander";

/** An integer of at least `min`. */
export function integer(min: number): (value: string) => number {
  return (value) => {
    const number = Number(value);
    if (value.trim() === "" || !Number.isSafeInteger(number) || number < min) {
      throw new InvalidArgumentError(`expected an integer of at least ${min}, got "${value}".`);
    }
    return number;
  };
}

/** A repeatable option: each occurrence may also hold a comma-separated list. */
export function list(value: string, previous: string[] | undefined): string[] {
  const items = value
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "");
  return [...(previous ?? []), ...items];
}

export type JsonObject = { [key: string]: JsonValue };
type JsonValue = string | number | boolean | null | JsonValue[] | JsonObject;

/** A JSON object, e.g. `--meta '{"team":"billing"}'`. */
export function jsonObject(value: string): JsonObject {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new InvalidArgumentError(`expected a JSON object, got "${value}".`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new InvalidArgumentError(`expected a JSON object, got "${value}".`);
  }
  return parsed as JsonObject;
}

const WINDOWS = ["second", "minute", "hour", "day", "month"] as const;
export type Window = (typeof WINDOWS)[number];

/** Per-window limits, `minute=30,day=1000`. */
export function limits(value: string): Partial<Record<Window, number>> {
  const result: Partial<Record<Window, number>> = {};
  for (const entry of value.split(",")) {
    const [window, count, ...rest] = entry.split("=").map((part) => part.trim());
    if (!WINDOWS.includes(window as Window) || count === undefined || rest.length > 0) {
      throw new InvalidArgumentError(
        `expected WINDOW=N[,WINDOW=N...] with WINDOW one of ${WINDOWS.join(", ")}.`,
      );
    }
    result[window as Window] = integer(0)(count);
  }
  return result;
}

export type Refill = { interval: "day" | "month"; amount: number } | null;
/** `none` stays a word here: commander turns a parser's `null` into an empty string. */
export type RefillOption = Exclude<Refill, null> | "none";

/** A credit refill, `month:1000` (the balance is set to 1000 each UTC month), or `none`. */
export function refill(value: string): RefillOption {
  if (value === "none") return value;
  const [interval, amount, ...rest] = value.split(":");
  if ((interval !== "day" && interval !== "month") || amount === undefined || rest.length > 0) {
    throw new InvalidArgumentError('expected day:AMOUNT, month:AMOUNT or "none".');
  }
  return { interval, amount: integer(0)(amount) };
}

/** The refill as the API takes it: null for none. */
export function refillOf(option: RefillOption): Refill {
  return option === "none" ? null : option;
}

/** A positive number of seconds, e.g. `0.5`. */
export function seconds(value: string): number {
  const number = Number(value);
  if (value.trim() === "" || !Number.isFinite(number) || number <= 0) {
    throw new InvalidArgumentError(`expected a positive number of seconds, got "${value}".`);
  }
  return number;
}
