import { PNG } from 'pngjs';

/** Colours of a chart: bars, the last (current) bar, and the background, as RGB. */
export interface ChartColors {
  readonly bar: readonly [number, number, number];
  readonly current: readonly [number, number, number];
  readonly background: readonly [number, number, number];
}

/** Mid-tone blues on white: readable on light backgrounds and still distinct when a mail client darkens the page. */
export const DEFAULT_CHART_COLORS: ChartColors = {
  bar: [0x7a, 0xa6, 0xd6],
  current: [0x1f, 0x5f, 0xa8],
  background: [0xff, 0xff, 0xff],
};

/**
 * A bar chart of `values` (oldest first) as PNG bytes, for email: mail clients show neither JavaScript nor SVG
 * reliably, so the chart is an image embedded inline (CID). Axis labels and figures are HTML next to it, so the
 * image holds no text (no font rendering here). Drawn by hand into an RGBA buffer (bars are rectangles) and encoded
 * by pngjs; rendered at 2× for sharp display on phones.
 */
export function barChartPng(
  values: readonly bigint[],
  width = 560,
  height = 140,
  colors: ChartColors = DEFAULT_CHART_COLORS,
): Buffer {
  const scale = 2;
  const w = width * scale;
  const h = height * scale;
  const png = new PNG({ width: w, height: h });
  fill(png, 0, 0, w, h, colors.background);
  const max = values.reduce((m, v) => (v > m ? v : m), 0n);
  const n = Math.max(1, values.length);
  const slot = w / n;
  const gap = Math.max(2, Math.floor(slot * 0.2));
  values.forEach((value, i) => {
    // Heights from exact integers: value / max of the plot height, at least 1 px for a non-zero value.
    const barHeight = max === 0n || value <= 0n ? 0 : Math.max(scale, Number((value * BigInt(h - 2 * scale)) / max));
    const x0 = Math.round(i * slot + gap / 2);
    const x1 = Math.round((i + 1) * slot - gap / 2);
    fill(png, x0, h - barHeight, x1, h, i === values.length - 1 ? colors.current : colors.bar);
  });
  fill(png, 0, h - scale, w, h, [0x88, 0x88, 0x88]); // baseline
  return PNG.sync.write(png);
}

function fill(
  png: PNG,
  x0: number,
  y0: number,
  x1: number,
  y1: number,
  [r, g, b]: readonly [number, number, number],
): void {
  for (let y = Math.max(0, y0); y < Math.min(png.height, y1); y++) {
    for (let x = Math.max(0, x0); x < Math.min(png.width, x1); x++) {
      const i = (y * png.width + x) * 4;
      png.data[i] = r;
      png.data[i + 1] = g;
      png.data[i + 2] = b;
      png.data[i + 3] = 255;
    }
  }
}
