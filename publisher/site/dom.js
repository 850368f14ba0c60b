// The one DOM helper both pages of the results site use (the results view and /observe/).

/** `<tag props…>children…</tag>`; `class` sets the class name, every other prop an attribute. */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'class') node.className = v;
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c);
  return node;
}
