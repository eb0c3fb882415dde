/**
 * Proves the workbook hangs together: every manifest exercise has its chapter section, stub, solution,
 * grading suite and at least two known-wrong variants; every suite, stub and chapter belongs to the
 * manifest; every relative link in a chapter points at a file that exists.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import MarkdownIt from 'markdown-it';
import { WORKBOOK_ROOT, type Manifest } from './manifest';
import { loadCatalogue } from './catalogue';
import { checkContract } from './contract';
import { VARIANT_MARKS, variantsOf, type VariantKind } from './variants';

/** Known-wrong and known-right variants each exercise needs at least. */
const MIN_VARIANTS: Record<VariantKind, number> = { wrong: 2, right: 1 };
/**
 * Exercises whose clause-to-test table and known-right variants are still to be written: they need neither
 * yet. Every other exercise must have both. An exercise leaves this list when its table is complete.
 */
const CONTRACTS_PENDING = new Set([
  '01-why-concurrency/concurrent-server',
  '01-why-concurrency/offload-cpu',
  '02-processes/process-pool',
  '02-processes/run-command',
  '02-processes/timeout-kill',
  '03-fork/copy-not-share',
  '03-fork/fork-join',
  '03-fork/returns-twice',
  '04-ipc/backpressure-pipe',
  '04-ipc/frame-decoder',
  '04-ipc/rpc-over-ipc',
  '05-threads/parallel-sum',
  '05-threads/transfer',
  '05-threads/worker-pool',
  '06-processes-vs-threads/isolate',
  '06-processes-vs-threads/supervisor',
  '06-processes-vs-threads/which-survives',
  '07-races-and-atomics/atomic-update',
  '07-races-and-atomics/counter',
  '07-races-and-atomics/spinlock',
  '08-locks-and-conditions/barrier',
  '08-locks-and-conditions/mutex',
  '08-locks-and-conditions/ring-buffer',
  '08-locks-and-conditions/semaphore',
  '09-classic-problems-and-deadlock/async-mutex',
  '09-classic-problems-and-deadlock/lock-file',
  '09-classic-problems-and-deadlock/transfers',
]);
const markdown = new MarkdownIt();

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)))
    .sort();
}

function subdirs(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((name) => statSync(path.join(dir, name)).isDirectory());
}

interface ChapterOutline {
  /** Heading text → the relative links found in that heading's section. */
  sections: Map<string, string[]>;
  links: string[];
}

/** Headings and relative links of a chapter, read with markdown-it. */
export function outlineChapter(source: string): ChapterOutline {
  const tokens = markdown.parse(source, {});
  const sections = new Map<string, string[]>();
  const links: string[] = [];
  let current: string[] | undefined;
  tokens.forEach((token, index) => {
    if (token.type === 'heading_open') {
      current = [];
      sections.set(tokens[index + 1]!.content.trim(), current);
    }
    for (const child of token.children ?? []) {
      const href = child.type === 'link_open' ? String(child.attrGet('href') ?? '') : '';
      if (href && !/^[a-z]+:/i.test(href) && !href.startsWith('#')) {
        links.push(href);
        current?.push(href);
      }
    }
  });
  return { sections, links };
}

