// 评分 scoring: the points and thresholds every lead's score is computed
// with (GET/PUT /api/v1/scoring). Saving re-scores every lead in the
// background.

import { get, api } from './api.js';
import { h, field, val, number, errorBox, showError, clearErrors, table, toast } from './dom.js';
import { BANT } from './leads.js';

const BEHAVIOUR = [
  ['added_via_code', '通过活码添加'], ['joined_group', '加入客户群'], ['tag_default', '每个标签（默认）'],
  ['recency_max', '最近活动最高分'], ['recency_half_life_days', '最近活动分半衰期（天）'],
];
const THRESHOLDS = [['mql_threshold', 'MQL 阈值'], ['sql_threshold', 'SQL 阈值']];
const SQL_ON_BANT = '4 项 BANT 中有 3 项为“是”时直接成为 SQL';

export async function page(ctx) {
  const res = await get('/scoring');
  const cfg = res.config || {};
  const head = h('div', { class: 'page-head' }, h('h1', { text: '评分' }), h('span', { class: 'muted', id: 'scoring-version', text: `第 ${res.version} 版` }));
  const body = ctx.can('editScoring') ? scoringForm(cfg, head) : readOnly(cfg);
  return h('section', { class: 'page', id: 'scoring' }, head,
    h('p', { class: 'muted', text: '线索分数 = BANT 分 + 行为分 + 标签分 + 规则分 + 最近活动分；分数越过阈值时线索自动升级。' }), body);
}

// readOnly shows the config as a table (for roles that may not change it).
function readOnly(cfg) {
  const t = table([{ label: '项目', render: (x) => x[0] }, { label: '分值', cls: 'num', render: (x) => x[1] }]);
  t.add([
    ...BANT.map(([k, l]) => [`BANT ${l}为“是”`, String((cfg.bant || {})[k] ?? 0)]),
    ...BEHAVIOUR.map(([k, l]) => [l, String(cfg[k] ?? 0)]),
    ...Object.entries(cfg.tags || {}).map(([tag, p]) => [`标签 ${tag}`, String(p)]),
    ...THRESHOLDS.map(([k, l]) => [l, String(cfg[k] ?? 0)]),
    [SQL_ON_BANT, cfg.sql_on_bant ? '是' : '否'],
  ]);
  return t.el;
}

function tagRow(tag, points) {
  const row = h('div', { class: 'tag-points' },
    h('input', { type: 'text', value: tag, placeholder: '标签名', 'aria-label': '标签名', data: { role: 'tag' } }),
    h('input', { type: 'number', value: points, placeholder: '分值', 'aria-label': '分值', data: { role: 'points' } }),
    h('button', { type: 'button', class: 'small link', text: '移除', on: { click: () => row.remove() } }));
  return row;
}

function scoringForm(cfg, head) {
  const box = errorBox();
  const done = h('div', { class: 'notice card', id: 'rescoring', role: 'status', hidden: true });
  const tags = h('div', { class: 'tag-list' }, Object.entries(cfg.tags || {}).map(([t, p]) => tagRow(t, p)));
  const num = (name, label, value, hint, attrs) => field({ label, name, type: 'number', value: value ?? '', hint, attrs });
  const form = h('form', { class: 'card form', id: 'scoring-form' },
    box,
    h('h2', { text: 'BANT（回答为“是”时加分）' }),
    h('div', { class: 'grid2' }, BANT.map(([k, l]) => num('bant.' + k, l, (cfg.bant || {})[k]))),
    h('h2', { text: '行为' }),
    h('div', { class: 'grid2' },
      num('added_via_code', '通过活码添加', cfg.added_via_code, '首次添加时计一次'),
      num('joined_group', '加入客户群', cfg.joined_group, '首次入群时计一次'),
      num('tag_default', '每个标签（默认）', cfg.tag_default, '下方没有单独分值的标签'),
      num('recency_max', '最近活动最高分', cfg.recency_max, '当天有活动时得满分'),
      num('recency_half_life_days', '最近活动分半衰期（天）', cfg.recency_half_life_days, '每过这么多天减半', { step: 'any' })),
    h('h2', { text: '标签分值' }),
    h('div', { data: { field: 'tags' } }, tags),
    h('button', { type: 'button', class: 'small', id: 'add-tag-points', text: '+ 标签', on: { click: () => tags.append(tagRow('', '')) } }),
    h('h2', { text: '阶段阈值' }),
    h('div', { class: 'grid2' },
      num('mql_threshold', 'MQL 阈值', cfg.mql_threshold, '分数达到即成为 MQL'),
      num('sql_threshold', 'SQL 阈值', cfg.sql_threshold, '须高于 MQL 阈值；达到即成为 SQL 并移交 CRM')),
    field({ label: SQL_ON_BANT, name: 'sql_on_bant', type: 'checkbox', value: !!cfg.sql_on_bant }),
    h('div', { class: 'actions sticky' }, h('button', { type: 'submit', class: 'primary', id: 'save-scoring', text: '保存并重新评分' })));

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form, box);
    done.hidden = true;
    const spec = { bant: {}, tags: {}, sql_on_bant: val(form, 'sql_on_bant') };
    for (const [k] of BANT) spec.bant[k] = number(val(form, 'bant.' + k));
    for (const [k] of [...BEHAVIOUR, ...THRESHOLDS]) spec[k] = number(val(form, k));
    for (const row of tags.querySelectorAll('.tag-points')) {
      const tag = row.querySelector('[data-role="tag"]').value.trim();
      const points = row.querySelector('[data-role="points"]');
      if (!tag && !points.value) continue;
      points.dataset.field = 'tags.' + tag; // the API names a bad line tags.<tag>
      spec.tags[tag] = number(points.value.trim());
    }
    const btn = form.querySelector('button[type=submit]');
    btn.disabled = true;
    try {
      const res = await api('PUT', '/scoring', { body: spec });
      head.querySelector('#scoring-version').textContent = `第 ${res.version} 版`;
      done.textContent = `已保存为第 ${res.version} 版。所有线索正在后台按新配置重新评分，稍后在线索列表中可看到新分数和阶段。`;
      done.hidden = false;
      done.scrollIntoView({ block: 'nearest' });
      toast('已保存，正在后台重新评分');
    } catch (e) {
      showError(form, box, e);
    } finally {
      btn.disabled = false;
    }
  });
  return [done, form];
}
