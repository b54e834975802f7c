/**
 * Test and benchmark support: LightGBM models written in LightGBM's own text format (what
 * Booster.model_to_string() writes), so that the trainer's exporter turns them into the ONNX files
 * the ranker serves, and a reference evaluator that scores a row exactly as LightGBM does.
 */

/** A split sends x <= threshold left; a missing value (NaN) goes the default way (left unless said). */
export type TreeNode =
  | {
      readonly feature: number;
      readonly threshold: number;
      readonly left: TreeNode;
      readonly right: TreeNode;
      readonly defaultLeft?: boolean;
    }
  | { readonly leaf: number };

export interface LightGbmModel {
  readonly featureNames: readonly string[];
  readonly trees: readonly TreeNode[];
}

/** decision_type bits (LightGBM tree.h): 1 categorical, 2 default left, (missing type << 2) with NaN = 2. */
const MISSING_NAN = 2 << 2;
const DEFAULT_LEFT = 2;

/** The model in LightGBM's text format (the parts the exporter and LightGBM's loader read). */
export function lightGbmText(model: LightGbmModel): string {
  const lines = [
    'tree',
    'version=v4',
    'num_class=1',
    'num_tree_per_iteration=1',
    'label_index=0',
    `max_feature_idx=${model.featureNames.length - 1}`,
    'objective=lambdarank',
    `feature_names=${model.featureNames.join(' ')}`,
    `feature_infos=${model.featureNames.map(() => 'none').join(' ')}`,
    '',
  ];
  model.trees.forEach((tree, index) => lines.push(...treeBlock(tree, index), ''));
  lines.push('end of trees', '');
  return lines.join('\n');
}

function treeBlock(tree: TreeNode, index: number): string[] {
  const split: { feature: number; threshold: number; decision: number; left: number; right: number }[] = [];
  const leaves: number[] = [];
  // LightGBM numbers internal nodes from 0 (the root) and leaves from 0; a child reference < 0 is leaf ~ref.
  const visit = (node: TreeNode): number => {
    if ('leaf' in node) {
      leaves.push(node.leaf);
      return ~(leaves.length - 1);
    }
    const at = split.length;
    split.push({
      feature: node.feature,
      threshold: node.threshold,
      decision: MISSING_NAN | (node.defaultLeft === false ? 0 : DEFAULT_LEFT),
      left: 0,
      right: 0,
    });
    split[at]!.left = visit(node.left);
    split[at]!.right = visit(node.right);
    return at;
  };
  visit(tree);
  const num = (x: number) => x.toPrecision(17);
  return [
    `Tree=${index}`,
    `num_leaves=${leaves.length}`,
    'num_cat=0',
    ...(split.length > 0
      ? [
          `split_feature=${split.map((s) => s.feature).join(' ')}`,
          `split_gain=${split.map(() => '1').join(' ')}`,
          `threshold=${split.map((s) => num(s.threshold)).join(' ')}`,
          `decision_type=${split.map((s) => s.decision).join(' ')}`,
          `left_child=${split.map((s) => s.left).join(' ')}`,
          `right_child=${split.map((s) => s.right).join(' ')}`,
        ]
      : []),
    `leaf_value=${leaves.map(num).join(' ')}`,
    'is_linear=0',
    'shrinkage=1',
  ];
}

/** The model's raw score of one row, as LightGBM computes it (the oracle of the ranking tests). */
export function referenceScore(model: LightGbmModel, row: ArrayLike<number>): number {
  let total = 0;
  for (const tree of model.trees) {
    let node = tree;
    while (!('leaf' in node)) {
      const x = row[node.feature]!;
      const left = Number.isNaN(x) ? node.defaultLeft !== false : x <= node.threshold;
      node = left ? node.left : node.right;
    }
    total += node.leaf;
  }
  return total;
}

/**
 * A random ensemble shaped like a trained LightGBM ranker: trees grown leaf-wise (a random leaf is
 * split until `leaves`), splits on random features at thresholds drawn from real feature values
 * (`samples[f]`, so rows take varied paths as they would in a trained model), small leaf values.
 */
export function randomEnsemble(
  featureNames: readonly string[],
  samples: readonly (readonly number[])[],
  options: { trees: number; leaves: number; random: () => number },
): LightGbmModel {
  const { random } = options;
  const usable = samples
    .map((values, f) => ({ f, values: values.filter((v) => Number.isFinite(v)) }))
    .filter((s) => s.values.length > 0);
  const trees: TreeNode[] = [];
  for (let t = 0; t < options.trees; t++) {
    type Open = { leaf: number; parent?: { node: MutableSplit; side: 'left' | 'right' } };
    interface MutableSplit {
      feature: number;
      threshold: number;
      left: TreeNode;
      right: TreeNode;
      defaultLeft: boolean;
    }
    let root: TreeNode = { leaf: 0 };
    let open: Open[] = [{ leaf: 0 }];
    for (let leaves = 1; leaves < options.leaves; leaves++) {
      const pickAt = Math.floor(random() * open.length);
      const target = open[pickAt]!;
      const { f, values } = usable[Math.floor(random() * usable.length)]!;
      const split: MutableSplit = {
        feature: f,
        threshold: values[Math.floor(random() * values.length)]!,
        left: { leaf: (random() - 0.5) * 0.2 },
        right: { leaf: (random() - 0.5) * 0.2 },
        defaultLeft: random() < 0.5,
      };
      if (target.parent) target.parent.node[target.parent.side] = split;
      else root = split;
      open = [
        ...open.slice(0, pickAt),
        ...open.slice(pickAt + 1),
        { leaf: (split.left as { leaf: number }).leaf, parent: { node: split, side: 'left' } },
        { leaf: (split.right as { leaf: number }).leaf, parent: { node: split, side: 'right' } },
      ];
    }
    trees.push(root);
  }
  return { featureNames, trees };
}
