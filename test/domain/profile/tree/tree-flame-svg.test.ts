import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../../../../bench/support/asset-server';
import {
  buildTree,
  flameGraphDiffJson,
  flameGraphDiffSvg,
  mergeTrees,
  TreeBuilder,
  xmlText,
  type StackTree,
} from '../../../../src/domain/profile/tree';

const FIXTURES = join(__dirname, '../../../fixtures/trees');
const cpuTree = (name: string) =>
  buildTree(new Uint8Array(readFileSync(join(FIXTURES, name))), { choose: () => ({ sampleType: 'cpu' }) })!;

/** Names a profile may carry that would break or script an SVG written without escaping. */
const SCRIPT = `<script>alert("x")</script> & 'q'`;
const CDATA = ']]><!-- <svg onload=alert(1)> -->';
const CONTROL = 'ctl\u0001\u001f\uFFFE tab\there lone\uD800 pair😀';

/** A tree of stacks `main;<leaf>` with the given self values (ns). */
function tree(leaves: Record<string, number>): StackTree {
  const b = new TreeBuilder({ type: 'cpu', unit: 'nanoseconds' });
  const frame = (name: string) => b.frameOf(b.fn({ name, file: 'main.go', startLine: 1 }), 0);
  const main = frame('main.main');
  for (const [leaf, value] of Object.entries(leaves)) b.addStack([main, frame(leaf)], 2, BigInt(value));
  return b.build();
}

// Both sides total 1000: `hot` grew, `cold` shrank, the hostile name kept its share, one frame is new, one gone, and
// `tiny` is 0.1 % wide (under the 0.5 % drawn).
const base = tree({ hot: 100, cold: 500, [SCRIPT]: 200, gone: 100, [CONTROL]: 98, tiny: 2 });
const current = tree({ hot: 500, cold: 100, [SCRIPT]: 200, [CDATA]: 100, [CONTROL]: 98, tiny: 2 });

/** The little of the DOM the page-side parse uses (the project's TypeScript has no DOM library). */
interface XmlNode {
  readonly localName: string;
  readonly textContent: string | null;
  readonly attributes: ArrayLike<{ readonly name: string; readonly value: string }>;
  readonly children: ArrayLike<XmlNode>;
  getElementsByTagName(name: string): ArrayLike<XmlNode>;
  getAttribute(name: string): string | null;
}
declare class DOMParser {
  parseFromString(text: string, type: string): XmlNode & { readonly documentElement: XmlNode };
}

interface ParsedFrame {
  title: string;
  fill: string;
  stroke: string;
  text: string | null;
  width: number;
}

interface Parsed {
  error: string | null;
  title: string;
  texts: string[];
  frames: ParsedFrame[];
  /** Elements and attributes that could run script or fetch something. */
  active: string[];
}

