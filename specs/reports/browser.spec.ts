// The HTML report in a real browser: Debian's Chromium (/usr/bin/chromium), driven by playwright-core, opens the page
// that --html wrote for a small run on two workers (one test ends its own backend, so its worker's connection is
// rebuilt; one fails an assertion with a known message) and does what a reader does: looks at the lanes, clicks the
// failed test and the rebuild marker, ticks a filter. The page must say nothing on the console, throw nothing and
// ask for nothing over the network; a screenshot is left in .artifacts/ for a person to look at.
// Without Chromium the spec says what to install: it fails under CI=true (.ci/run installs it) and is pending
// elsewhere, so `npm test` on a machine with only Node.js and npm stays green.
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import { REPO, fixture, runCli } from '../helpers/fixture.js';
import type { CliResult, Fixture } from '../helpers/fixture.js';
import { loadRecord } from '../flaky/lastrun.js';
import type { RunRecord } from '../../src/plan/record.js';

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT = path.join(REPO, '.artifacts', 'report.png');
const MISSING = `the HTML report's browser check needs Debian's Chromium at ${CHROMIUM}, which is not installed: run ` +
  '"apt-get install chromium" as root, or scripts/install-chromium.sh (.ci/run runs it)';
const KNOWN = 'AssertionError: the known answer: expected 42 to equal 41';

const SUITE: Record<string, string> = {
  'test/connection.spec.js': `import { db } from 'bulkhead';

describe('connection', function () {
  it('reads a row', async function () {
    await (await db()).query('SELECT 1');
  });
  it('ends its own backend', async function () {
    await (await db()).query('SELECT pg_terminate_backend(pg_backend_pid())');
  });
  it('reads again on a fresh connection', async function () {
    await (await db()).query('SELECT 1');
  });
});
`,
  // The failing test lasts 100 ms, so its bar is drawn on its own (thinner ones fold into an aggregate) and a
  // click at its centre lands on it.
  'test/answers.spec.js': `import { db } from 'bulkhead';
import { expect } from 'chai';

describe('answers', function () {
  it('adds', function () {
    expect(1 + 1).to.equal(2);
  });
  it('gets the known answer wrong', async function () {
    const { rows } = await (await db()).query('SELECT 6 * 7 AS answer, pg_sleep(0.1)');
    expect(rows[0].answer, 'the known answer').to.equal(41);
  });
});
`,
};

const onCi = (): boolean => process.env['CI'] === 'true' || process.env['CI'] === '1';

