// The app in Debian's Chromium (playwright-core): every section loads without console errors, the confidence
// slider drives the API, time travel shows an earlier version, data is printed as text, and a transform that
// fails in the middle leaves the page on the previous run, saying where and why the later one failed. With
// UPDATE_SCREENSHOTS=1 it also writes docs/screenshots/<section>.png. The rules explorer: e2e-rules.test.ts.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { databricksSource, localSource, startApp } from '../../app/server.ts';
import type { RunningApp } from '../../app/server.ts';
import type { RulesPage, TableRows } from '../../app/types.ts';
import { needsChromium, repoRoot } from '../helpers/services.ts';
import { HOSTILE_ITEM } from './fixture.ts';
import { lakehouse } from '../helpers/cli.ts';
import {
  addItemToSample,
  launchChromium,
  openPage,
  runSamplePipeline,
  sectionReady,
  startWarehouse,
  WAREHOUSE_TOKEN,
} from './helpers.ts';
import type { PipelineOutput } from './helpers.ts';

const chromiumOk = await needsChromium();
const screenshots = process.env.UPDATE_SCREENSHOTS === '1';
const screenshotDir = path.join(repoRoot, 'docs/screenshots');
const SECTIONS = ['overview', 'rules', 'sales', 'items', 'data'] as const;

