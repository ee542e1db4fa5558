// Pop-up menus (track "…" menus, the user menu) and modal dialogs, keyboard operable.

import { h, icon } from "./dom.js";

let open = null;

export function closeMenu() {
  if (!open) return;
  const { el, anchor, cleanup } = open;
  open = null;
  cleanup();
  el.remove();
  anchor?.setAttribute("aria-expanded", "false");
  if (anchor && document.body.contains(anchor)) anchor.focus({ preventScroll: true });
}

/**
 * Show a menu of `items` ({label, icon?, action, disabled?} or "-" for a separator) next to `anchor`
 * (an element) or at `point` ({x, y}, for right clicks).
 */
export function showMenu(items, { anchor = null, point = null, label = "Menu" } = {}) {
  closeMenu();
  const el = h("div.menu", { role: "menu", "aria-label": label, tabindex: "-1" });
  const buttons = [];
  for (const item of items) {
    if (!item) continue;
    if (item === "-") {
      el.append(h("div.menu-separator", { role: "separator" }));
      continue;
    }
    const b = h("button.menu-item", {
      type: "button", role: "menuitem", tabindex: "-1", disabled: item.disabled || false,
      onclick: async (e) => {
        e.stopPropagation();
        closeMenu();
        await item.action();
      },
    }, item.icon ? icon(item.icon) : null, h("span", null, item.label));
    buttons.push(b);
    el.append(b);
  }
  document.body.append(el);
  const r = anchor ? anchor.getBoundingClientRect() : { left: point.x, right: point.x, top: point.y, bottom: point.y };
  const w = el.offsetWidth;
  const ht = el.offsetHeight;
  let left = anchor ? r.right - w : r.left;
  let top = r.bottom + 4;
  if (top + ht > innerHeight - 8) top = Math.max(8, r.top - ht - 4);
  left = Math.max(8, Math.min(left, innerWidth - w - 8));
  el.style.left = `${left}px`;
  el.style.top = `${top}px`;
  anchor?.setAttribute("aria-expanded", "true");
  const enabled = () => buttons.filter((b) => !b.disabled);
  const onKey = (e) => {
    const list = enabled();
    const i = list.indexOf(document.activeElement);
    if (e.key === "Escape") { e.preventDefault(); closeMenu(); }
    else if (e.key === "ArrowDown") { e.preventDefault(); list[(i + 1) % list.length]?.focus(); }
    else if (e.key === "ArrowUp") { e.preventDefault(); list[(i - 1 + list.length) % list.length]?.focus(); }
    else if (e.key === "Home") { e.preventDefault(); list[0]?.focus(); }
    else if (e.key === "End") { e.preventDefault(); list[list.length - 1]?.focus(); }
    else if (e.key === "Tab") { closeMenu(); }
  };
  const onDown = (e) => { if (!el.contains(e.target) && e.target !== anchor && !anchor?.contains(e.target)) closeMenu(); };
  el.addEventListener("keydown", onKey);
  setTimeout(() => document.addEventListener("pointerdown", onDown), 0);
  const onScroll = () => closeMenu();
  window.addEventListener("resize", onScroll);
  open = {
    el, anchor,
    cleanup: () => {
      document.removeEventListener("pointerdown", onDown);
      window.removeEventListener("resize", onScroll);
    },
  };
  enabled()[0]?.focus();
  return el;
}

/**
 * A modal dialog built on <dialog>: `body` is an element (or a function of the close callback returning one);
 * resolves with what `close(value)` was called with (undefined when dismissed).
 */
export function dialog(title, body, { className = "" } = {}) {
  return new Promise((resolve) => {
    const titleId = `dlg-${Math.random().toString(36).slice(2)}`;
    const dlg = h(`dialog.dialog${className ? "." + className : ""}`, { "aria-labelledby": titleId });
    let result;
    const close = (value) => {
      result = value;
      dlg.close();
    };
    const content = typeof body === "function" ? body(close) : body;
    dlg.append(
      h("div.dialog-head", null,
        h("h2", { id: titleId }, title),
        h("button.icon-button", { type: "button", "aria-label": "Close", onclick: () => close(undefined) }, icon("close"))),
      content,
    );
    dlg.addEventListener("close", () => {
      dlg.remove();
      resolve(result);
    });
    dlg.addEventListener("click", (e) => { if (e.target === dlg) close(undefined); });
    document.body.append(dlg);
    dlg.showModal();
    const first = dlg.querySelector("[autofocus], input, select, textarea, button.primary");
    first?.focus();
  });
}

/** Ask for one line of text (a playlist name): resolves to the trimmed text or null. */
export function promptText(title, { label, value = "", submit = "Save", placeholder = "" } = {}) {
  return dialog(title, (close) => {
    const inputId = `in-${Math.random().toString(36).slice(2)}`;
    const input = h("input", { id: inputId, value, placeholder, required: true, autocomplete: "off", autofocus: true });
    return h("form.form", {
      onsubmit: (e) => {
        e.preventDefault();
        const text = input.value.trim();
        if (text) close(text);
      },
    },
    h("div.field", null, h("label", { for: inputId }, label || title), input),
    h("div.dialog-actions", null,
      h("button.button", { type: "button", onclick: () => close(null) }, "Cancel"),
      h("button.button.primary", { type: "submit" }, submit)));
  }).then((v) => v ?? null);
}

/** A yes/no question: resolves to true when confirmed. */
export function confirmAction(title, message, { confirm = "Delete", danger = true } = {}) {
  return dialog(title, (close) => h("div", null,
    h("p", null, message),
    h("div.dialog-actions", null,
      h("button.button", { type: "button", onclick: () => close(false) }, "Cancel"),
      h(`button.button${danger ? ".danger" : ".primary"}`, { type: "button", autofocus: true, onclick: () => close(true) }, confirm)),
  )).then(Boolean);
}
