/**
 * `@portcullis/element`: importing this module defines `<portcullis-keys>`, the self-service
 * API keys of a Portcullis portal (docs/portal.md of the Portcullis repository).
 */

/** What each event of the element carries: never a key. */
export interface PortcullisKeysEventDetail {
  "portcullis-key-created": { id: string; type: string; name: string | null };
  "portcullis-key-rotated": { id: string; newId: string };
  "portcullis-key-revoked": { id: string };
  "portcullis-error": { code: string; status: number };
}

/** The element's events (bubbling, composed) by name. */
export type PortcullisKeysEventMap = {
  [type in keyof PortcullisKeysEventDetail]: CustomEvent<PortcullisKeysEventDetail[type]>;
};

/**
 * `<portcullis-keys base-url="https://api.example.com/_portcullis" locale="en">`. Bundled,
 * `base-url` is required (https, or http on localhost); `locale` is `en` or `es`.
 */
export declare class PortcullisKeys extends HTMLElement {
  static readonly observedAttributes: string[];
  /** The member's token from the provider's login, asked for before every request. */
  getToken: (() => string | null | undefined | Promise<string | null | undefined>) | null;
  /** Write-only: a token set here is never read back from the element. */
  set token(value: string | null);
  /** Replaces any visible text, by the name of its string. */
  labels: Record<string, string> | null;
  addEventListener<K extends keyof PortcullisKeysEventMap>(
    type: K,
    listener: (this: PortcullisKeys, event: PortcullisKeysEventMap[K]) => unknown,
    options?: boolean | AddEventListenerOptions,
  ): void;
  addEventListener<K extends keyof HTMLElementEventMap>(
    type: K,
    listener: (this: PortcullisKeys, event: HTMLElementEventMap[K]) => unknown,
    options?: boolean | AddEventListenerOptions,
  ): void;
  addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject,
    options?: boolean | AddEventListenerOptions,
  ): void;
  removeEventListener<K extends keyof PortcullisKeysEventMap>(
    type: K,
    listener: (this: PortcullisKeys, event: PortcullisKeysEventMap[K]) => unknown,
    options?: boolean | EventListenerOptions,
  ): void;
  removeEventListener<K extends keyof HTMLElementEventMap>(
    type: K,
    listener: (this: PortcullisKeys, event: HTMLElementEventMap[K]) => unknown,
    options?: boolean | EventListenerOptions,
  ): void;
  removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject,
    options?: boolean | EventListenerOptions,
  ): void;
}

declare global {
  interface HTMLElementTagNameMap {
    "portcullis-keys": PortcullisKeys;
  }
}
