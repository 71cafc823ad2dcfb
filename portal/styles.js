/**
 * The element's style sheet, adopted by its shadow root (no `<style>` element, so a page's CSP
 * needs no `'unsafe-inline'`). Every colour and font comes from a CSS custom property that the
 * host page may set on `portcullis-keys` (docs/portal.md, "Style it"); the defaults are a light
 * theme with WCAG AA contrast.
 */
export const CSS = `
:host {
  --_bg: var(--portcullis-background, #ffffff);
  --_fg: var(--portcullis-text, #1d2330);
  --_muted: var(--portcullis-muted, #4d5566);
  --_surface: var(--portcullis-surface, #f5f6f8);
  --_border: var(--portcullis-border, #c9ced8);
  --_accent: var(--portcullis-accent, #1f5fbf);
  --_accent-text: var(--portcullis-accent-text, #ffffff);
  --_danger: var(--portcullis-danger, #b3261e);
  --_danger-text: var(--portcullis-danger-text, #ffffff);
  --_warning: var(--portcullis-warning, #fff4d6);
  --_warning-text: var(--portcullis-warning-text, #5c3c00);
  --_focus: var(--portcullis-focus, #1f5fbf);
  --_radius: var(--portcullis-radius, 6px);
  display: block;
  container-type: inline-size;
  color: var(--_fg);
  background: var(--_bg);
  font-family: var(--portcullis-font, system-ui, -apple-system, "Segoe UI", Roboto, sans-serif);
  font-size: var(--portcullis-font-size, 1rem);
  line-height: 1.5;
}
:host([hidden]) { display: none; }
* { box-sizing: border-box; }
.shell { padding: 1rem; max-width: 100%; }
.workspace { margin: 0 0 0.75rem; color: var(--_muted); font-size: 0.9em; }
.workspace strong { color: var(--_fg); }
h2 { font-size: 1.3em; margin: 0 0 0.75rem; overflow-wrap: anywhere; }
h3 { font-size: 1.05em; margin: 1.25rem 0 0.5rem; }
h2:focus { outline: none; }
p { margin: 0.5rem 0; }
.muted, small { color: var(--_muted); }
button, select, input {
  font: inherit;
  color: inherit;
  border-radius: var(--_radius);
}
button {
  cursor: pointer;
  border: 1px solid var(--_accent);
  background: var(--_accent);
  color: var(--_accent-text);
  padding: 0.45rem 0.9rem;
  min-height: 2.5rem;
}
button.secondary { background: var(--_bg); color: var(--_accent); }
button.danger { background: var(--_danger); border-color: var(--_danger); color: var(--_danger-text); }
button.link {
  background: none; border: none; color: var(--_accent); padding: 0.2rem 0; min-height: 0;
  text-decoration: underline; text-align: start; overflow-wrap: anywhere;
}
button:disabled { opacity: 0.6; cursor: default; }
select, input[type="text"], input[type="number"], input[type="date"] {
  border: 1px solid var(--_border);
  background: var(--_bg);
  padding: 0.4rem 0.5rem;
  min-height: 2.5rem;
  width: 100%;
  max-width: 26rem;
}
:focus-visible { outline: 3px solid var(--_focus); outline-offset: 2px; }
.bar { display: flex; flex-wrap: wrap; gap: 0.5rem; align-items: center; justify-content: space-between; margin-bottom: 0.75rem; }
.actions { display: flex; flex-wrap: wrap; gap: 0.5rem; align-items: center; margin: 0.75rem 0; }
.tabs { display: flex; gap: 0.25rem; flex-wrap: wrap; }
.tabs button[aria-pressed="false"] { background: var(--_bg); color: var(--_accent); }
ul.keys { list-style: none; padding: 0; margin: 0; }
ul.keys li {
  border: 1px solid var(--_border); border-radius: var(--_radius); background: var(--_surface);
  padding: 0.6rem 0.8rem; margin-bottom: 0.5rem;
  display: flex; flex-wrap: wrap; gap: 0.25rem 1rem; align-items: baseline;
}
ul.keys .meta { color: var(--_muted); font-size: 0.9em; }
code { font-family: var(--portcullis-mono-font, ui-monospace, SFMono-Regular, Menlo, monospace); }
.field { margin: 0 0 0.9rem; display: flex; flex-direction: column; gap: 0.2rem; }
.field label, legend { font-weight: 600; }
fieldset { border: 1px solid var(--_border); border-radius: var(--_radius); margin: 0 0 0.9rem; padding: 0.5rem 0.8rem; }
.check { display: flex; gap: 0.5rem; align-items: center; margin: 0.25rem 0; min-height: 2rem; }
.check input { width: 1.1rem; height: 1.1rem; }
.card > h3:first-child { margin-top: 0; }
[data-screen="key"] > button.secondary { margin-bottom: 0.75rem; }
.card { border: 1px solid var(--_border); border-radius: var(--_radius); padding: 0.8rem; margin: 0.75rem 0; background: var(--_surface); }
.secret { border: 2px solid var(--_danger); background: var(--_warning); color: var(--_warning-text); }
.secret h2 { color: var(--_warning-text); }
.secret-key {
  display: block; padding: 0.6rem; border-radius: var(--_radius); border: 1px solid var(--_border);
  background: var(--_bg); color: var(--_fg); overflow-wrap: anywhere; user-select: all; font-size: 0.95em;
}
.warning { font-weight: 700; }
dl { display: grid; grid-template-columns: minmax(6rem, max-content) 1fr; gap: 0.3rem 1rem; margin: 0; }
dt { color: var(--_muted); }
dd { margin: 0; overflow-wrap: anywhere; }
.alert { border-left: 4px solid var(--_danger); padding: 0.5rem 0.75rem; background: var(--_surface); margin: 0.75rem 0; }
.alert code { color: var(--_muted); font-size: 0.85em; }
.status { font-weight: 600; }
ul.totals { list-style: none; display: flex; flex-wrap: wrap; gap: 0.5rem 1.25rem; padding: 0; margin: 0.5rem 0; }
.chart { width: 100%; overflow: hidden; margin-top: 0.5rem; border: 0 solid var(--_border); }
dialog {
  color: var(--_fg); background: var(--_bg); border: 1px solid var(--_border); border-radius: var(--_radius);
  max-width: min(32rem, calc(100vw - 2rem)); padding: 1rem;
}
dialog::backdrop { background: rgb(0 0 0 / 0.5); }
.visually-hidden {
  position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); white-space: nowrap;
}
@container (max-width: 30rem) {
  .shell { padding: 0.6rem; }
  dl { grid-template-columns: 1fr; }
  dt { margin-top: 0.4rem; }
  .actions button, .bar > button { flex: 1 1 auto; }
}
`;
