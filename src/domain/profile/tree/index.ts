/**
 * Stack trees: the merged call tree of profiles for one sample type, for flame graphs, differential flame graphs,
 * PGO and speedscope exports. Pure: bytes and trees in, trees and bytes out. See docs/profile-engine.md.
 */
export { StackTree, TreeBuilder, emptyTree, type TreeFunction } from './stack-tree';
export { buildProfileTrees, buildTree, type ProfileTrees, type TreeChoice, type TreeOptions } from './tree-build';
export { mergeTrees, scaleTree, commonPeriod, TreeSampleTypeError } from './tree-merge';
export { treeFunctions } from './tree-top';
export { diffTrees, nodeChange, shareOf, shareDelta, absoluteDelta, type TreeDiff, type NodeChange } from './tree-diff';
export { pruneTree, OTHER_FRAME_NAME } from './tree-prune';
export { writePprof, writeFolded, writeSpeedscope, treeToJson, type TreeJsonNode } from './tree-writers';
export { encodeTree, decodeTree, TreeCodecError } from './tree-codec';
export {
  flameGraphJson,
  flameGraphDiffJson,
  withoutFrames,
  FLAME_CHANGE,
  type FlameGraphJson,
  type FlameGraphDiffJson,
  type FlameGraphDiffOptions,
  type FlameGraphSide,
} from './tree-flame-graph';
export { flameGraphDiffSvg, xmlText, type FlameSvgOptions } from './tree-flame-svg';
