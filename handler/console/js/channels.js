// 渠道活码: list, create, edit, delete, poster download.

import { get, post, patch, del, download, objectURL, upload } from './api.js';
import { h, field, val, list, errorBox, showError, clearErrors, badge, toast, msg } from './dom.js';
import { pagedTable } from './list.js';
import { codeCharts } from './charts.js';
import { staffPicker, staffList, staffField } from './staff.js';

const MODES = { random: '随机（企业微信分配）', precise: '精准（落地页分配）' };
const STRATEGIES = [['round_robin', '轮流 round_robin'], ['least_loaded', '最少接待 least_loaded'], ['weighted', '按权重 weighted']];
export const WEEKDAYS = ['日', '一', '二', '三', '四', '五', '六'];

// today is the date (YYYY-MM-DD) now in a time zone.
function today(tz) {
  try {
    return new Intl.DateTimeFormat('en-CA', { timeZone: tz || 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date());
  } catch {
    return new Date().toISOString().slice(0, 10);
  }
}

// KINDS names each kind of code by its API collection.
export const KINDS = { 'channel-codes': '渠道活码', 'group-codes': '群活码', 'store-codes': '门店活码' };

// posterButtons offer a code's A5 poster (GET .../poster.png): download it,
// or open the print view. kind is the API collection ('channel-codes').
export function posterButtons(kind, code) {
  const btn = h('button', { type: 'button', class: 'small', text: '下载海报', data: { role: 'download-poster' } });
  btn.addEventListener('click', async () => {
    btn.disabled = true;
    try {
      await download(`/${kind}/${code.id}/poster.png`, `${KINDS[kind]}-${code.name}-${code.id}-海报.png`);
      toast('海报已下载');
    } catch (e) {
      toast('下载失败：' + e.message);
    } finally {
      btn.disabled = false;
    }
  });
  return h('span', { class: 'poster-buttons' }, btn,
    h('a', { href: `#/print/${kind}/${code.id}`, class: 'button small', text: '打印海报', data: { role: 'print-poster' } }));
}

// qrPreview shows a code's QR (GET .../qr.png) as customers will scan it.
export function qrPreview(kind, id) {
  const img = h('img', { class: 'qr-preview', id: 'qr-preview', alt: '二维码预览', width: 160, height: 160 });
  const fig = h('figure', { class: 'qr-figure' }, img, h('figcaption', { class: 'muted', text: '二维码预览' }));
  objectURL(`/${kind}/${id}/qr.png`).then((src) => { img.src = src; },
    (e) => fig.replaceChildren(badge('二维码获取失败：' + e.message, 'warn')));
  return fig;
}

// timeZoneOptions lists the IANA time zones the browser knows, China's
// first, keeping current even if the browser does not know it.
export function timeZoneOptions(current, blank) {
  let zones = [];
  try {
    zones = Intl.supportedValuesOf('timeZone');
  } catch { /* an older browser: the common ones below */ }
  const first = ['Asia/Shanghai', 'Asia/Hong_Kong', 'Asia/Taipei', 'Asia/Singapore', 'Asia/Tokyo', 'Europe/London', 'America/New_York'];
  const all = [...new Set([...(current ? [current] : []), ...first, ...zones])];
  const opts = all.map((z) => [z, z === 'Asia/Shanghai' ? 'Asia/Shanghai（北京时间）' : z]);
  return blank ? [['', blank], ...opts] : opts;
}

const UTM_KEYS = ['utm_source', 'utm_medium', 'utm_campaign', 'utm_term', 'utm_content'];

// utmFields edits a code's utm object, one control per key (utm.<key>), so
// an error on utm.utm_source points at its control and one on utm at all.
export function utmFields(utm, disabled) {
  return h('fieldset', { class: 'utm', data: { field: 'utm' } },
    h('legend', { text: '投放参数 UTM（写入该码带来线索的 source.utm）' }),
    h('div', { class: 'grid2' }, UTM_KEYS.map((k) =>
      field({ label: k, name: 'utm.' + k, value: (utm || {})[k] || '', disabled, attrs: { maxlength: 128, spellcheck: 'false' } }))));
}

// readUTM reads utmFields; empty values are left out ({} clears the utm).
export function readUTM(form) {
  const utm = {};
  for (const k of UTM_KEYS) if (val(form, 'utm.' + k)) utm[k] = val(form, 'utm.' + k);
  return utm;
}

export async function listPage(ctx) {
  const filter = h('form', { class: 'filters', id: 'channel-filters' },
    field({ label: '分组', name: 'folder', value: ctx.query.get('folder') || '' }),
    field({ label: '搜索', name: 'q', placeholder: '名称' }),
    h('div', { class: 'actions' }, h('button', { type: 'submit', text: '筛选' })));
  const list = pagedTable({
    filter, empty: '还没有渠道活码',
    columns: [
      { label: '名称', render: (c) => h('a', { href: '#/channels/' + c.id, class: 'name', text: c.name }) },
      { label: '分组', render: (c) => c.folder || '—' },
      { label: '模式', render: (c) => MODES[c.mode] || c.mode },
      { label: '今日添加', cls: 'num', render: (c) => c._today },
      { label: '告警', render: (c) => (c.alert ? badge(msg(c.alert_message, c.alert), 'warn') : '—') },
      { label: '', cls: 'row-actions', render: (c) => posterButtons('channel-codes', c) },
    ],
    fetch: async (after) => {
      const res = await get('/channel-codes', { folder: val(filter, 'folder'), q: val(filter, 'q'), after, limit: 50 });
      return [(res.channel_codes || []).map((c) => ({ ...c, _today: h('span', { class: 'today', text: '…' }) })), res.next_after];
    },
    onRows: fillToday,
  });
  await list.load();
  return h('section', { class: 'page', id: 'channels' },
    h('div', { class: 'page-head' }, h('h1', { text: '渠道活码' }),
      ctx.can('createCode') ? h('a', { href: '#/channels/new', class: 'button primary', id: 'new-channel', text: '新建渠道活码' }) : null),
    list.nodes);
}

// fillToday fetches today's adds of each code, a few at a time (the list
// does not carry them).
async function fillToday(codes) {
  const queue = codes.slice();
  const worker = async () => {
    for (let c = queue.shift(); c; c = queue.shift()) {
      const d = today(c.roster && c.roster.time_zone);
      try {
        const st = await get(`/channel-codes/${c.id}/stats`, { from: d, to: d });
        c._today.textContent = String((st.total && st.total.adds) || 0);
      } catch {
        c._today.textContent = '?';
      }
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
}

// ---- the form ----

// weekdayBoxes is a weekday checkbox per day (value 0 = Sunday).
function weekdayBoxes(weekdays, disabled, label) {
  const days = new Set(weekdays || []);
  return h('div', { class: 'weekdays', role: 'group', 'aria-label': label }, WEEKDAYS.map((d, i) =>
    h('label', { class: 'day' }, h('input', { type: 'checkbox', value: i, checked: days.has(i), disabled, data: { role: 'day' } }), d)));
}

function shiftRow(s, disabled) {
  const row = h('div', { class: 'shift' },
    weekdayBoxes(s.weekdays, disabled, '星期'),
    h('input', { type: 'text', class: 'time', placeholder: '09:00', value: s.start || '', inputmode: 'numeric', disabled, data: { role: 'start' }, 'aria-label': '开始' }),
    h('span', { text: '–' }),
    h('input', { type: 'text', class: 'time', placeholder: '18:00', value: s.end || '', inputmode: 'numeric', disabled, data: { role: 'end' }, 'aria-label': '结束' }),
    disabled ? null : h('button', { type: 'button', class: 'small link', text: '删除班次', on: { click: () => row.remove() } }));
  return row;
}

function memberRow(m, disabled, caps = true) {
  const shifts = h('div', { class: 'shifts' }, (m.shifts || []).map((s) => shiftRow(s, disabled)));
  const row = h('fieldset', { class: 'member' },
    h('div', { class: 'member-line' },
      h('label', null, '成员 userid', h('input', { type: 'text', value: m.userid || '', disabled, data: { role: 'userid' }, placeholder: 'zhangsan', list: staffPicker(), autocomplete: 'off' })),
      caps ? h('label', null, '每日上限', h('input', { type: 'number', min: 0, value: m.daily_cap || '', disabled, data: { role: 'cap' }, placeholder: '不限' })) : null,
      h('label', null, '权重', h('input', { type: 'number', min: 0, value: m.weight || '', disabled, data: { role: 'weight' }, placeholder: '1' })),
      h('label', { class: 'switch' }, h('input', { type: 'checkbox', checked: !m.offline, disabled, data: { role: 'online' } }), '在线'),
      disabled ? null : h('button', { type: 'button', class: 'small link', text: '移除成员', on: { click: () => row.remove() } })),
    h('div', { class: 'shift-head' }, h('span', { class: 'muted', text: '每周班次（不填：全天在岗）' }),
      disabled ? null : h('button', { type: 'button', class: 'small', text: '+ 班次', on: { click: () => shifts.append(shiftRow({ weekdays: [1, 2, 3, 4, 5], start: '09:00', end: '18:00' })) } })),
    shifts);
  return row;
}

// collectRoster reads the roster editor, naming each control by its API
// field path (under prefix: roster, or a store's staff) so errors can point
// at it.
function collectRoster(form, prefix) {
  const members = [];
  form.querySelectorAll('.member').forEach((row, i) => {
    const p = `${prefix}.members[${i}]`;
    row.dataset.field = p;
    const q = (r) => row.querySelector(`[data-role="${r}"]`);
    q('userid').dataset.field = p + '.userid';
    if (q('cap')) q('cap').dataset.field = p + '.daily_cap';
    q('weight').dataset.field = p + '.weight';
    q('online').dataset.field = p + '.offline';
    const m = { userid: q('userid').value.trim() };
    const cap = q('cap') ? parseInt(q('cap').value, 10) : 0;
    if (cap > 0) m.daily_cap = cap;
    const w = parseInt(q('weight').value, 10);
    if (w > 0) m.weight = w;
    if (!q('online').checked) m.offline = true;
    const shifts = [];
    row.querySelectorAll('.shift').forEach((s, j) => {
      const sp = `${p}.shifts[${j}]`;
      s.dataset.field = sp;
      s.querySelector('.weekdays').dataset.field = sp + '.weekdays';
      s.querySelector('[data-role="start"]').dataset.field = sp + '.start';
      s.querySelector('[data-role="end"]').dataset.field = sp + '.end';
      shifts.push({
        weekdays: [...s.querySelectorAll('[data-role="day"]:checked')].map((x) => Number(x.value)),
        start: s.querySelector('[data-role="start"]').value.trim(),
        end: s.querySelector('[data-role="end"]').value.trim(),
      });
    });
    if (shifts.length) m.shifts = shifts;
    members.push(m);
  });
  const roster = { time_zone: val(form, prefix + '.time_zone') || 'Asia/Shanghai', members, backups: list(val(form, prefix + '.backups')) };
  roster.overrides = collectOverrides(form, prefix);
  return roster;
}

// rosterEditor edits a roster (a channel code's, or a store's staff, under
// prefix): the time zone, backups, members with their cap (unless caps is
// false: stores have none), weight, online switch and weekly shifts, and the
// date overrides. collect(form) reads it in the API's shape.
export function rosterEditor(r, ro, prefix, caps = true) {
  const members = h('div', { class: 'members' }, (r.members || []).map((m) => memberRow(m, ro, caps)));
  const overrides = h('div', { class: 'overrides', id: 'overrides', data: { field: prefix + '.overrides' } }, (r.overrides || []).map((o) => overrideRow(o, ro)));
  const nodes = [
    h('div', { class: 'grid2' },
      field({ label: '时区', name: prefix + '.time_zone', type: 'select', value: r.time_zone || 'Asia/Shanghai', disabled: ro, options: timeZoneOptions(r.time_zone) }),
      staffField({ label: '备用成员', name: prefix + '.backups', value: (r.backups || []).join('，'), disabled: ro, hint: '没有成员在岗时才分配给他们；userid 逗号分隔' })),
    h('div', { data: { field: prefix + '.members' } }, members),
    ro ? null : h('button', { type: 'button', class: 'small', id: 'add-member', text: '+ 成员', on: { click: () => members.append(memberRow({ userid: '' }, false, caps)) } }),
    h('h3', { text: '按日期调整（节假日、活动日）' }),
    overrides,
    ro ? null : h('button', { type: 'button', class: 'small', id: 'add-override', text: '+ 日期调整', on: { click: () => overrides.append(overrideRow(null, false)) } }),
  ];
  return { nodes, collect: (form) => collectRoster(form, prefix) };
}

// attachmentsEditor edits the welcome's attachments: images uploaded ahead
// (POST /api/v1/media) with a preview, and links.
function attachmentsEditor(list, disabled) {
  const rows = h('div', { class: 'attachments', id: 'attachments', data: { field: 'welcome.attachments' } }, list.map((a) => attachmentRow(a, null, disabled)));
  const box = errorBox();
  const file = h('input', { type: 'file', id: 'f-attachment-file', 'aria-label': '图片文件' });
  file.accept = 'image/png,image/jpeg';
  file.addEventListener('change', async () => {
    if (!file.files.length) return;
    clearErrors(null, box);
    const f = file.files[0];
    try {
      const asset = await upload('/media', f);
      rows.append(attachmentRow({ type: 'image', media_asset_id: asset.id }, URL.createObjectURL(f), false));
      toast('图片已上传');
    } catch (e) {
      showError(null, box, e);
    }
    file.value = '';
  });
  return h('fieldset', { class: 'welcome-attachments' }, h('legend', { text: '欢迎语附件（图片、链接）' }), box, rows,
    disabled ? null : h('div', { class: 'actions' },
      h('label', { class: 'button small' }, '+ 图片', file),
      h('button', { type: 'button', class: 'small', id: 'add-link', text: '+ 链接', on: { click: () => rows.append(attachmentRow({ type: 'link' }, null, false)) } })));
}

function attachmentRow(a, localPreview, disabled) {
  const row = h('div', { class: 'attachment', data: { role: 'attachment', type: a.type, asset: a.media_asset_id || '' } });
  const remove = disabled ? null : h('button', { type: 'button', class: 'small link', text: '移除', on: { click: () => row.remove() } });
  if (a.type === 'image') {
    const img = h('img', { class: 'attachment-preview', alt: '附件图片预览', width: 96, height: 96 });
    if (localPreview) img.src = localPreview;
    else objectURL(`/media/${a.media_asset_id}/image`).then((src) => { img.src = src; }, () => {});
    row.append(img, h('span', { class: 'muted', text: `图片 #${a.media_asset_id}` }), remove || '');
  } else if (a.type === 'link') {
    row.append(
      h('input', { type: 'text', value: a.title || '', placeholder: '链接标题', disabled, data: { role: 'title' } }),
      h('input', { type: 'text', value: a.url || '', placeholder: 'https://…', disabled, data: { role: 'url' } }),
      remove || '');
  } else {
    row.dataset.keep = JSON.stringify(a); // a kind not edited here (mini program): kept as it is
    row.append(h('span', { class: 'muted', text: `${a.type} 附件（保留不变）` }), remove || '');
  }
  return row;
}

function collectAttachments(form) {
  const out = [];
  form.querySelectorAll('[data-role="attachment"]').forEach((row, i) => {
    const p = `welcome.attachments[${i}]`;
    row.dataset.field = p;
    if (row.dataset.keep) out.push(JSON.parse(row.dataset.keep));
    else if (row.dataset.type === 'image') out.push({ type: 'image', media_asset_id: Number(row.dataset.asset) });
    else {
      row.querySelector('[data-role="title"]').dataset.field = p + '.title';
      row.querySelector('[data-role="url"]').dataset.field = p + '.url';
      out.push({ type: 'link', title: row.querySelector('[data-role="title"]').value.trim(), url: row.querySelector('[data-role="url"]').value.trim() });
    }
  });
  return out;
}

// overrideRow edits one date override: the date (a calendar), the members
// it applies to (none: everyone), and a day off or that day's own shifts.
function overrideRow(o, disabled) {
  const off = !o || o.off || !(o.shifts || []).length;
  const users = h('input', { type: 'text', value: ((o && o.userids) || []).join('，'), disabled, placeholder: '留空：全部成员', data: { role: 'userids' } });
  const row = h('div', { class: 'override card', data: { role: 'override' } },
    h('div', { class: 'override-line' },
      h('label', null, '日期', h('input', { type: 'date', value: (o && o.date) || '', disabled, data: { role: 'date' } })),
      h('label', null, '适用成员', users, staffList(users)),
      h('label', null, '安排', h('select', { disabled, data: { role: 'kind' } },
        h('option', { value: 'off', text: '休息（节假日）', selected: off }),
        h('option', { value: 'shifts', text: '特别班次（活动日）', selected: !off }))),
      h('label', null, '班次', h('input', { type: 'text', value: ((o && o.shifts) || []).map((x) => `${x.start}-${x.end}`).join('，'), disabled,
        placeholder: '09:00-18:00，19:00-21:00', data: { role: 'windows' } })),
      disabled ? null : h('button', { type: 'button', class: 'small link', text: '移除', on: { click: () => row.remove() } })));
  return row;
}

// collectOverrides reads the override rows, naming each control's field
// so the API's errors point at it.
function collectOverrides(form, prefix) {
  const out = [];
  form.querySelectorAll('[data-role="override"]').forEach((row, i) => {
    const p = `${prefix}.overrides[${i}]`;
    const q = (r) => row.querySelector(`[data-role="${r}"]`);
    row.dataset.field = p;
    q('date').dataset.field = p + '.date';
    q('userids').dataset.field = p + '.userids';
    q('windows').dataset.field = p + '.shifts';
    const o = { date: q('date').value };
    const users = list(q('userids').value);
    if (users.length) o.userids = users;
    if (q('kind').value === 'off') {
      o.off = true;
    } else {
      o.shifts = list(q('windows').value).map((w) => {
        const [start, end] = w.split(/[-–~]/).map((x) => x.trim());
        return { weekdays: [], start: start || '', end: end || '' };
      });
    }
    out.push(o);
  });
  return out;
}

// variantRow edits one time-of-day/weekday welcome variant: a name, the
// weekdays (none: every day), a start–end window (none: all day; an end
// before the start crosses midnight) and its text. Its attachments are not
// edited here and are kept as they are.
function variantRow(v, disabled) {
  const row = h('fieldset', { class: 'variant card', data: { role: 'variant', keep: JSON.stringify(v.attachments || []) } },
    h('div', { class: 'variant-line' },
      h('label', null, '名称', h('input', { type: 'text', value: v.name || '', disabled, placeholder: '如：夜间', data: { role: 'name' } })),
      weekdayBoxes(v.weekdays, disabled, '星期（不选：每天）'),
      h('input', { type: 'text', class: 'time', placeholder: '22:00', value: v.start || '', inputmode: 'numeric', disabled, data: { role: 'start' }, 'aria-label': '开始' }),
      h('span', { text: '–' }),
      h('input', { type: 'text', class: 'time', placeholder: '08:00', value: v.end || '', inputmode: 'numeric', disabled, data: { role: 'end' }, 'aria-label': '结束' }),
      disabled ? null : h('button', { type: 'button', class: 'small link', text: '移除', on: { click: () => row.remove() } })),
    h('label', { class: 'wide' }, '时段欢迎语', h('textarea', { rows: 2, disabled, placeholder: '夜深了，{name}，明早顾问回复您', data: { role: 'text' } }, v.text || '')),
    (v.attachments || []).length ? h('p', { class: 'muted', text: `${v.attachments.length} 个附件（保留不变）` }) : null);
  return row;
}

// collectVariants reads the variant rows, naming each control by its API
// field path so errors point at it.
function collectVariants(form) {
  const out = [];
  form.querySelectorAll('[data-role="variant"]').forEach((row, i) => {
    const p = `welcome.variants[${i}]`;
    const q = (r) => row.querySelector(`[data-role="${r}"]`);
    row.dataset.field = p;
    q('name').dataset.field = p + '.name';
    row.querySelector('.weekdays').dataset.field = p + '.weekdays';
    q('start').dataset.field = p + '.start';
    q('end').dataset.field = p + '.end';
    q('text').dataset.field = p + '.text';
    const v = {
      name: q('name').value.trim(),
      weekdays: [...row.querySelectorAll('[data-role="day"]:checked')].map((x) => Number(x.value)),
      start: q('start').value.trim(), end: q('end').value.trim(), text: q('text').value,
    };
    const attachments = JSON.parse(row.dataset.keep || '[]');
    if (attachments.length) v.attachments = attachments;
    out.push(v);
  });
  return out;
}

export async function formPage(ctx) {
  const id = ctx.params[0];
  const code = id ? await get('/channel-codes/' + id) : null;
  const editable = code ? ctx.can('editCode') : ctx.can('createCode');
  const ro = !editable;
  const r = (code && code.roster) || { time_zone: 'Asia/Shanghai', members: [{ userid: '', shifts: [] }] };
  const w = (code && code.welcome) || { text: '' };
  const box = errorBox();
  const roster = rosterEditor(r, ro, 'roster');
  const modeField = field({ label: '分配模式', name: 'mode', type: 'select', value: code ? code.mode : 'random', disabled: ro || !!code,
    options: Object.entries(MODES), hint: code ? '创建后不能更改' : '精准模式：每位成员一个码，落地页按策略分配，上限精确' });
  const strategyField = field({ label: '精准分配策略', name: 'strategy', type: 'select', value: (code && code.strategy) || 'round_robin', disabled: ro, options: STRATEGIES });
  const syncStrategy = () => { strategyField.hidden = modeField.querySelector('select').value !== 'precise'; };
  modeField.querySelector('select').addEventListener('change', syncStrategy);

  const form = h('form', { class: 'card form', id: 'channel-form', on: { submit: onSubmit } },
    box,
    h('div', { class: 'grid2' },
      field({ label: '名称', name: 'name', value: code ? code.name : '', required: true, disabled: ro, placeholder: '如：秋季展会 3 号展位' }),
      field({ label: '分组', name: 'folder', value: code ? code.folder : '', disabled: ro, placeholder: '如：展会' }),
      field({ label: '标签', name: 'tags', value: code ? (code.tags || []).map((t) => t.name).join('，') : '', disabled: ro, hint: '逗号分隔；企业微信中没有的标签会自动创建' }),
      field({ label: '备注模板', name: 'remark_template', value: code ? code.remark_template : '', disabled: ro, placeholder: '{name}-{code}', hint: '可用 {name} 客户名、{code} 活码名、{date} 日期' }),
      modeField, strategyField,
      field({ label: '说明', name: 'description', value: code ? code.description : '', disabled: ro }),
      field({ label: '客户添加时无需验证', name: 'skip_verify', type: 'checkbox', value: code ? code.skip_verify : true, disabled: ro })),
    field({ label: '欢迎语', name: 'welcome.text', type: 'textarea', rows: 3, value: w.text, disabled: ro, wide: true, hint: '{name} 会替换为客户昵称' }),
    attachmentsEditor(w.attachments || [], ro),
    h('h3', { text: '时段欢迎语（按星期、时间段替换默认欢迎语）' }),
    h('div', { class: 'variants', id: 'variants', data: { field: 'welcome.variants' } }, (w.variants || []).map((v) => variantRow(v, ro))),
    ro ? null : h('button', { type: 'button', class: 'small', id: 'add-variant', text: '+ 时段欢迎语', on: { click: () => form.querySelector('#variants').append(variantRow({}, false)) } }),
    utmFields(code && code.utm, ro),
    h('h2', { text: '接待排班' }),
    roster.nodes,
    ro ? null : h('div', { class: 'actions sticky' },
      h('button', { type: 'submit', class: 'primary', id: 'save-channel', text: code ? '保存' : '创建' }),
      h('a', { href: '#/channels', class: 'button', text: '取消' })));
  syncStrategy();

  async function onSubmit(ev) {
    ev.preventDefault();
    clearErrors(form, box);
    const spec = {
      name: val(form, 'name'), folder: val(form, 'folder'), description: val(form, 'description'),
      tags: list(val(form, 'tags')), remark_template: val(form, 'remark_template'), skip_verify: val(form, 'skip_verify'),
      welcome: { ...w, text: val(form, 'welcome.text'), attachments: collectAttachments(form), variants: collectVariants(form) },
      roster: roster.collect(form), utm: readUTM(form),
    };
    if (!code) spec.mode = val(form, 'mode');
    if ((code ? code.mode : spec.mode) === 'precise') spec.strategy = val(form, 'strategy');
    const btn = form.querySelector('button[type=submit]');
    btn.disabled = true;
    try {
      const saved = code ? await patch('/channel-codes/' + code.id, spec) : await post('/channel-codes', spec);
      toast(code ? '已保存' : `已创建：${saved.name}`);
      ctx.go('#/channels');
    } catch (e) {
      showError(form, box, e);
    } finally {
      btn.disabled = false;
    }
  }

  const head = h('div', { class: 'page-head' }, h('h1', { text: code ? code.name : '新建渠道活码' }),
    code ? posterButtons('channel-codes', code) : null);
  const info = code ? h('div', { class: 'code-facts' }, qrPreview('channel-codes', code.id), h('dl', { class: 'facts' },
    h('dt', { text: '当前接待' }), h('dd', { text: (code.wecom_users || []).join('，') || '—' }),
    h('dt', { text: '落地页' }), h('dd', { text: code.landing_url || '—' }),
    code.alert ? [h('dt', { text: '告警' }), h('dd', null, badge(msg(code.alert_message, code.alert), 'warn'))] : null)) : null;
  return h('section', { class: 'page', id: 'channel-edit' }, head, info, code ? codeCharts('channel-codes', code.id) : null, form, code && ctx.can('deleteCode') ? deleteBar(ctx, {
    path: '/channel-codes/' + code.id, back: '#/channels', label: '删除活码', askId: 'delete-channel',
    what: `确定删除“${code.name}”？企业微信中的联系我方式会被删除，客户与统计保留。` }) : null);
}

// deleteBar asks before deleting: path is the resource, what the warning,
// back the screen to return to; ids name the two buttons.
export function deleteBar(ctx, { path, what, back, label, askId, confirmId }) {
  const box = errorBox();
  const confirmRow = h('div', { class: 'confirm', hidden: true },
    h('span', { text: what }),
    h('button', { type: 'button', class: 'danger', id: confirmId || 'confirm-delete', text: '确认删除', on: { click: doDelete } }),
    h('button', { type: 'button', text: '取消', on: { click: () => { confirmRow.hidden = true; ask.hidden = false; } } }));
  const ask = h('button', { type: 'button', class: 'danger', id: askId, text: label, on: { click: () => { confirmRow.hidden = false; ask.hidden = true; } } });
  async function doDelete() {
    try {
      await del(path);
      toast('已删除');
      ctx.go(back);
    } catch (e) {
      showError(null, box, e);
    }
  }
  return h('div', { class: 'card danger-zone' }, box, ask, confirmRow);
}
