import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { foldProfile } from '../../../../src/domain/profile';
import {
  absoluteDelta,
  buildProfileTrees,
  buildTree,
  decodeTree,
  diffTrees,
  encodeTree,
  mergeTrees,
  nodeChange,
  OTHER_FRAME_NAME,
  pruneTree,
  shareDelta,
  treeFunctions,
  treeToJson,
  TreeCodecError,
  writeFolded,
  writePprof,
  writeSpeedscope,
  type StackTree,
} from '../../../../src/domain/profile/tree';

const FIXTURES = join(__dirname, '../../../fixtures/trees');
const GO_FILES = ['cpu.pprof', 'devirt.pprof', 'inline_hot.pprof', 'normal-cpu.stripped.pprof', 'cpu-exemplars.pb.gz'];
const NODE_FILES = ['node-a.pb.gz', 'node-b.pb.gz'];

/** sha256 (first 16 hex) of encodeTree(inline_hot.pprof's cpu tree, uncompressed), version 1. */
const FROZEN_V1 = '5a469fc3c4953db2';

const read = (name: string) => new Uint8Array(readFileSync(join(FIXTURES, name)));
/** The CPU sample type, as the engine picks it for these profiles (cpu/nanoseconds present in all of them). */
const cpuTree = (name: string) => buildTree(read(name), { choose: () => ({ sampleType: 'cpu' }) })!;

