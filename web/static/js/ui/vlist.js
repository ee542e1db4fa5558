// A virtualised list: only the rows in (and near) the viewport exist in the DOM, so a list of 100,000
// tracks scrolls like a list of 20. Rows have one fixed height; data arrives page by page from a source.

import { h } from "./dom.js";

const OVERSCAN = 8;

/** A source over a plain array. */
export function arraySource(items) {
  return {
    total: items.length,
    items,
    get: (i) => items[i],
    ensure: () => Promise.resolve(),
  };
}

/**
 * A source over a paging endpoint: `fetchPage(offset, limit)` resolves to {items, total}.
 * Pages load when rows come into view; the total comes from the first page.
 */
export function pagedSource(fetchPage, { pageSize = 50, first = null } = {}) {
  const items = [];
  const loading = new Map();
  const src = {
    total: first ? first.total : 0,
    items,
    get: (i) => items[i],
    async ensure(from, to) {
      const jobs = [];
      for (let p = Math.floor(Math.max(0, from) / pageSize); p * pageSize < Math.min(to, src.total || to); p++) {
        const offset = p * pageSize;
        // Every row, not just the page's ends: a live playlist change can leave holes inside a loaded page.
        let loaded = true;
        for (let i = offset; i < Math.min(offset + pageSize, src.total); i++) if (items[i] === undefined) { loaded = false; break; }
        if (loaded) continue;
        if (!loading.has(p)) {
          loading.set(p, fetchPage(offset, pageSize).then((page) => {
            src.total = page.total;
            page.items.forEach((it, j) => { if (items[offset + j] === undefined) items[offset + j] = it; });
          }).finally(() => loading.delete(p)));
        }
        jobs.push(loading.get(p));
      }
      await Promise.all(jobs);
    },
    /** Tracks `from`..`from+count` (loading the pages they are on). */
    async slice(from, count) {
      const to = Math.min(src.total, from + count);
      await src.ensure(from, to);
      return items.slice(from, to);
    },
  };
  if (first) first.items.forEach((it, j) => { items[j] = it; });
  return src;
}

export class VirtualList {
  /**
   * `renderRow(item, index)` makes a row element (item is undefined while its page loads);
   * `scroller` is the element that scrolls (the main area).
   */
  constructor({ source, renderRow, scroller, rowHeight = 56, label = "List", className = "", keys = true }) {
    this.source = source;
    this.renderRow = renderRow;
    this.scroller = scroller;
    this.rowHeight = rowHeight;
    this.rows = new Map();
    this.focusIndex = 0;
    this.el = h(`div.vlist${className ? "." + className : ""}`, { role: "list", "aria-label": label });
    if (keys) this.el.addEventListener("keydown", (e) => this.onKey(e));
    this.el.addEventListener("focusin", (e) => {
      const row = e.target.closest("[data-index]");
      if (row) this.focusIndex = Number(row.dataset.index);
    });
    this.frame = null;
    this.onScroll = () => {
      if (this.frame === null) this.frame = requestAnimationFrame(() => { this.frame = null; this.update(); });
    };
    scroller.addEventListener("scroll", this.onScroll, { passive: true });
    // Also draws the first rows once the list is in the page, and again when it or the window resizes.
    this.resizes = new ResizeObserver(this.onScroll);
    this.resizes.observe(this.el);
    this.resizes.observe(scroller);
    // And when it comes into view without a scroll (content above it shrank or loaded).
    this.entering = new IntersectionObserver(this.onScroll, { root: scroller });
    this.entering.observe(this.el);
    this.setTotal(source.total);
    queueMicrotask(() => this.update());
  }

  destroy() {
    this.scroller.removeEventListener("scroll", this.onScroll);
    this.resizes.disconnect();
    this.entering.disconnect();
    if (this.frame !== null) cancelAnimationFrame(this.frame);
  }

