import type { FieldIssue } from './map-row.ts';

/**
 * The load report: counts, and problems grouped by field and reason with a count and a few example
 * positions each. Memory is bounded by the number of distinct (field, reason) pairs, which the
 * mapping bounds (reasons name no values; attribute names are folded into `attributes.*`).
 */

export interface IssueExample {
  readonly position: number;
  /** The precise field when the group folds several (an attribute's name), and the offending value. */
  readonly detail?: string;
}

export interface IssueGroup {
  readonly field: string;
  readonly reason: string;
  readonly rows: number;
  readonly examples: readonly IssueExample[];
}

export interface MissingColumns {
  readonly field: string;
  readonly columns: readonly string[];
}

export interface LoadReport {
  readonly file: string;
  readonly format: string;
  readonly positionLabel: 'line' | 'row';
  readonly dryRun: boolean;
  readonly rowsRead: number;
  /** Acknowledged by Kafka (in a dry run: would be sent). */
  readonly loaded: number;
  /** Same event id as an earlier row of this load (an identical row): not sent twice. */
  readonly duplicates: number;
  readonly rejected: number;
  /** Mapped but not acknowledged because the load stopped (Kafka unavailable, interrupted). */
  readonly unsent: number;
  /** Loaded rows with at least one warning. */
  readonly rowsWithWarnings: number;
  readonly rejections: readonly IssueGroup[];
  readonly warnings: readonly IssueGroup[];
  /** Optional mapped fields none of whose columns the file has (CSV and Parquet headers only). */
  readonly missingColumns: readonly MissingColumns[];
  readonly elapsedMs: number;
  /** Why the load stopped before the end of the file, if it did. */
  readonly stopped?: { readonly code: string; readonly message: string };
}

const KEEP_EXAMPLES = 10;

class IssueGroups {
  readonly #groups = new Map<string, { field: string; reason: string; rows: number; examples: IssueExample[] }>();

  add(position: number, issues: readonly FieldIssue[]): void {
    // A row counts once per group even when it has several issues of the same kind.
    const seen = new Set<string>();
    for (const issue of issues) {
      const attribute = issue.field.startsWith('attributes.');
      const field = attribute ? 'attributes.*' : issue.field;
      const key = `${field}\u0000${issue.reason}`;
      let group = this.#groups.get(key);
      if (group === undefined) {
        group = { field, reason: issue.reason, rows: 0, examples: [] };
        this.#groups.set(key, group);
      }
      if (seen.has(key)) continue;
      seen.add(key);
      group.rows++;
      if (group.examples.length < KEEP_EXAMPLES) {
        const detail = attribute
          ? `${issue.field.slice('attributes.'.length)}${issue.value === undefined ? '' : `=${issue.value}`}`
          : issue.value;
        group.examples.push(detail === undefined ? { position } : { position, detail });
      }
    }
  }

  list(): IssueGroup[] {
    return [...this.#groups.values()].sort((a, b) => b.rows - a.rows || a.field.localeCompare(b.field));
  }
}

export class ReportBuilder {
  rowsRead = 0;
  loaded = 0;
  duplicates = 0;
  rejected = 0;
  rowsWithWarnings = 0;
  readonly #rejections = new IssueGroups();
  readonly #warnings = new IssueGroups();

  /** A rejected row's warnings are left out: they are noise next to its errors. */
  reject(position: number, errors: readonly FieldIssue[]): void {
    this.rejected++;
    this.#rejections.add(position, errors);
  }

  warn(position: number, warnings: readonly FieldIssue[]): void {
    if (warnings.length === 0) return;
    this.rowsWithWarnings++;
    this.#warnings.add(position, warnings);
  }

  build(fixed: {
    file: string;
    format: string;
    positionLabel: 'line' | 'row';
    dryRun: boolean;
    missingColumns: readonly MissingColumns[];
    elapsedMs: number;
    stopped?: { code: string; message: string };
  }): LoadReport {
    return {
      ...fixed,
      rowsRead: this.rowsRead,
      loaded: this.loaded,
      duplicates: this.duplicates,
      rejected: this.rejected,
      unsent: this.rowsRead - this.loaded - this.duplicates - this.rejected,
      rowsWithWarnings: this.rowsWithWarnings,
      rejections: this.#rejections.list(),
      warnings: this.#warnings.list(),
    };
  }
}

/** The report as text for a terminal: counts first, then each group with up to `maxExamples` positions. */
export function formatReport(report: LoadReport, { maxExamples = 5 }: { maxExamples?: number } = {}): string {
  const n = (x: number) => x.toLocaleString('en-US');
  const width = Math.max(...[report.rowsRead, report.loaded].map((x) => n(x).length));
  const line = (label: string, value: number) => `  ${label.padEnd(12)}${n(value).padStart(width)}`;
  const out: string[] = [];
  out.push(`Catalogue load of ${report.file} (${report.format})${report.dryRun ? ' — dry run, nothing sent' : ''}`);
  out.push(line('rows read', report.rowsRead));
  out.push(line(report.dryRun ? 'would load' : 'loaded', report.loaded));
  if (report.duplicates > 0)
    out.push(`${line('duplicates', report.duplicates)}  (identical to an earlier row, sent once)`);
  out.push(line('rejected', report.rejected));
  if (report.unsent > 0)
    out.push(`${line('not sent', report.unsent)}  (the load stopped before Kafka acknowledged them)`);
  if (report.rowsWithWarnings > 0)
    out.push(`${line('with warnings', report.rowsWithWarnings)}  (loaded; a value was left out or cut)`);
  const seconds = report.elapsedMs / 1000;
  out.push(`  in ${seconds.toFixed(1)} s (${n(Math.round(report.rowsRead / Math.max(seconds, 0.001)))} rows/s)`);
  const groups = (title: string, list: readonly IssueGroup[]) => {
    if (list.length === 0) return;
    out.push('', title);
    for (const g of list) {
      const shown = g.examples
        .slice(0, maxExamples)
        .map((e) => `${report.positionLabel} ${e.position}${e.detail === undefined ? '' : ` (${e.detail})`}`);
      const more = g.rows > shown.length && shown.length > 0 ? ', …' : '';
      const rows = `${n(g.rows)} row${g.rows === 1 ? '' : 's'}`;
      out.push(`  ${g.field}: ${g.reason} — ${rows}${shown.length > 0 ? `: ${shown.join(', ')}${more}` : ''}`);
    }
  };
  groups('Rejected rows by field:', report.rejections);
  groups('Warnings by field:', report.warnings);
  if (report.missingColumns.length > 0) {
    out.push('', 'Mapped fields the file has no column for (left empty):');
    for (const m of report.missingColumns) out.push(`  ${m.field}: ${m.columns.join(' or ')}`);
  }
  if (report.stopped) out.push('', `Stopped early: ${report.stopped.code}: ${report.stopped.message}`);
  return out.join('\n');
}
