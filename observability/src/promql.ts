import { parser } from '@prometheus-io/lezer-promql';

/**
 * Metric names a PromQL expression selects, read from the Prometheus project's own PromQL grammar
 * (@prometheus-io/lezer-promql, the parser behind the Prometheus UI's editor): the identifier of
 * every vector selector, and `{__name__="..."}` matchers. Label names, function names and
 * aggregation labels are not metric names, and the grammar tells them apart.
 */
export interface ParsedPromQL {
  readonly metrics: ReadonlySet<string>;
  /** Syntax errors as `offset: text near it`; empty when the expression parses. */
  readonly errors: readonly string[];
}

/** Grafana's interval variables stand where a duration goes; any duration parses the same. */
const GRAFANA_DURATION_VARIABLES = /\$__(rate_interval|interval|range)\b|\$\{__(rate_interval|interval|range)\}/g;

export function parsePromQL(expression: string): ParsedPromQL {
  const expr = expression.replace(GRAFANA_DURATION_VARIABLES, '5m');
  const metrics = new Set<string>();
  const errors: string[] = [];
  const text = (from: number, to: number) => expr.slice(from, to);
  parser.parse(expr).iterate({
    enter(node) {
      if (node.type.isError) {
        errors.push(`${node.from}: ${JSON.stringify(text(Math.max(0, node.from - 20), node.to + 20))}`);
        return;
      }
      if (node.name === 'Identifier' && node.node.parent?.name === 'VectorSelector') {
        metrics.add(text(node.from, node.to));
      } else if (node.name === 'UnquotedLabelMatcher') {
        const name = node.node.getChild('LabelName');
        const op = node.node.getChild('MatchOp');
        const value = node.node.getChild('StringLiteral');
        if (name && op && value && text(name.from, name.to) === '__name__' && text(op.from, op.to) === '=') {
          metrics.add(JSON.parse(text(value.from, value.to).replace(/^'|'$/g, '"')) as string);
        }
      }
    },
  });
  return { metrics, errors };
}
