/** The header of bench/RESULTS.md: which machine, runtime and date the numbers come from. */
import os from 'node:os';

/** One Markdown paragraph naming CPU, cores, memory, Node version, platform and date. */
export function machineSection(date: Date = new Date()): string {
  const cpus = os.cpus();
  const model = cpus[0]?.model.trim() ?? 'unknown CPU';
  const memoryGiB = (os.totalmem() / 1024 ** 3).toFixed(1);
  return [
    `- Machine: ${model}, ${cpus.length} cores, ${memoryGiB} GiB memory`,
    `- Runtime: Node ${process.version}, ${os.platform()} ${os.release()} (${os.arch()})`,
    `- Date: ${date.toISOString()}`,
  ].join('\n');
}