function haveGo(): boolean {
  try {
    execFileSync('go', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

interface TopRef {
  total: string;
  functions: { name: string; flat: string; cum: string }[];
}

function asRecord(tree: StackTree): Record<string, { flat: string; cum: string }> {
  const out: Record<string, { flat: string; cum: string }> = {};
  for (const [name, v] of treeFunctions(tree)) out[name] = { flat: v.flat.toString(), cum: v.cum.toString() };
  return out;
}

function refRecord(ref: TopRef): Record<string, { flat: string; cum: string }> {
  return Object.fromEntries(ref.functions.map((f) => [f.name, { flat: f.flat, cum: f.cum }]));
}

/** `go tool pprof -top` of a pprof file, parsed (exact units). */
function pprofTop(bytes: Uint8Array): TopRef {
  const dir = mkdtempSync(join(tmpdir(), 'tree-pprof-'));
  const file = join(dir, 'tree.pb.gz');
  writeFileSync(file, bytes);
  const text = execFileSync(
    'go',
    [
      'tool',
      'pprof',
      '-symbolize=none',
      '-top',
      '-nodecount=1000000',
      '-nodefraction=0',
      '-edgefraction=0',
      '-sample_index=cpu',
      '-unit=ns',
      file,
    ],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    },
  );
  const total = /of (-?\d+)ns total/.exec(text)![1]!;
  const functions: TopRef['functions'] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*(-?\d+)(?:ns)?\s+\S+%\s+\S+%\s+(-?\d+)(?:ns)?\s+\S+%\s+(.*)$/.exec(line);
    if (m) functions.push({ name: m[3]!.replace(/ \((partial-)?inline\)$/, ''), flat: m[1]!, cum: m[2]! });
  }
  return { total, functions };
}

/** Node totals by root-first path of (name, line): comparable across trees whatever their node order. */
function totalsByPath(tree: StackTree): Map<string, bigint> {
  const keys: string[] = new Array<string>(tree.nodeCount);
  keys[0] = '';
  const out = new Map<string, bigint>([['', tree.value]]);
  for (let i = 1; i < tree.nodeCount; i++) {
    keys[i] = `${keys[tree.parent[i]!]}/${tree.functionOf(i).name}:${tree.lineOf(i)}`;
    out.set(keys[i]!, tree.total[i]!);
  }
  return out;
}

const goTree = mergeTrees(GO_FILES.map(cpuTree));
const nodeTree = mergeTrees(NODE_FILES.map(cpuTree));

describe('stack trees: golden against go tool pprof over go tool pprof -proto of the same files', () => {
  for (const [group, tree] of [
    ['go', goTree],
    ['node', nodeTree],
  ] as const) {
    it(`the merged ${group} tree has pprof's total and per-function flat and cum`, () => {
      const ref = JSON.parse(readFileSync(join(FIXTURES, `${group}-merged.top.json`), 'utf8')) as TopRef;
      expect(tree.value.toString()).toBe(ref.total);
      expect(asRecord(tree)).toEqual(refRecord(ref));
    });
  }

  it('keeps file, start line and line from pprof (what PGO needs)', () => {
    const t = cpuTree('devirt.pprof');
    const withFile = t.functions.filter((f) => f.file !== '' && f.startLine > 0);
    expect(withFile.length).toBeGreaterThan(0);
    expect(Array.from(t.frameLine).some((l) => l > 0)).toBe(true);
  });

  it.skipIf(!haveGo())(
    'the pprof written from a tree gives the same go tool pprof -top (skipped: no `go` on PATH)',
    () => {
      for (const tree of [goTree, nodeTree]) {
        const top = pprofTop(writePprof(tree));
        expect(top.total).toBe(tree.value.toString());
        expect(refRecord(top)).toEqual(asRecord(tree));
      }
    },
  );

  it('reads its own pprof back into the same tree', () => {
    const again = buildTree(writePprof(goTree), { choose: () => ({ sampleType: 'cpu' }) })!;
    expect(encodeTree(again)).toEqual(encodeTree(goTree));
  });
});

describe('stack trees: operations on real profiles', () => {
  it('merge is commutative and associative (canonical bytes equal)', () => {
    const [a, b, c, d] = ['cpu.pprof', 'devirt.pprof', 'normal-cpu.stripped.pprof', 'node-a.pb.gz'].map(cpuTree) as [
      StackTree,
      StackTree,
      StackTree,
      StackTree,
    ];
    const one = encodeTree(mergeTrees([a, b, c, d]));
    expect(encodeTree(mergeTrees([d, c, b, a]))).toEqual(one);
    expect(encodeTree(mergeTrees([mergeTrees([a, b]), mergeTrees([c, d])]))).toEqual(one);
    expect(encodeTree(mergeTrees([a, mergeTrees([b, mergeTrees([c, d])])]))).toEqual(one);
    expect(mergeTrees([a, b, c, d]).value).toBe(a.value + b.value + c.value + d.value);
  });

  it('diff of a tree against itself is all zero', () => {
    const diff = diffTrees(goTree, goTree);
    for (let i = 0; i < diff.parent.length; i++) {
      expect(nodeChange(diff, i)).toBe('same');
      expect(shareDelta(diff, i)).toBe(0);
      expect(absoluteDelta(diff, i)).toEqual({ self: 0n, total: 0n });
    }
  });

  it('diff shows new, gone, grew and shrank between two real profiles', () => {
    const base = cpuTree('node-a.pb.gz');
    const current = mergeTrees([cpuTree('node-b.pb.gz'), cpuTree('inline_hot.pprof')]);
    const diff = diffTrees(base, current);
    const kinds = new Set(Array.from(diff.parent, (_, i) => nodeChange(diff, i)));
    expect([...kinds].sort()).toEqual(
      ['gone', 'grew', 'new', 'same', 'shrank'].filter((k) => kinds.has(k as never)).sort(),
    );
    expect(kinds.has('new') && kinds.has('gone')).toBe(true);
    expect(kinds.has('grew') || kinds.has('shrank')).toBe(true);
    // The root's share is 1 in both: same. Absolute deltas are exact differences.
    expect(nodeChange(diff, 0)).toBe('same');
    expect(absoluteDelta(diff, 0).total).toBe(current.value - base.value);
  });

  it('prune keeps every kept node total and the tree total exact', () => {
    const full = totalsByPath(goTree);
    for (const n of [1, 3, 10, 40]) {
      const pruned = pruneTree(goTree, n);
      expect(pruned.value).toBe(goTree.value);
      const real = Array.from({ length: pruned.nodeCount - 1 }, (_, k) => k + 1).filter(
        (i) => pruned.functionOf(i).name !== OTHER_FRAME_NAME,
      );
      expect(real.length).toBe(Math.min(n, goTree.nodeCount - 1));
      const paths = totalsByPath(pruned);
      for (const [path, total] of paths)
        if (!path.includes(`/${OTHER_FRAME_NAME}:`)) expect(total).toBe(full.get(path));
      // The kept nodes are the heaviest: no dropped node outweighs the lightest kept one.
      const keptTotals = real.map((i) => pruned.total[i]!);
      const lightest = keptTotals.reduce((m, t) => (t < m ? t : m));
      const dropped = [...full].filter(([p]) => p !== '' && !paths.has(p)).map(([, t]) => t);
      for (const t of dropped) expect(t <= lightest).toBe(true);
    }
    expect(pruneTree(goTree, 1_000_000)).toBe(goTree);
  });

  it('the codec round-trips exactly and is canonical', () => {
    const bytes = encodeTree(goTree);
    const back = decodeTree(bytes);
    expect(encodeTree(back)).toEqual(bytes);
    expect(asRecord(back)).toEqual(asRecord(goTree));
    expect(totalsByPath(back)).toEqual(totalsByPath(goTree));
    expect(back.functions.map((f) => `${f.name}|${f.file}|${f.startLine}`).sort()).toEqual(
      goTree.functions.map((f) => `${f.name}|${f.file}|${f.startLine}`).sort(),
    );
    expect(decodeTree(encodeTree(goTree, { compress: false })).value).toBe(goTree.value);
  });

  it('values past 2^53 stay exact through merge, codec and pprof', () => {
    const big = mergeTrees(Array.from({ length: 3 }, () => goTree));
    const scaled = decodeTree(encodeTree(mergeTrees([big, big])));
    expect(scaled.value).toBe(goTree.value * 6n);
    const huge = buildTree(read('devirt.pprof'), { choose: () => ({ sampleType: 'cpu', scale: 1n << 24n }) })!;
    const back = decodeTree(encodeTree(huge));
    expect(back.value).toBe(cpuTree('devirt.pprof').value << 24n);
    expect(back.value > BigInt(Number.MAX_SAFE_INTEGER)).toBe(true);
    expect(buildTree(writePprof(huge), { choose: () => ({ sampleType: 'cpu' }) })!.value).toBe(back.value);
  });

  it('splits by the version label: each split has the fold slice of that version', () => {
    for (const [file, version] of [
      ['node-a.pb.gz', 'v1'],
      ['node-b.pb.gz', 'v2'],
    ] as const) {
      const trees = buildProfileTrees(read(file), { choose: () => ({ sampleType: 'cpu' }), splitLabel: 'version' })!;
      expect([...trees.byLabel.keys()]).toEqual([version]);
      const slice = foldProfile(read(file), { sampleType: 'cpu', labelKeys: ['version'] }).slices!.find(
        (s) => s.labels['version'] === version,
      )!;
      const split = trees.byLabel.get(version)!;
      expect(split.value).toBe(slice.total);
      expect(treeFunctions(split)).toEqual(slice.functions);
      expect(split.value < trees.tree.value).toBe(true); // the runtime's own samples carry no label
    }
    const unlabelled = buildProfileTrees(read('devirt.pprof'), { splitLabel: 'version' })!;
    expect(unlabelled.byLabel.size).toBe(0);
  });

  it('serializes a pruned tree as JSON with exact totals', () => {
    const json = JSON.parse(JSON.stringify(treeToJson(pruneTree(goTree, 20)))) as {
      total: string;
      children: { total: string }[];
    };
    expect(json.total).toBe(goTree.value.toString());
    expect(json.children.reduce((s, c) => s + BigInt(c.total), 0n)).toBe(goTree.value - goTree.self[0]!);
  });
});

describe('stack trees from the text and JSON formats, and the text writers', () => {
  for (const file of ['perf-numa-stacks-01-collapsed-all.txt', 'simple.cpuprofile', 'two-sampled.speedscope.json']) {
    it(`${file}: the tree has the fold's per-function values`, () => {
      const fold = foldProfile(read(file));
      const tree = buildTree(read(file))!;
      expect(tree.sampleType).toEqual(fold.sampleType);
      expect(tree.value).toBe(fold.total);
      expect(treeFunctions(tree)).toEqual(fold.functions);
    });
  }

  it('folded and speedscope output read back to the same per-function values', () => {
    for (const tree of [goTree, nodeTree, buildTree(read('perf-numa-stacks-01-collapsed-all.txt'))!]) {
      const fromFolded = foldProfile(new TextEncoder().encode(writeFolded(tree)));
      expect(fromFolded.total).toBe(tree.value - tree.self[0]!);
      expect(fromFolded.functions).toEqual(treeFunctions(tree));
      const fromSpeedscope = foldProfile(new TextEncoder().encode(JSON.stringify(writeSpeedscope(tree))));
      expect(fromSpeedscope.functions).toEqual(treeFunctions(tree));
    }
  });
});

describe('stack-tree codec', () => {
  it('version 1 bytes are frozen: stored rows hold them (change the version, not these bytes)', () => {
    // Uncompressed: deflate's output may change with Node's zlib, the layout must not.
    const bytes = encodeTree(cpuTree('inline_hot.pprof'), { compress: false });
    expect(createHash('sha256').update(bytes).digest('hex').slice(0, 16)).toBe(FROZEN_V1);
    expect(Array.from(bytes.subarray(0, 5))).toEqual([0x46, 0x42, 0x54, 1, 0]);
    expect(Array.from(encodeTree(cpuTree('inline_hot.pprof')).subarray(0, 5))).toEqual([0x46, 0x42, 0x54, 1, 1]);
  });

  it('rejects bytes that are not a tree, and truncated trees', () => {
    const bytes = encodeTree(cpuTree('inline_hot.pprof'), { compress: false });
    expect(() => decodeTree(read('inline_hot.pprof'))).toThrow(TreeCodecError);
    expect(() => decodeTree(bytes.subarray(0, bytes.length - 3))).toThrow(TreeCodecError);
    const wrongVersion = bytes.slice();
    wrongVersion[3] = 9;
    expect(() => decodeTree(wrongVersion)).toThrow(/unknown version 9/);
  });
});
