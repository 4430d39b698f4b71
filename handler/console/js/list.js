// A list screen's body: an optional filter form over a list endpoint, the
// rows in a table, and a "more" button that follows the endpoint's cursor.

import { get } from './api.js';
import { h, errorBox, showError, clearErrors, table } from './dom.js';

// pagedTable wires it up. fetch(cursor) returns [rows, nextCursor] for the
// filter's current values; onRows sees each page as it arrives; rowClass(row)
// may name a class for a row. Call load() once before showing `nodes`.
export function pagedTable({ filter, columns, empty, fetch, onRows, moreId, rowClass }) {
  const box = errorBox();
  const holder = h('div');
  const more = h('button', { type: 'button', class: 'more', id: moreId, text: '加载更多', hidden: true });
  let cursor = '';
  let t;
  async function load(next) {
    clearErrors(filter, box);
    if (!next) {
      cursor = '';
      t = table(columns, empty, rowClass);
      holder.replaceChildren(t.el);
    }
    try {
      const [rows, nextCursor] = await fetch(cursor);
      t.add(rows);
      if (onRows) onRows(rows);
      cursor = nextCursor || '';
      more.hidden = !cursor;
    } catch (e) {
      showError(filter, box, e);
    }
  }
  if (filter) filter.addEventListener('submit', (e) => { e.preventDefault(); load(); });
  more.addEventListener('click', () => load(true));
  return { load, nodes: [box, filter, holder, more] };
}

// fetchAll follows a list endpoint's next_after to the end and returns the
// items under key (for pickers: stores, channel codes).
export async function fetchAll(path, key) {
  const all = [];
  for (let after = ''; ;) {
    const res = await get(path, { after, limit: 500 });
    all.push(...(res[key] || []));
    if (!res.next_after) return all;
    after = res.next_after;
  }
}

// channelCodeNames is every channel code's name by id (as a string), for a
// filter that picks a code from a list; empty when they cannot be read.
export async function channelCodeNames() {
  try {
    return new Map((await fetchAll('/channel-codes', 'channel_codes')).map((c) => [String(c.id), c.name]));
  } catch {
    return new Map();
  }
}
