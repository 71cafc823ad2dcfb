/** Limits by window, as keys and owners have them: fields to edit them and text to read them. */
import { field, fieldValue, h } from "./dom.js";

/** @type {("second" | "minute" | "hour" | "day" | "month")[]} */
export const WINDOWS = ["second", "minute", "hour", "day", "month"];

/**
 * One number field per window, filled with `limits`; empty or 0 is no limit.
 * @param {string} prefix ids and names of the fields
 * @param {Record<string, number | undefined>} limits
 */
export function limitFields(prefix, limits) {
  return h(
    "div",
    { class: "fields" },
    WINDOWS.map((window) =>
      field(`Per ${window}`, {
        id: `${prefix}-${window}`,
        name: `${prefix}-${window}`,
        type: "number",
        min: 0,
        step: 1,
        value: limits[window] ? String(limits[window]) : "",
      }),
    ),
  );
}

/**
 * The limits the fields hold: the windows not empty and not 0.
 * @param {HTMLFormElement} form
 * @param {string} prefix
 */
export function limitsOf(form, prefix) {
  /** @type {Record<string, number>} */
  const limits = {};
  for (const window of WINDOWS) {
    // Anything but empty or 0 goes to the API as typed, so that a bad value is its problem to show.
    const text = fieldValue(form, `${prefix}-${window}`);
    if (text !== "" && Number(text) !== 0) limits[window] = Number(text);
  }
  return limits;
}

/** `60 a minute, 1000 a day`, or `none`. @param {Record<string, number | undefined>} limits */
export function limitsText(limits) {
  const set = WINDOWS.filter((window) => (limits[window] ?? 0) > 0);
  return set.map((window) => `${limits[window]} a ${window}`).join(", ") || "none";
}
