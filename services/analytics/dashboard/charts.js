/* global document -- browser globals: this module runs in the page */
// Stacked bar charts drawn as SVG with DOM calls only: no inline style (the page's CSP
// forbids it), colours come from classes in dashboard.css.

const SVG = 'http://www.w3.org/2000/svg';
const WIDTH = 600;
const HEIGHT = 180;
const PAD = { left: 36, right: 8, top: 10, bottom: 20 };

function node(name, attributes, text) {
  const element = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
  if (text !== undefined) element.textContent = text;
  return element;
}

/** A round upper bound for the y axis (2, 4, 10 × 10^n): its half is a whole count too. */
function niceMax(value) {
  if (value <= 2) return 2;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 4, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

const clock = (iso) =>
  new Date(iso).toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit' });

/**
 * Draws `points` ({ t, ...counts }) as stacked bars of `series` ([{ key, label }]) into
 * `container`, replacing what was there; `title` names the chart for screen readers.
 */
export function drawStackedBars(container, points, series, title) {
  const totals = points.map((p) => series.reduce((sum, s) => sum + p[s.key], 0));
  const max = niceMax(Math.max(0, ...totals));
  const plotWidth = WIDTH - PAD.left - PAD.right;
  const plotHeight = HEIGHT - PAD.top - PAD.bottom;
  const slot = plotWidth / Math.max(points.length, 1);
  const y = (value) => (value / max) * plotHeight;

  const sums = series.map((s) => `${points.reduce((sum, p) => sum + p[s.key], 0)} ${s.label}`);
  const svg = node('svg', {
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
    role: 'img',
    'aria-label': `${title}: ${sums.join(', ')} over the last ${points.length} minutes`,
  });
  svg.append(node('title', {}, title));

  for (const fraction of [0, 0.5, 1]) {
    const lineY = PAD.top + plotHeight - fraction * plotHeight;
    svg.append(
      node('line', { class: 'axis', x1: PAD.left, x2: WIDTH - PAD.right, y1: lineY, y2: lineY }),
      node(
        'text',
        { x: PAD.left - 4, y: lineY + 3, 'text-anchor': 'end' },
        String(Math.round(max * fraction)),
      ),
    );
  }

  points.forEach((point, index) => {
    let base = PAD.top + plotHeight;
    for (const s of series) {
      const value = point[s.key];
      if (value <= 0) continue;
      const height = Math.max(y(value), 1);
      base -= height;
      const bar = node('rect', {
        class: `bar ${s.key === 'humanOpens' ? 'opens' : s.key === 'humanClicks' ? 'clicks' : s.key}`,
        x: PAD.left + index * slot + 0.5,
        y: base,
        width: Math.max(slot - 1, 1),
        height,
      });
      bar.append(node('title', {}, `${clock(point.t)}: ${value} ${s.label}`));
      svg.append(bar);
    }
  });

  const labelled = [0, Math.floor(points.length / 2), points.length - 1];
  for (const index of labelled) {
    const point = points[index];
    if (point === undefined) continue;
    const anchor = index === 0 ? 'start' : index === points.length - 1 ? 'end' : 'middle';
    const x = PAD.left + index * slot + (index === points.length - 1 ? slot : 0);
    svg.append(node('text', { x, y: HEIGHT - 5, 'text-anchor': anchor }, clock(point.t)));
  }
  container.replaceChildren(svg);
}