describe.skipIf(!chromiumOk)('the app in Chromium', () => {
  let app: RunningApp;
  let browser: Awaited<ReturnType<typeof launchChromium>>;
  let deltaRoot: string;
  let project: PipelineOutput;

  beforeAll(async () => {
    // The pipeline on the sample of lakehouse.yml, as `npm start` runs it.
    project = await runSamplePipeline(40_000);
    deltaRoot = project.deltaRoot;
    app = await startApp({
      source: await localSource({ deltaRoot, manifestsDir: project.manifestsDir }),
      port: 0,
      versionCheckMs: 0,
    });
    browser = await launchChromium();
  });

  /** Runs the pipeline again with an item named <script>…: every table gets a new version. */
  let rerun: Promise<void> | undefined;
  const withHostileItem = () =>
    (rerun ??= (async () => {
      addItemToSample(project, HOSTILE_ITEM, 1500);
      await runSamplePipeline(0, project);
    })());

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  const open = (hash: string) => openPage(browser.context, `${app.url}/${hash}`);
  const ready = sectionReady;

  async function api<T>(p: string): Promise<T> {
    const body = (await (await fetch(app.url + p)).json()) as { data: T };
    return body.data;
  }

  test.each(SECTIONS)('the %s section loads without console errors', async (section) => {
    const { page, problems } = await open(`#/${section}`);
    try {
      await ready(page, section);
      await expect
        .poll(() => page.locator(`#section-${section} canvas, #section-${section} table`).count())
        .toBeGreaterThan(0);
      // Let the charts finish drawing before looking for errors (and before a screenshot).
      await page.waitForTimeout(600);
      expect(problems).toEqual([]);
      expect(await page.locator(`nav a[data-section="${section}"]`).getAttribute('aria-current')).toBe(
        'page',
      );
      if (screenshots) {
        fs.mkdirSync(screenshotDir, { recursive: true });
        await page.screenshot({ path: path.join(screenshotDir, `${section}.png`), fullPage: true });
      }
    } finally {
      await page.close();
    }
  });

  test('moving the confidence slider changes the rule count to what the API returns', async () => {
    const { page, problems } = await open('#/rules');
    try {
      await ready(page, 'rules');
      const count = page.getByTestId('rule-count');
      const before = Number(await count.getAttribute('data-total'));
      const all = await api<RulesPage>('/api/rules');
      expect(before).toBe(all.total);

      const slider = page.getByTestId('confidence-slider');
      await slider.focus();
      for (let i = 0; i < 15; i++) await page.keyboard.press('ArrowRight');
      expect(await slider.inputValue()).toBe('0.15');
      await expect.poll(() => count.getAttribute('data-query')).toContain('minConfidence=0.15');
      const expected = await api<RulesPage>(`/api/rules?${await count.getAttribute('data-query')}`);
      expect(expected.total).toBeLessThan(before);
      await expect.poll(() => count.textContent()).toBe(expected.total!.toLocaleString('en-US'));
      expect(problems).toEqual([]);
    } finally {
      await page.close();
    }
  });

  test('time travel shows the rows of an earlier version', async () => {
    await withHostileItem();
    const { page, problems } = await open('#/data/gold.item_popularity');
    try {
      await ready(page, 'data');
      await expect.poll(() => page.getByTestId('rows-caption').textContent()).toContain('Version 1 (latest)');
      const latest = await api<TableRows>('/api/tables/gold.item_popularity/rows?version=1&limit=25');
      const old = await api<TableRows>('/api/tables/gold.item_popularity/rows?version=0&limit=25');
      expect(old.rows).not.toEqual(latest.rows);
      await page.getByTestId('version-select').selectOption('0');
      await expect
        .poll(() => page.getByTestId('rows-caption').textContent())
        .toContain('Version 0 of 1 (time travel)');
      const shown = await page
        .locator('[data-testid="rows"] tbody tr')
        .evaluateAll((trs) =>
          trs.map((tr) => Array.from(tr.querySelectorAll('td')).map((td) => td.textContent)),
        );
      const item = old.columns.findIndex((c) => c.name === 'item');
      expect(shown.length).toBe(old.rows.length);
      expect(shown.map((r) => r[item])).toEqual(old.rows.map((r) => String(r[item])));
      expect(shown.flat()).not.toContain(HOSTILE_ITEM);
      expect(await page.getByTestId('history').locator('tbody tr').count()).toBe(2);
      if (screenshots) await page.screenshot({ path: path.join(screenshotDir, 'data-table.png') });
      expect(problems).toEqual([]);
    } finally {
      await page.close();
    }
  });

  test('an item named <script>… is shown as text and never runs', async () => {
    await withHostileItem();
    const { page, problems } = await open('#/items');
    try {
      await ready(page, 'items');
      const cells = await page.locator('[data-testid="top-items"] td').allTextContents();
      expect(cells).toContain(HOSTILE_ITEM);
      await page.goto(`${app.url}/#/rules`);
      await ready(page, 'rules');
      await page.getByTestId('item-input').fill('<script');
      await page.locator('#item-options [role="option"]').first().click();
      await expect
        .poll(() => page.getByTestId('rule-count').getAttribute('data-query'))
        .toContain('item=%3Cscript%3E');
      const ruleCells = await page.locator('[data-testid="rules-table"] tbody li').allTextContents();
      expect(ruleCells).toContain(HOSTILE_ITEM);
      // No script element came from the data, and no alert() ran.
      expect(await page.locator('main script').count()).toBe(0);
      expect(problems).toEqual([]);
    } finally {
      await page.close();
    }
  });

  test('when the warehouse is out of reach, a banner says the data is old and how old', async () => {
    const warehouse = await startWarehouse(deltaRoot);
    const remote = await startApp({
      source: databricksSource({
        host: warehouse.server.host,
        port: warehouse.server.port,
        httpPath: warehouse.server.path,
        token: WAREHOUSE_TOKEN,
        checkServerCertificate: false,
        queryTimeoutMs: 3000,
      }),
      port: 0,
      cacheTtlMs: 0,
      versionCheckMs: 0,
    });
    const page = await browser.context.newPage();
    try {
      await page.goto(`${remote.url}/#/items`);
      await ready(page, 'items');
      expect(await page.locator('#stale-banner').isHidden()).toBe(true);
      expect(await page.locator('#source-badge').textContent()).toBe('Databricks SQL warehouse');
      await warehouse.server.refuseConnections();
      await page.waitForTimeout(1100);
      await page.reload();
      await ready(page, 'items');
      const banner = page.locator('#stale-banner');
      await expect.poll(() => banner.isVisible()).toBe(true);
      expect(await banner.textContent()).toMatch(/out of reach: showing the last data read, \d+ s old/);
      // The last good data is still on the page.
      expect(await page.locator('[data-testid="top-items"] tbody tr').count()).toBe(20);
      if (screenshots) await page.screenshot({ path: path.join(screenshotDir, 'stale.png') });
    } finally {
      await page.close();
      await remote.close();
      await warehouse.close();
    }
  });

  test('a transform that fails in the middle: the page stays on the previous run and says where and why', async () => {
    await withHostileItem();
    // Notebook 01, then a notebook that writes a table and fails in its next cell.
    const broken = path.join(project.dir, '02_broken.sql');
    fs.writeFileSync(
      broken,
      [
        '-- Databricks notebook source',
        '-- DBTITLE 1,Calendar fields',
        'CREATE OR REPLACE TABLE silver.transactions_enriched AS SELECT *, 0 AS broken FROM silver.transactions;',
        '-- COMMAND ----------',
        '-- DBTITLE 1,A check that fails',
        "SELECT assert_true(1 = 0, 'planted failure');",
      ].join('\n'),
    );
    const notebook = path.join(repoRoot, 'notebooks/01_extract_clean.sql');
    const run = await lakehouse([
      '-c',
      project.config,
      'transform',
      '--notebook',
      notebook,
      '--notebook',
      broken,
    ]);
    expect(run.code).not.toBe(0);
    const { page, problems } = await open('#/overview');
    try {
      await ready(page, 'overview');
      const failed = page.getByTestId('run-failed');
      await expect.poll(() => failed.isVisible()).toBe(true);
      expect(await failed.textContent()).toMatch(
        /failed at 02_broken\.sql, cell \d+ “A check that fails”, line \d+: assertion failed: planted failure\. Its 7 new table versions are not shown\./,
      );
      expect(await page.getByTestId('run-served').textContent()).toMatch(/^Showing the tables of run local-/);
      // Every table is served at the version the previous run wrote; one has a newer one, which the broken notebook
      // wrote. Notebook 01 found no new object, so it committed no new silver.transactions or silver.baskets: its
      // writes are the incremental notebooks' work tables, which the page does not list.
      const versions = await page.locator('[data-testid="table-versions"] tbody tr').evaluateAll((trs) =>
        trs.map((tr) =>
          Array.from(tr.querySelectorAll('td'))
            .slice(0, 3)
            .map((td) => td.textContent),
        ),
      );
      expect(
        versions
          .filter(([, served, latest]) => Number(latest) > Number(served))
          .map(([name]) => name)
          .sort(),
      ).toEqual(['silver.transactions_enriched']);
      const [, served, latest] = versions.find(([name]) => name === 'silver.transactions_enriched')!;
      if (screenshots) await page.screenshot({ path: path.join(screenshotDir, 'failed-run.png') });
      await page.goto(`${app.url}/#/data/silver.transactions_enriched`);
      await ready(page, 'data');
      await expect
        .poll(() => page.getByTestId('rows-caption').textContent())
        .toContain(`Version ${served} (served; latest is ${latest})`);
      expect(await page.getByTestId('columns').locator('tbody tr').allTextContents()).not.toContain(
        expect.stringContaining('broken'),
      );
      expect(await page.getByTestId('history').locator('tbody tr').first().textContent()).toContain(
        '(failed)',
      );
      expect(problems).toEqual([]);
    } finally {
      await page.close();
    }
  });
});
