/**
 * The whole "framework": create elements with attributes and children.
 * Text always goes in as text nodes (never innerHTML), which also keeps the
 * page within a CSP that allows no inline script or style.
 */

type Child = Node | string | null | false | undefined;
type Attrs = Record<string, string | boolean | number | undefined | null>;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    el.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child);
  }
  return el;
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`#${id} missing`);
  return el as T;
}

/** Replaces the view and moves focus to its heading, so screen readers announce the new step. */
export function show(root: HTMLElement, ...children: Child[]): void {
  root.replaceChildren();
  for (const child of children) if (child) root.append(child);
  // The view's first heading: the voter's views have one h1 each; the official's page has h2s.
  const heading = root.querySelector<HTMLElement>('h1, h2');
  if (heading !== null) {
    heading.tabIndex = -1;
    heading.focus();
  }
}

/** Speaks `text` through the page's `#live` region (both pages have one). */
export function announce(text: string): void {
  const live = byId('live');
  // Re-setting identical text is not announced again; clear first.
  live.textContent = '';
  window.setTimeout(() => {
    live.textContent = text;
  }, 50);
}
