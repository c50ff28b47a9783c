// Finding rules that reach themselves through `rule:` references, so they can be disabled at load.
import { ruleReferences, type CheckNode } from "./ast.js";

/** Groups of rules that refer to each other in a loop (a rule referring to itself is a group of one). */
export function findRuleCycles(rules: ReadonlyMap<string, CheckNode>): string[][] {
  const edges = new Map<string, string[]>();
  for (const [name, tree] of rules)
    edges.set(
      name,
      [...ruleReferences(tree)].filter((r) => rules.has(r)),
    );

  // Tarjan's strongly connected components, iterative so long reference chains cannot overflow the stack.
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const cycles: string[][] = [];
  let next = 0;

  for (const root of edges.keys()) {
    if (index.has(root)) continue;
    const work: Array<{ node: string; edge: number }> = [{ node: root, edge: 0 }];
    index.set(root, next);
    low.set(root, next++);
    stack.push(root);
    onStack.add(root);
    while (work.length > 0) {
      const frame = work[work.length - 1];
      const out = edges.get(frame.node) ?? [];
      if (frame.edge < out.length) {
        const to = out[frame.edge++];
        if (!index.has(to)) {
          index.set(to, next);
          low.set(to, next++);
          stack.push(to);
          onStack.add(to);
          work.push({ node: to, edge: 0 });
        } else if (onStack.has(to)) {
          low.set(frame.node, Math.min(low.get(frame.node)!, index.get(to)!));
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.node, Math.min(low.get(parent.node)!, low.get(frame.node)!));
      if (low.get(frame.node) === index.get(frame.node)) {
        const group: string[] = [];
        let member: string;
        do {
          member = stack.pop()!;
          onStack.delete(member);
          group.push(member);
        } while (member !== frame.node);
        if (group.length > 1 || out.includes(frame.node)) cycles.push(group.reverse());
      }
    }
  }
  return cycles;
}
