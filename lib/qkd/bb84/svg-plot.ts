// A small hand-written SVG line/scatter chart (no dependency): linear x, linear or log10 y, axes with ticks,
// a legend, lines for curves and circles for simulated points.

export interface Series {
  name: string;
  points: [number, number][];
  style: 'line' | 'dashed' | 'points';
  color: string;
}

export interface Chart {
  title: string;
  xLabel: string;
  yLabel: string;
  x: [number, number];
  y: [number, number];
  logY?: boolean;
  series: Series[];
}

const W = 720, H = 480, L = 80, R = 30, T = 50, B = 60;

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function niceTicks(lo: number, hi: number, count = 6): number[] {
  const span = hi - lo;
  const step0 = span / count;
  const mag = 10 ** Math.floor(Math.log10(step0));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => span / s <= count) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(+v.toPrecision(12));
  return out;
}

function label(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e4 || a < 1e-3) return v.toExponential(0);
  return String(+v.toPrecision(4));
}

export function renderChart(c: Chart): string {
  const fy = (v: number): number => (c.logY ? Math.log10(v) : v);
  const [y0, y1] = [fy(c.y[0]), fy(c.y[1])];
  const px = (x: number): number => L + ((x - c.x[0]) / (c.x[1] - c.x[0])) * (W - L - R);
  const py = (y: number): number => H - B - ((fy(y) - y0) / (y1 - y0)) * (H - T - B);
  const inside = ([x, y]: [number, number]): boolean =>
    Number.isFinite(x) && Number.isFinite(y) && x >= c.x[0] && x <= c.x[1] && (!c.logY || y > 0) && y >= c.y[0] && y <= c.y[1];
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  parts.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  parts.push(`<text x="${W / 2}" y="24" text-anchor="middle" font-size="15">${esc(c.title)}</text>`);
  // grid and ticks
  for (const t of niceTicks(c.x[0], c.x[1])) {
    const x = px(t).toFixed(1);
    parts.push(`<line x1="${x}" y1="${T}" x2="${x}" y2="${H - B}" stroke="#eee"/>`);
    parts.push(`<text x="${x}" y="${H - B + 18}" text-anchor="middle">${label(t)}</text>`);
  }
  const yTicks = c.logY
    ? Array.from({ length: Math.floor(y1) - Math.ceil(y0) + 1 }, (_, i) => 10 ** (Math.ceil(y0) + i))
    : niceTicks(c.y[0], c.y[1]);
  for (const t of yTicks) {
    const y = py(t).toFixed(1);
    parts.push(`<line x1="${L}" y1="${y}" x2="${W - R}" y2="${y}" stroke="#eee"/>`);
    parts.push(`<text x="${L - 8}" y="${y}" text-anchor="end" dominant-baseline="middle">${label(t)}</text>`);
  }
  parts.push(`<rect x="${L}" y="${T}" width="${W - L - R}" height="${H - T - B}" fill="none" stroke="#333"/>`);
  parts.push(`<text x="${(L + W - R) / 2}" y="${H - 18}" text-anchor="middle">${esc(c.xLabel)}</text>`);
  parts.push(`<text transform="translate(20 ${(T + H - B) / 2}) rotate(-90)" text-anchor="middle">${esc(c.yLabel)}</text>`);
  // data
  for (const s of c.series) {
    const pts = s.points.filter(inside);
    if (s.style === 'points') {
      for (const [x, y] of pts) parts.push(`<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="4" fill="${s.color}" stroke="black" stroke-width="0.5"/>`);
    } else if (pts.length > 1) {
      const d = pts.map(([x, y], i) => `${i ? 'L' : 'M'}${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(' ');
      parts.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"${s.style === 'dashed' ? ' stroke-dasharray="6 4"' : ''}/>`);
    }
  }
  // legend
  c.series.forEach((s, i) => {
    const y = T + 16 + i * 18;
    const x = W - R - 290;
    if (s.style === 'points') parts.push(`<circle cx="${x + 12}" cy="${y}" r="4" fill="${s.color}" stroke="black" stroke-width="0.5"/>`);
    else parts.push(`<line x1="${x}" y1="${y}" x2="${x + 24}" y2="${y}" stroke="${s.color}" stroke-width="2"${s.style === 'dashed' ? ' stroke-dasharray="6 4"' : ''}/>`);
    parts.push(`<text x="${x + 32}" y="${y}" dominant-baseline="middle">${esc(s.name)}</text>`);
  });
  parts.push('</svg>\n');
  return parts.join('\n');
}
