// The README's DevTools screenshot (docs/devtools-leak.png): Chromium's own
// DevTools front end, headless, loads a store snapshot in its Memory panel.
//   apt-get install chromium && npm install --no-save playwright-core
//   node --expose-gc examples/leak-hunt.js --keep   # writes leak.heapsnapshot
//   node ci/devtools-screenshot.mjs leak.heapsnapshot docs/devtools-leak.png
import { chromium } from 'playwright-core'

const [file, png] = process.argv.slice(2)
const port = 9333
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', `--remote-debugging-port=${port}`, '--remote-allow-origins=*'],
})
try {
  const ctx = await browser.newContext({ viewport: { width: 1400, height: 800 } })
  const page = await ctx.newPage()
  await page.goto('about:blank')
  const targets = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()
  const target = targets.find((t) => t.type === 'page')
  const devtools = await ctx.newPage()
  await devtools.goto(`devtools://devtools/bundled/devtools_app.html?ws=127.0.0.1:${port}/devtools/page/${target.id}&panel=heap-profiler`)
  await devtools.waitForTimeout(2500)
  const [chooser] = await Promise.all([devtools.waitForEvent('filechooser'), devtools.getByText('Load profile').click()])
  await chooser.setFiles(file)
  await devtools.waitForTimeout(3000)
  await devtools.getByRole('treeitem').filter({ hasText: /kB|MB/ }).first().click()
  await devtools.waitForTimeout(3000)
  // Expand the Profile class and select an instance: its Retainers show below.
  await devtools.locator('td', { hasText: /^Profile/ }).first().click()
  await devtools.keyboard.press('ArrowRight')
  await devtools.waitForTimeout(800)
  await devtools.keyboard.press('ArrowDown')
  await devtools.waitForTimeout(2500)
  await devtools.screenshot({ path: png })
} finally {
  await browser.close()
}
