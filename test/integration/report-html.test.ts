/**
 * The HTML report in a real browser: headless Chromium (Debian's package, installed when
 * missing) renders the page built from a busy day's figures; the screenshot must show
 * every chart's colours, and the rendered DOM must hold the four charts with drawn shapes.
 * Skipped, saying why, when Chromium cannot be had. Lives in the integration project: it
 * may spend a minute installing Chromium on a fresh machine, and needs no stack.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildReport, renderHtml } from '#lib/report';
import { CHART_COLORS } from '#lib/report/render/html.ts';
import { ensureChromium, headlessFlags } from '#test/support/chromium.ts';
import { countColor, decodePng, type Png } from '#test/support/png.ts';
import { busyDay, queue, WINDOW } from '#test/unit/lib/report/fixtures.ts';

const run = promisify(execFile);
const chromium = await ensureChromium();
const skipReason = 'reason' in chromium ? chromium.reason : undefined;

describe.skipIf(skipReason !== undefined)(`the HTML report in headless Chromium${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let folder: string;
  let screenshot: Png;
  let dom: string;

  beforeAll(async () => {
    // Prepare
    const binary = (chromium as { path: string }).path;
    folder = await mkdtemp(join(tmpdir(), 'report-html-'));
    const report = buildReport({ window: WINDOW, stage: 'prod', source: 'fixture', generatedAt: WINDOW.end, fetch: { series: busyDay(), warnings: [] }, queue: queue({ backlog: 3, dlqDepth: 2, dlqFailureCodes: { VALIDATION_ERROR: 2 } }) });
    const page = join(folder, 'report.html');
    await writeFile(page, renderHtml(report));
    const url = pathToFileURL(page).href;

    // Act: a phone-sized page is tall; take it whole.
    await run(binary, [...headlessFlags(join(folder, 'profile-shot')), '--window-size=480,3400', `--screenshot=${join(folder, 'shot.png')}`, url], { timeout: 60_000 });
    dom = (await run(binary, [...headlessFlags(join(folder, 'profile-dom')), '--dump-dom', url], { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 })).stdout;
    screenshot = decodePng(await readFile(join(folder, 'shot.png')));
  }, 120_000);

  afterAll(async () => {
    if (folder) await rm(folder, { recursive: true, force: true });
  });

  it('renders the four charts with their shapes', () => {
    // Assess
    for (const id of ['prefill-start-rate', 'prefill-latency', 'crm-throughput', 'queue-backlog']) {
      const figure = new RegExp(`<figure class="chart" data-chart="${id}" data-has-data="true">[\\s\\S]*?</figure>`).exec(dom)?.[0] ?? '';
      expect(figure, id).toMatch(/<svg[^>]*viewBox="0 0 640 240"/);
      expect(figure.match(/<(polyline|rect|circle)\b/g)?.length ?? 0, id).toBeGreaterThan(0);
    }
  });

  it('paints every chart series: each colour shows in the screenshot', () => {
    // Assess
    expect(screenshot.width).toBe(480);
    for (const [series, color] of Object.entries(CHART_COLORS)) {
      expect(countColor(screenshot, color), `${series} (${color})`).toBeGreaterThan(20);
    }
  });

  it('fits a phone screen: no chart wider than the viewport', () => {
    // The right edge column of the screenshot is page background, not a cut chart.
    let chartPixelsOnEdge = 0;
    for (let y = 0; y < screenshot.height; y += 1) {
      const i = (y * screenshot.width + screenshot.width - 1) * 4;
      const [r, g, b] = [screenshot.rgba[i]!, screenshot.rgba[i + 1]!, screenshot.rgba[i + 2]!];
      if (Object.values(CHART_COLORS).some((c) => Math.abs(parseInt(c.slice(1, 3), 16) - r) < 6 && Math.abs(parseInt(c.slice(3, 5), 16) - g) < 6 && Math.abs(parseInt(c.slice(5, 7), 16) - b) < 6)) chartPixelsOnEdge += 1;
    }
    expect(chartPixelsOnEdge).toBe(0);
  });
});