  setTotal(n) {
    this.total = n;
    this.el.style.height = `${n * this.rowHeight}px`;
  }

  /** Which rows the viewport shows, with some overscan. */
  range() {
    const listTop = this.el.getBoundingClientRect().top - this.scroller.getBoundingClientRect().top;
    const viewTop = -listTop;
    const viewBottom = viewTop + this.scroller.clientHeight;
    const first = Math.max(0, Math.floor(viewTop / this.rowHeight) - OVERSCAN);
    const last = Math.min(this.total, Math.ceil(viewBottom / this.rowHeight) + OVERSCAN);
    return [first, Math.max(first, last)];
  }

  update() {
    if (!this.el.isConnected) return;
    const [first, last] = this.range();
    for (const [i, row] of this.rows) {
      if (i < first || i >= last) {
        if (row.contains(document.activeElement)) continue;  // never drop the focused row
        row.remove();
        this.rows.delete(i);
      }
    }
    let missing = false;
    for (let i = first; i < last; i++) {
      const item = this.source.get(i);
      if (item === undefined) missing = true;
      const old = this.rows.get(i);
      if (old && (old.dataset.loaded === "1" || item === undefined)) continue;
      this.placeRow(i, item, old);
    }
    if (missing) {
      this.source.ensure(first, last).then(() => {
        if (this.source.total !== this.total) this.setTotal(this.source.total);
        this.update();
      }, (e) => console.warn("list page failed", e));
    }
  }

  placeRow(i, item, old) {
    const row = this.renderRow(item, i);
    row.dataset.index = String(i);
    row.dataset.loaded = item === undefined ? "0" : "1";
    row.setAttribute("role", "listitem");
    row.setAttribute("aria-posinset", String(i + 1));
    row.setAttribute("aria-setsize", String(this.total));
    row.tabIndex = i === this.focusIndex ? 0 : -1;
    row.style.transform = `translateY(${i * this.rowHeight}px)`;
    const hadFocus = old && old.contains(document.activeElement);
    if (old) old.replaceWith(row);
    else this.el.append(row);
    this.rows.set(i, row);
    if (hadFocus) row.focus({ preventScroll: true });
  }

  /** Redraw every row shown (after saves, the current track changing, ...). */
  refresh() {
    for (const [i, old] of this.rows) this.placeRow(i, this.source.get(i), old);
  }

  /** Replace the data (a playlist reordered): same rows, new contents. */
  reset(source) {
    this.source = source;
    for (const row of this.rows.values()) row.remove();
    this.rows.clear();
    this.setTotal(source.total);
    this.update();
  }

  scrollToIndex(i) {
    const listTop = this.el.getBoundingClientRect().top - this.scroller.getBoundingClientRect().top;
    const top = listTop + i * this.rowHeight;
    if (top < 0) this.scroller.scrollTop += top - 8;
    else if (top + this.rowHeight > this.scroller.clientHeight) {
      this.scroller.scrollTop += top + this.rowHeight - this.scroller.clientHeight + 8;
    }
  }

  focusRow(i) {
    i = Math.max(0, Math.min(this.total - 1, i));
    this.focusIndex = i;
    this.scrollToIndex(i);
    this.update();
    for (const [j, row] of this.rows) row.tabIndex = j === i ? 0 : -1;
    this.rows.get(i)?.focus({ preventScroll: true });
  }

  onKey(e) {
    const row = e.target.closest("[data-index]");
    if (!row || e.target !== row) return;
    const i = Number(row.dataset.index);
    const page = Math.max(1, Math.floor(this.scroller.clientHeight / this.rowHeight) - 1);
    const moves = { ArrowDown: i + 1, ArrowUp: i - 1, PageDown: i + page, PageUp: i - page, Home: 0, End: this.total - 1 };
    if (e.key in moves && !e.altKey && !e.shiftKey) {
      e.preventDefault();
      this.focusRow(moves[e.key]);
    }
  }
}
