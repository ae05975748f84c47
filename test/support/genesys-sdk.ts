/**
 * The official Genesys Cloud SDK (`purecloud-platform-client-v2`, generated from Genesys's
 * API definition) as an oracle for tests: every endpoint it can call, by function name.
 * Read from the SDK's sources, so a new SDK version brings its own answer.
 */
import { readdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** One SDK endpoint: the API class's function, its method and path template. */
export interface SdkEndpoint {
  api: string;
  fn: string;
  method: string;
  path: string;
}

/** Every endpoint of the installed SDK (about 3,500). */
export async function sdkEndpoints(): Promise<SdkEndpoint[]> {
  const packageJson = createRequire(import.meta.url).resolve('purecloud-platform-client-v2/package.json');
  const apiDir = join(dirname(packageJson), 'src', 'purecloud-platform-client-v2', 'api');
  const endpoints: SdkEndpoint[] = [];
  for (const file of (await readdir(apiDir)).filter((name) => name.endsWith('Api.js'))) {
    const source = await readFile(join(apiDir, file), 'utf8');
    // Each operation: `name(args) { ... return this.apiClient.callApi(\n '<path>', \n '<METHOD>', ...`
    const pattern = /^\t([A-Za-z0-9]+)\([^)]*\)\s*\{[\s\S]*?callApi\(\s*'([^']+)',\s*'([A-Z]+)'/gm;
    for (const match of source.matchAll(pattern)) {
      endpoints.push({ api: file.replace(/\.js$/, ''), fn: match[1] as string, path: match[2] as string, method: match[3] as string });
    }
  }
  return endpoints;
}
