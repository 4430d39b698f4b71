// Charts of a code's daily statistics, drawn with uPlot (vendor/uplot,
// MIT licence, loaded by index.html as the global uPlot): adds, losses and
// net per day and per staff member for a channel code; joins and leaves per
// day and per group for a group code; scans, adds and joins per day and per
// store for a store code.

import { get } from './api.js';
import { h, badge } from './dom.js';

const PALETTE = ['#078a4f', '#d4380d', '#1f6feb', '#ad6800', '#722ed1', '#08979c', '#c41d7f', '#5b8c00', '#8c8c8c', '#0050b3'];

// codeCharts is the charts section of a code's page; kind is the API
// collection ('channel-codes', 'group-codes', 'store-codes').
export function codeCharts(kind, id, names) {
  const box = h('section', { class: 'card charts', id: 'code-charts' }, h('h2', { text: '近 30 天' }));
  get(`/${kind}/${id}/stats`).then((st) => {
    const charts = DRAW[kind](st, names || {});
    box.append(...charts.map(([title, labels, series]) => chart(title, labels, series)));
    box.dataset.ready = 'true';
  }, (e) => box.append(badge('统计加载失败：' + e.message, 'warn')));
  return box;
}

const DRAW = {
  'channel-codes': (st) => {
    const days = st.days || [];
    const staff = Object.keys(st.staff || {}).sort();
    return [
      ['每日添加、流失与净增', days.map((d) => d.day), [
        ['添加', days.map((d) => d.adds)], ['流失', days.map((d) => d.losses)], ['净增', days.map((d) => d.net)]]],
      ['每位成员每日添加', days.map((d) => d.day), staff.map((u) => [u, days.map((d) => ((d.staff || {})[u] || {}).adds || 0)])],
      ['每位成员每日净增', days.map((d) => d.day), staff.map((u) => [u, days.map((d) => ((d.staff || {})[u] || {}).net || 0)])],
    ];
  },
  'group-codes': (st) => {
    const days = st.days || [];
    const chats = Object.keys(st.chats || {}).sort();
    const name = (c) => (st.names || {})[c] || c;
    return [
      ['每日入群与退群', days.map((d) => d.day), [['入群', days.map((d) => d.joins)], ['退群', days.map((d) => d.leaves)]]],
      ['每个群每日入群', days.map((d) => d.day), chats.map((c) => [name(c), days.map((d) => ((d.chats || {})[c] || {}).joins || 0)])],
      ['每个群每日退群', days.map((d) => d.day), chats.map((c) => [name(c), days.map((d) => ((d.chats || {})[c] || {}).leaves || 0)])],
    ];
  },
  'store-codes': (st, names) => {
    const days = st.days || [];
    const stores = Object.keys(st.stores || {}).sort((a, b) => a - b);
    const sum = (d, k) => Object.values(d.stores || {}).reduce((n, s) => n + (s[k] || 0), 0);
    const name = (s) => names[s] || '门店 #' + s;
    return [
      ['每日扫码、添加与入群', days.map((d) => d.day), [
        ['扫码', days.map((d) => sum(d, 'scans'))], ['添加', days.map((d) => sum(d, 'adds'))], ['入群', days.map((d) => sum(d, 'joins'))]]],
      ['每家门店每日扫码', days.map((d) => d.day), stores.map((s) => [name(s), days.map((d) => ((d.stores || {})[s] || {}).scans || 0)])],
      ['每家门店每日添加', days.map((d) => d.day), stores.map((s) => [name(s), days.map((d) => ((d.stores || {})[s] || {}).adds || 0)])],
    ];
  },
};

// chart draws one line chart: labels are the days (YYYY-MM-DD), series
// [name, values] pairs. Its figure says how many series and the sum of
// their values (data-series, data-total), so a test can tell what it drew.
function chart(title, labels, series) {
  const fig = h('figure', { class: 'chart', data: { series: series.length, total: series.reduce((n, [, v]) => n + v.reduce((a, b) => a + b, 0), 0) } },
    h('figcaption', { text: title }));
  if (!series.length || !labels.length) {
    fig.append(h('p', { class: 'muted', text: '还没有数据' }));
    return fig;
  }
  const xs = labels.map((_, i) => i);
  const draw = () => {
    const width = Math.max(280, Math.min(fig.clientWidth || 600, 960));
    // eslint-disable-next-line no-undef
    const plot = new uPlot({
      width, height: 220,
      scales: { x: { time: false } },
      axes: [
        { incrs: [1, 2, 5, 7, 14, 28], values: (u, splits) => splits.map((v) => (Number.isInteger(v) && labels[v] ? labels[v].slice(5) : '')) },
        { incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000] },
      ],
      series: [
        { label: '日期', value: (u, v) => (v == null ? '—' : labels[v] || '') },
        ...series.map(([name], k) => ({ label: name, stroke: PALETTE[k % PALETTE.length], width: 2, points: { size: 5 } })),
      ],
    }, [xs, ...series.map(([, v]) => v)], fig);
    fig.dataset.drawn = 'true';
    return plot;
  };
  // Drawn once the figure is in the page and has a width.
  requestAnimationFrame(draw);
  return fig;
}
