import type { FlameGraphDiffJson } from './tree-flame-graph';
import { FLAME_CHANGE } from './tree-flame-graph';

export interface FlameSvgOptions {
  /** First line of the image, e.g. `main.validateEmail in checkout`. */
  readonly title: string;
  /** What each side is (a version, or a window). */
  readonly baseLabel: string;
  readonly currentLabel: string;
  /** Function whose frames are outlined (the regressed one). */
  readonly focus?: string;
  /** Image width in pixels. Default 1200. */
  readonly width?: number;
  /** Frames narrower than this fraction of the root are left out with everything under them. Default 0.005. */
  readonly minWidth?: number;
  /** Frames deeper than this are left out. Default 80. */
  readonly maxDepth?: number;
}

const FRAME_HEIGHT = 18;
const FONT_SIZE = 12;
/** Advance of one character of a 12 px monospace font, to cut names to what fits a frame. */
const CHAR_WIDTH = 7.3;
const HEADER_HEIGHT = 92;
const MARGIN = 10;
const GREY = 'hsl(220, 8%, 82%)';

/**
 * A differential flame graph as a standalone SVG document (what a ticket attaches): the frames of
 * `flameGraphDiffJson`, root at the top, each `(base share + current share) / 2` wide as the dashboard draws them,
 * red where the frame's share grew and blue where it shrank, darker for a larger change (square root of |Δ share| over
 * the largest drawn one, the dashboard's scale), grey when unchanged; `+`/`−` before a name new in / gone from the
 * current side. Frames narrower than `minWidth` (default 0.5 %) or deeper than `maxDepth` are left out with their
 * subtrees, so every drawn frame can be told apart. Each frame has a `<title>` with its name and shares (a tooltip
 * where the file is opened in a browser). Names come from profiles: they are escaped as XML text, characters XML
 * cannot carry become U+FFFD, and the document has no script, style sheet, link or external reference.
 */
