// @ts-check
/** Small DOM helpers shared by the panels. */

/**
 * A button that runs `onClick`.
 * @param {string} text
 * @param {() => void} onClick
 */
export const button = (text, onClick) => {
  const element = document.createElement("button")
  element.type = "button"
  element.textContent = text
  element.addEventListener("click", onClick)
  return element
}

/**
 * An element with a text content and optional attributes (`data-*` included).
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {string} text
 * @param {Record<string, string>} [attributes]
 * @returns {HTMLElementTagNameMap[K]}
 */
export const element = (tag, text, attributes = {}) => {
  const node = document.createElement(tag)
  node.textContent = text
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value)
  return node
}

/**
 * The element with `data-testid` = `id` under `root`; throws if the page lacks it.
 * @template {HTMLElement} E
 * @param {string} id
 * @param {ParentNode} [root]
 * @returns {E}
 */
export const byTestId = (id, root = document) => {
  const node = root.querySelector(`[data-testid="${id}"]`)
  if (node === null) throw new Error(`the page has no [data-testid="${id}"]`)
  return /** @type {E} */ (node)
}