export function checkConsistency(manifest: Manifest, root = WORKBOOK_ROOT): string[] {
  const problems: string[] = [];
  const rel = (...parts: string[]): string => path.join(...parts);

  for (const chapter of manifest.chapters) {
    const chapterFile = rel('chapters', `${chapter.id}.md`);
    if (!existsSync(path.join(root, chapterFile))) {
      problems.push(`${chapterFile}: missing (chapter "${chapter.id}" is in workbook.json)`);
      continue;
    }
    const outline = outlineChapter(readFileSync(path.join(root, chapterFile), 'utf8'));
    for (const href of outline.links) {
      const target = decodeURIComponent(href.split('#')[0]!);
      if (target && !existsSync(path.resolve(root, 'chapters', target))) {
        problems.push(`${chapterFile}: link to ${href} points at nothing`);
      }
    }
    for (const exercise of chapter.exercises) {
      const heading = `Exercise: ${exercise.name}`;
      const links = [...outline.sections].find(([text]) => text.replace(/`/g, '') === heading)?.[1];
      if (!links) problems.push(`${chapterFile}: no section headed "${heading}"`);
      else if (!links.some((href) => href.includes(`exercises/${exercise.id}`))) {
        problems.push(`${chapterFile}: section "${heading}" does not link to ../exercises/${exercise.id}/`);
      }
    }
  }

  const catalogue = loadCatalogue(path.join(root, 'tests', 'catalogue.json'));
  for (const exercise of manifest.exercises) {
    const stubFiles = filesUnder(path.join(root, 'exercises', exercise.id));
    const solutionFiles = filesUnder(path.join(root, 'solutions', exercise.id));
    if (!stubFiles.includes('index.ts')) problems.push(`exercises/${exercise.id}/index.ts: missing stub`);
    if (!solutionFiles.includes('index.ts')) problems.push(`solutions/${exercise.id}/index.ts: missing solution`);
    for (const file of stubFiles.filter((f) => !solutionFiles.includes(f))) {
      problems.push(`exercises/${exercise.id}/${file}: no matching file in solutions/`);
    }
    for (const file of solutionFiles.filter((f) => !stubFiles.includes(f))) {
      problems.push(`solutions/${exercise.id}/${file}: no matching file in exercises/`);
    }
    const suites = readdirIfAny(path.join(root, 'tests', exercise.id)).filter((name) => name.endsWith('.test.ts'));
    if (suites.length !== 1) {
      problems.push(`tests/${exercise.id}/: expected exactly one *.test.ts grading suite, found ${suites.length}`);
    }
    const pending = CONTRACTS_PENDING.has(exercise.id);
    for (const kind of ['wrong', 'right'] as const) {
      const variants = variantsOf(exercise.id, root, kind);
      const needed = kind === 'right' && pending ? 0 : MIN_VARIANTS[kind];
      if (variants.length < needed) {
        problems.push(
          `tests/${exercise.id}/${kind}/: ${variants.length} known-${kind} variant(s), at least ${needed} needed`,
        );
      }
      for (const variant of variants) {
        const overlay = filesUnder(variant.dir);
        const where = `tests/${exercise.id}/${kind}/${variant.name}`;
        if (overlay.length === 0) problems.push(`${where}: empty`);
        for (const file of overlay.filter((f) => !solutionFiles.includes(f))) {
          problems.push(`${where}/${file}: overlays no file of the solution`);
        }
        const mark = VARIANT_MARKS[kind];
        if (!overlay.some((file) => readFileSync(path.join(variant.dir, file), 'utf8').includes(mark))) {
          problems.push(
            `${where}: no "${mark}" comment ${kind === 'wrong' ? 'naming the mistake' : 'naming the design'}`,
          );
        }
      }
    }
    const contractFile = path.join(root, 'tests', exercise.id, 'contract.md');
    if (existsSync(contractFile) || !pending) {
      const stub = stubFiles.map((file) => readFileSync(path.join(root, 'exercises', exercise.id, file), 'utf8'));
      problems.push(...checkContract(exercise.id, stub, contractFile, catalogue[exercise.id] ?? []));
    }
  }

  const known = new Set(manifest.exercises.map((exercise) => exercise.id));
  const chapters = new Set(manifest.chapters.map((chapter) => chapter.id));
  for (const tree of ['exercises', 'solutions', 'tests']) {
    for (const chapter of subdirs(path.join(root, tree))) {
      if (tree === 'tests' && chapter === 'support') continue;
      if (!chapters.has(chapter)) problems.push(`${tree}/${chapter}/: not a chapter in workbook.json`);
      for (const name of subdirs(path.join(root, tree, chapter))) {
        if (!known.has(`${chapter}/${name}`))
          problems.push(`${tree}/${chapter}/${name}/: not an exercise in workbook.json`);
      }
    }
  }
  for (const file of readdirIfAny(path.join(root, 'chapters')).filter((name) => name.endsWith('.md'))) {
    if (!chapters.has(file.replace(/\.md$/, ''))) problems.push(`chapters/${file}: not a chapter in workbook.json`);
  }
  return problems;
}

function readdirIfAny(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir) : [];
}
