// A check by hand, in a real VS Code, of the installed .vsix (not part of `npm test`:
// it needs code-server and Chromium, see README.md beside this file).
//
//   node code-server-check.js http://127.0.0.1:8123 /path/to/repo
//
// The repository's HEAD must carry one poison whose cure is on another branch, in app.py.
// Prints what the editor shows and writes screenshots to ./shots/.
const fs = require('fs');
const puppeteer = require('puppeteer-core');

const [url, folder] = process.argv.slice(2);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function texts(page, selector) {
    return page.$$eval(selector, (els) => els.map((e) => e.getAttribute('aria-label') || e.textContent));
}

(async () => {
    fs.mkdirSync('shots', { recursive: true });
    const browser = await puppeteer.launch({
        executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
        headless: true,
        args: ['--no-sandbox', '--disable-gpu', '--window-size=1400,900'],
    });
    const page = await browser.newPage();
    await page.setViewport({ width: 1400, height: 900 });
    await page.goto(`${url}/?folder=${folder}`, { waitUntil: 'domcontentloaded' });
    await sleep(10000);
    console.log('status before a file is open:', (await texts(page, '.statusbar-item')).filter((s) => s.includes('git-poison')));

    await page.keyboard.down('Control'); await page.keyboard.press('KeyP'); await page.keyboard.up('Control');
    await sleep(1500); await page.keyboard.type('app.py'); await sleep(1500); await page.keyboard.press('Enter');
    await sleep(6000);
    console.log('squiggles:', (await page.$$('.squiggly-warning')).length);
    console.log('status:', (await texts(page, '.statusbar-item')).filter((s) => s.includes('git-poison')));

    const line = (await page.$$('.view-line'))[1];
    const box = await line.boundingBox();
    await page.mouse.move(box.x + 60, box.y + box.height / 2);
    await sleep(3000);
    await page.screenshot({ path: 'shots/1-hover.png' });
    console.log('hover:', (await texts(page, '.monaco-hover-content')).join(' ').slice(0, 300));

    for (const item of await page.$$('.statusbar-item')) {
        if ((await item.evaluate((e) => e.getAttribute('aria-label') || '')).includes('uncured')) {
            await ((await item.$('a')) ?? item).click();
            break;
        }
    }
    await sleep(4000);
    await page.screenshot({ path: 'shots/2-status-click.png' });
    console.log('status click lists:', await texts(page, '.quick-input-list .monaco-list-row'));
    await page.keyboard.press('Escape');

    await page.mouse.click(box.x + 40, box.y + box.height / 2, { button: 'right' });
    await sleep(2000);
    await page.screenshot({ path: 'shots/3-context-menu.png' });
    const menu = await page.evaluate(() => {
        const out = [];
        const walk = (root) => root.querySelectorAll('*').forEach((e) => {
            if (e.shadowRoot) walk(e.shadowRoot);
            if (e.classList?.contains('action-label') && e.textContent) out.push(e.textContent);
        });
        walk(document);
        return out;
    });
    console.log('context menu:', menu.filter((m) => /poison|cure|branch|Sync/i.test(m)));
    await page.keyboard.press('Escape');

    await page.keyboard.down('Control'); await page.keyboard.down('Shift'); await page.keyboard.press('KeyP');
    await page.keyboard.up('Shift'); await page.keyboard.up('Control'); await sleep(1500);
    await page.keyboard.type('git-poison: Cherry-pick missing cure'); await sleep(1500);
    await page.keyboard.press('Enter'); await sleep(4000);
    console.log('cures offered:', await texts(page, '.quick-input-list .monaco-list-row'));
    await page.keyboard.press('Enter'); await sleep(4000);
    await page.screenshot({ path: 'shots/4-confirm.png' });
    for (const button of await page.$$('.notification-list-item .monaco-button')) {
        if ((await button.evaluate((e) => e.textContent)) === 'Cherry-pick') {
            await button.click();
            console.log('confirmed the cherry-pick');
            break;
        }
    }
    await sleep(6000);
    console.log('status after:', (await texts(page, '.statusbar-item')).filter((s) => s.includes('git-poison')));
    await browser.close();
})().catch((e) => {
    console.error(e);
    process.exit(1);
});