/** Parses the SVG with Chromium's XML parser (strict: a well-formedness error is a `parsererror` document). */
function parse(page: Page, svg: string): Promise<Parsed> {
  return page.evaluate((text) => {
    const doc = new DOMParser().parseFromString(text, 'image/svg+xml');
    const error = doc.getElementsByTagName('parsererror')[0];
    const all = Array.from(doc.getElementsByTagName('*'));
    const active = all.flatMap((el) => [
      ...(['script', 'style', 'foreignObject', 'a', 'image', 'use', 'iframe'].includes(el.localName)
        ? [el.localName]
        : []),
      ...Array.from(el.attributes)
        .filter((a) => /^on|href$|^src$/i.test(a.name) || /url\(|javascript:/i.test(a.value))
        .map((a) => `${el.localName}@${a.name}`),
    ]);
    const frames = Array.from(doc.documentElement.children)
      .filter((el) => el.localName === 'g')
      .map((g) => {
        const rect = g.getElementsByTagName('rect')[0]!;
        return {
          title: g.getElementsByTagName('title')[0]!.textContent ?? '',
          fill: rect.getAttribute('fill') ?? '',
          stroke: rect.getAttribute('stroke') ?? '',
          text: g.getElementsByTagName('text')[0]?.textContent ?? null,
          width: Number(rect.getAttribute('width')),
        };
      });
    return {
      error: error ? (error.textContent ?? 'parsererror') : null,
      title: doc.documentElement.getElementsByTagName('title')[0]?.textContent ?? '',
      texts: Array.from(doc.documentElement.children)
        .filter((el) => el.localName === 'text')
        .map((t) => t.textContent ?? ''),
      frames,
      active,
    };
  }, svg);
}

describe('differential flame graph as SVG', () => {
  let browser: Browser;
  let page: Page;
  beforeAll(async () => {
    browser = await launchChromium();
    page = await browser.newPage();
  });
  afterAll(async () => browser?.close());

  const render = (b: StackTree, c: StackTree, focus?: string) =>
    flameGraphDiffSvg(flameGraphDiffJson(b, c, 5000), {
      title: `hot in ${SCRIPT}`,
      baseLabel: 'v1 <old>',
      currentLabel: 'v2 & "new"',
      ...(focus ? { focus } : {}),
    });

  it('parses back as well-formed XML with hostile names as text, no script and no external reference', async () => {
    const svg = render(base, current, 'hot');
    expect(svg).not.toContain('<script');
    expect(svg).not.toContain(']]>');
    const doc = await parse(page, svg);
    expect(doc.error).toBeNull();
    expect(doc.active).toEqual([]);
    expect(doc.title).toBe(`Differential flame graph: hot in ${SCRIPT}`);
    expect(doc.texts[1]).toMatch(/^base v1 <old> → current v2 & "new" \(cpu\/nanoseconds\)/);
    const titles = doc.frames.map((f) => f.title.split('\n')[0]);
    expect(titles).toEqual(expect.arrayContaining([SCRIPT, `+ ${CDATA}`, '− gone', 'hot', 'cold', 'main.main', 'all']));
    // What XML cannot carry became U+FFFD; tab, a surrogate pair and U+FFFD itself stay.
    expect(titles).toContain('ctl\uFFFD\uFFFD\uFFFD tab\there lone\uFFFD pair😀');
    expect(titles).not.toContain('tiny');
    expect(titles).toHaveLength(8);
  });

  it('colours by change: red grew, blue shrank, grey unchanged, darker for the larger change; outlines the focus', async () => {
    const doc = await parse(page, render(base, current, 'hot'));
    const by = (name: string) => doc.frames.find((f) => f.title.split('\n')[0] === name)!;
    expect(by('hot').fill).toBe('hsl(0, 85%, 58.0%)'); // the largest change: darkest
    expect(by('cold').fill).toBe('hsl(214, 85%, 56.0%)');
    expect(by(`+ ${CDATA}`).fill).toMatch(/^hsl\(0, 85%, 7\d\.\d%\)$/); // +10 points of 40: lighter red
    expect(by('− gone').fill).toMatch(/^hsl\(214, 85%, 7\d\.\d%\)$/);
    expect(by(SCRIPT).fill).toBe('hsl(220, 8%, 82%)');
    expect(by('main.main').fill).toBe('hsl(220, 8%, 82%)');
    expect(by('hot').stroke).toBe('#000000');
    expect(by('cold').stroke).toBe('#ffffff');
    expect(by('hot').title).toBe('hot\nbase 10.00 % → current 50.00 % (+40.00 pts)');
    expect(by('cold').title).toBe('cold\nbase 50.00 % → current 10.00 % (−40.00 pts)');
    // Widths are the mean share: hot and cold both 30 % of the 1180 px inside the margins.
    expect(by('hot').width).toBeCloseTo(354, 1);
    expect(by('cold').width).toBeCloseTo(354, 1);
    // Same trees: every frame grey.
    const same = await parse(page, render(base, base));
    expect(new Set(same.frames.map((f) => f.fill))).toEqual(new Set(['hsl(220, 8%, 82%)']));
  });

  it('draws real profiles pruned to what is legible: no frame under 0.5 % of the width', async () => {
    const b = cpuTree('node-a.pb.gz');
    const c = mergeTrees([cpuTree('node-b.pb.gz'), cpuTree('inline_hot.pprof')]);
    const svg = flameGraphDiffSvg(flameGraphDiffJson(b, c, 5000), { title: 'x', baseLabel: 'a', currentLabel: 'b' });
    const doc = await parse(page, svg);
    expect(doc.error).toBeNull();
    expect(doc.frames.length).toBeGreaterThan(20);
    expect(Math.min(...doc.frames.map((f) => f.width))).toBeGreaterThanOrEqual(0.005 * 1180 - 0.01);
    expect(svg.length).toBeLessThan(1_000_000);
    expect(new Set(doc.frames.map((f) => f.fill.slice(0, 6)))).toEqual(new Set(['hsl(0,', 'hsl(21', 'hsl(22']));
  });

  it('says so when both sides are empty, and escapes text as XML', async () => {
    const empty = new TreeBuilder({ type: 'cpu', unit: 'nanoseconds' }).build();
    const doc = await parse(page, render(empty, empty));
    expect(doc.error).toBeNull();
    expect(doc.frames).toEqual([]);
    expect(doc.texts).toContain('No samples on either side.');
    expect(xmlText(`<a href='x'>&"\u0000`)).toBe('&lt;a href=&#39;x&#39;&gt;&amp;&quot;\uFFFD');
  });
});
