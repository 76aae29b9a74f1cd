/**
 * Runs dependency-cruiser over a source tree with the repository's one rule file
 * (.dependency-cruiser.cjs, also read by `npm run structure`) and sorts what it
 * finds by rule, so a test can both assert and print it.
 */
import { cruise, type ICruiseResult, type IViolation } from 'dependency-cruiser';
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options';
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file runs from dist/test/helpers). */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const RULES_FILE = join(ROOT, '.dependency-cruiser.cjs');

/** Every folder of TypeScript the rules cover; the rule file's includeOnly says the same. */
export const SOURCE_FOLDERS = ['core', 'plugins', 'harness', 'scripts', 'bench', 'test', 'examples'];

/** The rule names in .dependency-cruiser.cjs, each with the words the summary line uses. */
export const RULES = {
  'no-cycle': 'cycles',
  'no-cross-plugin': 'cross-plugin imports',
  'no-core-to-plugin': 'core->plugin imports',
  'no-scripts-to-test': 'scripts->test imports',
} as const;
export type RuleName = keyof typeof RULES;

export interface StructureReport {
  modules: number;
  /** Each cycle once, as its modules in the order of the import chain starting from the smallest name. */
  cycles: string[][];
  /** "from -> to" per violated import, by rule; cycles are listed in `cycles` instead. */
  imports: Record<Exclude<RuleName, 'no-cycle'>, string[]>;
  /** Violations of a rule this helper does not know: a renamed rule must not go uncounted. */
  other: string[];
}

/** Cruises `root` (a checkout, or a fixture tree with a tsconfig.json) with the repository's rules. */
export async function checkStructure(root: string): Promise<StructureReport> {
  const options = await extractDepcruiseOptions(RULES_FILE);
  // Paths in rules and results are relative to baseDir; the tsconfig is the one of the tree cruised.
  const tsConfigFile = join(root, 'tsconfig.json');
  const folders = SOURCE_FOLDERS.filter((f) => existsSync(join(root, f)));
  const { output } = await cruise(
    folders,
    { ...options, baseDir: root, tsConfig: { fileName: tsConfigFile } },
    {},
    { tsConfig: extractTSConfig(tsConfigFile) },
  );
  return sortViolations(output as ICruiseResult);
}

function sortViolations(result: ICruiseResult): StructureReport {
  const report: StructureReport = {
    modules: result.summary.totalCruised,
    cycles: [],
    imports: { 'no-cross-plugin': [], 'no-core-to-plugin': [], 'no-scripts-to-test': [] },
    other: [],
  };
  const seenCycles = new Set<string>();
  for (const v of result.summary.violations) {
    const rule = v.rule.name;
    if (rule === 'no-cycle') {
      const cycle = cycleOf(v);
      const key = [...cycle].sort().join(' ');
      if (!seenCycles.has(key)) report.cycles.push(cycle);
      seenCycles.add(key);
    } else if (rule in report.imports) {
      report.imports[rule as keyof StructureReport['imports']].push(`${v.from} -> ${v.to}`);
    } else {
      report.other.push(`${rule}: ${v.from} -> ${v.to}`);
    }
  }
  return report;
}

/** depcruise reports a cycle once per module it meets it from; rotate it to a stable start so duplicates compare equal. */
function cycleOf(v: IViolation): string[] {
  const chain = (v.cycle ?? []).map((step) => step.name);
  if (!chain.includes(v.from)) chain.unshift(v.from);
  const start = chain.indexOf([...chain].sort()[0]!);
  return [...chain.slice(start), ...chain.slice(0, start)];
}

/** The line `npm test` prints, e.g. "structure: 178 modules, 0 cycles, 0 cross-plugin imports, ...". */
export function summaryLine(report: StructureReport): string {
  const counts = (Object.keys(RULES) as RuleName[]).map((rule) => {
    const n = rule === 'no-cycle' ? report.cycles.length : report.imports[rule].length;
    return `${n} ${RULES[rule]}`;
  });
  if (report.other.length > 0) counts.push(`${report.other.length} other violations`);
  return `structure: ${report.modules} modules, ${counts.join(', ')}`;
}

/** Every violation as one readable line, for an assertion message. */
export function violationLines(report: StructureReport): string[] {
  return [
    ...report.cycles.map((c) => `cycle: ${[...c, c[0]].join(' -> ')}`),
    ...Object.entries(report.imports).flatMap(([rule, edges]) => edges.map((e) => `${rule}: ${e}`)),
    ...report.other,
  ];
}
