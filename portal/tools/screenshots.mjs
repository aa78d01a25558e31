// Screenshots of each role's page from a running app (./scripts/run.sh, then ./scripts/demo.sh) for the README:
//   node portal/tools/screenshots.mjs http://127.0.0.1:7071 YEAR UNIT_USCC VERIFIER_USCC DISTRICT OUT_DIR
// Uses the playwright-core that Microsoft.Playwright ships (restored by the test project's build) and Debian's chromium.
import { createRequire } from "node:module";
import { join } from "node:path";

const [url, year, unit, verifier, district, out] = process.argv.slice(2);
if (!out) throw new Error("usage: node portal/tools/screenshots.mjs URL YEAR UNIT VERIFIER DISTRICT OUT_DIR");
const require = createRequire(import.meta.url);
const { chromium } = require(new URL("../../tests/BeijingEts.Functions.Tests/bin/Debug/net10.0/.playwright/package/index.js", import.meta.url).pathname);

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium", args: ["--no-sandbox"] });
async function shoot(name, role, scope, page, prepare, width = 1280, height = 860, fullPage = false) {
  const context = await browser.newContext({ baseURL: url, viewport: { width, height }, locale: "zh-CN", timezoneId: "Asia/Shanghai" });
  const tab = await context.newPage();
  await tab.goto("/");
  await tab.evaluate(y => sessionStorage.setItem("ets.year", y), year);
  await tab.selectOption("#signin-role", role);
  if (scope) await tab.fill("#signin-scope", scope);
  await tab.click("#signin-submit");
  await tab.locator("#nav a").first().waitFor();
  await tab.goto(`/#/${page}`);
  await tab.locator(`section.page[data-page='${page}']`).waitFor();
  if (prepare) await prepare(tab);
  await tab.waitForLoadState("networkidle");
  await tab.screenshot({ path: join(out, `${name}.png`), fullPage });
  await context.close();
}

await shoot("regulator", "regulator", null, "dashboard", t => t.locator("[data-chart='compliance-industry'][data-ready='true']").waitFor());
await shoot("district", "district", district, "checks", async t => { await t.locator("tr.clickable").first().click(); await t.locator("#check-detail h2").waitFor(); }, 1280, 860, true);
await shoot("unit", "unit", unit, "report", t => t.locator("#calculation[data-state='current']").waitFor());
await shoot("verifier", "verifier", verifier, "engagements", t => t.locator("[data-status]").first().waitFor());
await shoot("unit-phone", "unit", unit, "allocation", t => t.locator("[data-section='allocation'] h2").waitFor(), 390, 844);
await browser.close();
