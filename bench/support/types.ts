/** What bench/run.ts gives each benchmark and expects back. */

/** Shared context of one `npm run bench`. */
export interface BenchContext {
  /** The project root (the folder holding serverless.yml and package.json). */
  projectRoot: string;
  /** A progress line on stderr (stdout carries only the Markdown document). */
  progress(message: string): void;
}

/** One benchmark: a name for progress output and a run returning one Markdown section. */
export interface Benchmark {
  name: string;
  run(context: BenchContext): Promise<string>;
}