describe('reports: the HTML report in headless Chromium', function () {
  let fx: Fixture;
  let run: CliResult;
  let record: RunRecord;
  let browser: Browser | undefined;
  let page: Page;
  const problems: string[] = [];
  const requests: string[] = [];
  let url: string;

  before(async function () {
    if (!existsSync(CHROMIUM)) {
      if (onCi()) throw new Error(MISSING);
      console.warn(`\n    pending: ${MISSING}\n`);
      this.skip();
    }
    fx = fixture(SUITE);
    run = await runCli(['-w', '2', '--html', 'report.html'], { cwd: fx.dir });
    record = loadRecord(fx.dir);
    const { chromium } = await import('playwright-core');
    // As root Chromium refuses to start with its sandbox; the page is our own file, so none is needed.
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
    // A locator that finds nothing should fail the test in seconds, not at playwright's 30 s.
    page.setDefaultTimeout(5000);
    page.on('console', (m) => void (m.type() === 'error' && problems.push(`console: ${m.text()}`)));
    page.on('pageerror', (e) => void problems.push(`page error: ${e.message}`));
    page.on('request', (r) => void requests.push(r.url()));
    url = pathToFileURL(path.join(fx.dir, 'report.html')).href;
    await page.goto(url);
  });

  after(async function () {
    await browser?.close();
    fx?.remove();
  });

  /** The details panel once it shows `expected` (a click's result), whole, or what it shows instead. */
  async function detailsWith(expected: string): Promise<string> {
    const details = page.locator('#details');
    await details.filter({ hasText: expected }).waitFor().catch(() => undefined);
    return (await details.textContent()) ?? '';
  }

  it('the run it draws: exit 1, one rebuild, two failures', function () {
    expect(run.code, run.output).to.equal(1);
    expect(record.outcome).to.include({ passed: 3, failed: 2 });
    expect(record.rebuilds.map((r) => [r.culprit.title, r.sqlstate])).to.deep.equal([['connection ends its own backend', '57P01']]);
  });

  it('one lane per worker slot, each drawn with its label and its bars', async function () {
    const lanes = page.locator('svg#timeline g.lane');
    expect(await lanes.count()).to.equal(2);
    expect(await lanes.locator('text.label').allTextContents()).to.deep.equal(['w1', 'w2']);
    for (const slot of [1, 2]) {
      const lane = page.locator(`g.lane[data-slot="${slot}"]`);
      const box = await lane.boundingBox();
      expect(box?.width ?? 0, `lane w${slot}`).to.be.greaterThan(100);
      const ran = record.slots.find((s) => s.slot === slot)?.files.flatMap((f) => f.tests) ?? [];
      if (ran.length > 0) expect(await lane.locator('rect.bar').first().isVisible(), `a bar in lane w${slot}`).to.equal(true);
    }
  });

  it('the rebuild marker on the lane that rebuilt; a click names the test that broke the connection', async function () {
    const slot = record.rebuilds[0]?.slot;
    const marker = page.locator(`g.lane[data-slot="${slot}"] polygon.marker.rebuild`);
    expect(await page.locator('polygon.marker.rebuild').count()).to.equal(1);
    expect(await marker.isVisible()).to.equal(true);
    await marker.click();
    const text = await detailsWith('The test that left it broken');
    expect(text).to.match(new RegExp(`^connection 1 rebuilt at \\d+ ms on w${slot}\\n`)).and.include('57P01').and.include('The test that left it broken: connection ends its own backend');
  });

  it('a click on the failed test\'s bar shows its error in the details panel and selects the bar', async function () {
    const bars = (await page.evaluate(() => JSON.parse(document.getElementById('bulkhead-data')?.textContent ?? 'null'))) as { bars: { title: string }[] };
    const index = bars.bars.findIndex((b) => b.title === 'answers gets the known answer wrong');
    const bar = page.locator(`rect.bar.failed[data-bar="${index}"]`);
    await bar.click();
    const text = await detailsWith(KNOWN);
    expect(text).to.match(/^answers gets the known answer wrong\ntest\/answers\.spec\.js:8\nstate: failed\n/).and.include(KNOWN).and.include('- expected: 41\n+ actual:   42');
    expect(await bar.getAttribute('class')).to.equal('bar failed selected');
    mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    rmSync(SCREENSHOT, { force: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    console.log(`      screenshot: ${path.relative(process.cwd(), SCREENSHOT)}`);
    expect(readFileSync(SCREENSHOT).subarray(1, 4).toString()).to.equal('PNG');
  });

  it('the "failed" filter leaves only the failures listed and dims every bar without a failure', async function () {
    await page.locator('input[data-filter="failed"]').check();
    expect(await page.locator('#tests li:visible').evaluateAll((lis) => lis.map((li) => li.getAttribute('data-kind')))).to.deep.equal(['failed', 'failed']);
    // Thin neighbours may be folded into one aggregate bar, so the bars are judged by what they hold, not counted.
    const bars = await page.locator('rect.bar').evaluateAll((rs) => rs.map((r) => ({ kinds: r.getAttribute('data-kinds') ?? '', dim: r.classList.contains('dim') })));
    expect(bars.filter((b) => b.dim)).to.not.be.empty;
    for (const b of bars) expect(b.dim, b.kinds).to.equal(!b.kinds.split(' ').includes('failed'));
  });

  it('no console error, no page error, no request beyond the file itself', function () {
    expect(problems).to.deep.equal([]);
    expect(requests).to.deep.equal([url]);
  });
});