export function flameGraphDiffSvg(diff: FlameGraphDiffJson, options: FlameSvgOptions): string {
  const width = options.width ?? 1200;
  const minWidth = options.minWidth ?? 0.005;
  const maxDepth = options.maxDepth ?? 80;
  const layout = layOut(diff, minWidth, maxDepth);
  const inner = width - 2 * MARGIN;
  const frames: string[] = [];
  let deepest = 0;
  for (const i of layout.drawn) {
    const depth = layout.depth[i]!;
    deepest = Math.max(deepest, depth);
    frames.push(
      frame(diff, i, {
        x: MARGIN + layout.x[i]! * inner,
        y: HEADER_HEIGHT + depth * FRAME_HEIGHT,
        w: layout.width[i]! * inner,
        fill: colour(diff, i, layout.maxDelta),
        focus: options.focus !== undefined && diff.names[diff.name[i]!] === options.focus,
      }),
    );
  }
  const height = HEADER_HEIGHT + (layout.drawn.length > 0 ? deepest + 1 : 1) * FRAME_HEIGHT + MARGIN;
  const empty =
    layout.drawn.length === 0
      ? [`<text x="${MARGIN}" y="${HEADER_HEIGHT + FONT_SIZE}">No samples on either side.</text>`]
      : [];
  const title = `Differential flame graph: ${options.title}`;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="monospace" font-size="${FONT_SIZE}" role="img">`,
    `<title>${xmlText(title)}</title>`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
    ...header(diff, options, title, minWidth, width),
    ...empty,
    ...frames,
    '</svg>',
    '',
  ].join('\n');
}

interface Layout {
  /** Node ids drawn, in pre-order. */
  readonly drawn: number[];
  readonly x: Float64Array;
  readonly width: Float64Array;
  readonly depth: Int32Array;
  /** Largest |current share − base share| of a drawn frame below the root. */
  readonly maxDelta: number;
}

/** Positions of the frames as fractions of the root's width; nodes come in pre-order with heavier siblings first. */
function layOut(diff: FlameGraphDiffJson, minWidth: number, maxDepth: number): Layout {
  const n = diff.parent.length;
  const x = new Float64Array(n);
  const width = new Float64Array(n);
  const depth = new Int32Array(n);
  const next = new Float64Array(n);
  const drawn: number[] = [];
  const shown = new Uint8Array(n);
  const rootWidth = (diff.base.share[0]! + diff.current.share[0]!) / 2;
  let maxDelta = 0;
  if (n === 0 || rootWidth === 0) return { drawn, x, width, depth, maxDelta };
  for (let i = 0; i < n; i++) {
    const p = diff.parent[i]!;
    width[i] = (diff.base.share[i]! + diff.current.share[i]!) / 2 / rootWidth;
    if (p >= 0) {
      depth[i] = depth[p]! + 1;
      x[i] = next[p]!;
      next[p]! += width[i]!;
    }
    next[i] = x[i]!;
    if ((p >= 0 && !shown[p]) || width[i]! < minWidth || depth[i]! > maxDepth) continue;
    shown[i] = 1;
    drawn.push(i);
    if (i > 0) maxDelta = Math.max(maxDelta, Math.abs(diff.current.share[i]! - diff.base.share[i]!));
  }
  return { drawn, x, width, depth, maxDelta };
}

/** The dashboard's colours (`reports/assets/flamegraph.js`): red grew, blue shrank, lightness by |Δ share|. */
function colour(diff: FlameGraphDiffJson, i: number, maxDelta: number): string {
  const change = diff.change[i]!;
  if (change === FLAME_CHANGE.same || maxDelta === 0) return GREY;
  const t = Math.sqrt(Math.min(1, Math.abs(diff.current.share[i]! - diff.base.share[i]!) / maxDelta));
  return change === FLAME_CHANGE.grew || change === FLAME_CHANGE.new
    ? `hsl(0, 85%, ${(90 - 32 * t).toFixed(1)}%)`
    : `hsl(214, 85%, ${(90 - 34 * t).toFixed(1)}%)`;
}

function frame(
  diff: FlameGraphDiffJson,
  i: number,
  at: { x: number; y: number; w: number; fill: string; focus: boolean },
): string {
  const change = diff.change[i]!;
  const prefix = change === FLAME_CHANGE.new ? '+ ' : change === FLAME_CHANGE.gone ? '− ' : '';
  const name = `${prefix}${i === 0 ? 'all' : diff.names[diff.name[i]!]!}`;
  const base = diff.base.share[i]!;
  const current = diff.current.share[i]!;
  const tip = `${name}\nbase ${pct(base)} → current ${pct(current)} (${points(current - base)})`;
  const stroke = at.focus ? ' stroke="#000000" stroke-width="2"' : ' stroke="#ffffff" stroke-width="0.5"';
  const label = fit(name, at.w - 6);
  return [
    `<g><title>${xmlText(tip)}</title>`,
    `<rect x="${num(at.x)}" y="${at.y}" width="${num(Math.max(at.w, 0.5))}" height="${FRAME_HEIGHT - 1}" fill="${at.fill}"${stroke}/>`,
    label === '' ? '' : `<text x="${num(at.x + 3)}" y="${at.y + FONT_SIZE + 1}">${xmlText(label)}</text>`,
    '</g>',
  ].join('');
}

function header(
  diff: FlameGraphDiffJson,
  options: FlameSvgOptions,
  title: string,
  minWidth: number,
  width: number,
): string[] {
  const room = Math.floor((width - 2 * MARGIN) / CHAR_WIDTH);
  const line = (y: number, text: string, extra = '') =>
    `<text x="${MARGIN}" y="${y}"${extra}>${xmlText(cut(text, room))}</text>`;
  const legend: Array<[string, string]> = [
    ['hsl(0, 85%, 58.0%)', 'share grew (darker: more)'],
    ['hsl(214, 85%, 56.0%)', 'share shrank (darker: more)'],
    [GREY, 'unchanged'],
  ];
  const items: string[] = [];
  let x = MARGIN;
  for (const [fill, text] of legend) {
    items.push(
      `<rect x="${x}" y="58" width="14" height="14" fill="${fill}"/><text x="${x + 20}" y="70">${xmlText(text)}</text>`,
    );
    x += 20 + text.length * CHAR_WIDTH + 24;
  }
  items.push(
    `<text x="${num(x)}" y="70">${xmlText(`+ new in current, − gone${options.focus ? '; outlined: the regressed function' : ''}`)}</text>`,
  );
  return [
    line(20, title, ' font-size="15" font-weight="bold"'),
    line(
      40,
      `base ${options.baseLabel} → current ${options.currentLabel} (${diff.sampleType.type}/${diff.sampleType.unit}); width: mean share of both; frames under ${pct(minWidth)} left out`,
    ),
    ...items,
  ];
}

function pct(share: number): string {
  return `${(share * 100).toFixed(2)} %`;
}

function points(delta: number): string {
  return `${delta >= 0 ? '+' : '−'}${Math.abs(delta * 100).toFixed(2)} pts`;
}

function num(v: number): string {
  return String(Math.round(v * 100) / 100);
}

/** `text` cut to at most `chars` characters (code points), with an ellipsis when cut. */
function cut(text: string, chars: number): string {
  const points = Array.from(text);
  if (points.length <= chars) return text;
  return chars <= 1 ? '' : `${points.slice(0, chars - 1).join('')}…`;
}

/** What of `name` fits `pixels`: nothing under three characters' room. */
function fit(name: string, pixels: number): string {
  const chars = Math.floor(pixels / CHAR_WIDTH);
  return chars < 3 ? '' : cut(name, chars);
}

/**
 * `text` as XML character data or attribute value: markup characters as entities, and what XML 1.0 cannot carry at all
 * (C0 controls but tab and line breaks, U+FFFE/U+FFFF, unpaired surrogates) as U+FFFD.
 */
export function xmlText(text: string): string {
  return xmlChars(text)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

function xmlChars(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const low = text.charCodeAt(i + 1);
      if (low >= 0xdc00 && low <= 0xdfff) out += text.slice(i, ++i + 1);
      else out += '\uFFFD';
    } else if ((c >= 0xdc00 && c <= 0xdfff) || (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) || c >= 0xfffe)
      out += '\uFFFD';
    else out += text[i];
  }
  return out;
}
