// chart.js — a line chart drawn as inline SVG: no chart library, no
// network. Used for a consumer group's total lag sampled while its page
// is open.

import { fmt } from './ui.js';

const NS = 'http://www.w3.org/2000/svg';

function s(tag, attrs, text) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

/** niceMax rounds v up to 1, 2 or 5 times a power of ten (at least 1). */
function niceMax(v) {
  if (v <= 1) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (v <= m * p) return m * p;
  return 10 * p;
}

/**
 * lineChart draws samples [{t: unix ms, v: number}] into svg (replacing
 * what was there): a y axis from 0 to a round maximum, times of the first
 * and last sample under the x axis, the line with a light area below, and
 * the latest value marked.
 */
export function lineChart(svg, samples, { width = 720, height = 200, unit = '' } = {}) {
  const pad = { l: 56, r: 16, t: 12, b: 26 };
  const w = width - pad.l - pad.r;
  const ht = height - pad.t - pad.b;
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.replaceChildren();
  if (!samples.length) {
    svg.append(s('text', { x: width / 2, y: height / 2, class: 'chart-note', 'text-anchor': 'middle' }, 'Collecting samples…'));
    return;
  }
  const t0 = samples[0].t;
  const t1 = Math.max(samples[samples.length - 1].t, t0 + 1);
  const max = niceMax(Math.max(...samples.map((p) => p.v)));
  const x = (t) => pad.l + ((t - t0) / (t1 - t0)) * w;
  const y = (v) => pad.t + ht - (v / max) * ht;

  for (const f of [0, 0.5, 1]) {
    const v = max * f;
    svg.append(s('line', { x1: pad.l, x2: pad.l + w, y1: y(v), y2: y(v), class: f === 0 ? 'chart-axis' : 'chart-grid' }));
    svg.append(s('text', { x: pad.l - 6, y: y(v) + 4, 'text-anchor': 'end', class: 'chart-label' }, fmt.num(v)));
  }
  svg.append(s('text', { x: pad.l, y: height - 6, class: 'chart-label' }, fmt.clock(t0)));
  svg.append(s('text', { x: pad.l + w, y: height - 6, 'text-anchor': 'end', class: 'chart-label' }, fmt.clock(t1)));

  const pts = samples.length === 1
    ? [[pad.l, y(samples[0].v)], [pad.l + w, y(samples[0].v)]]
    : samples.map((p) => [x(p.t), y(p.v)]);
  const line = pts.map(([px, py], i) => `${i ? 'L' : 'M'}${px.toFixed(1)},${py.toFixed(1)}`).join(' ');
  svg.append(s('path', { d: `${line} L${pts[pts.length - 1][0].toFixed(1)},${y(0)} L${pts[0][0].toFixed(1)},${y(0)} Z`, class: 'chart-area' }));
  svg.append(s('path', { d: line, class: 'chart-line', 'data-testid': 'chart-line' }));
  const last = samples[samples.length - 1];
  const [lx, ly] = pts[pts.length - 1];
  svg.append(s('circle', { cx: lx, cy: ly, r: 3.5, class: 'chart-dot' }));
  svg.append(s('title', {}, `${fmt.num(last.v)}${unit} at ${fmt.clock(last.t)}`));
}
