import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { repo } from './cli.js';

export const CHROMIUM = '/usr/bin/chromium';
export const screenshots = path.join(repo, 'test', 'artifacts');

/** Why browser tests cannot run here, or undefined (Debian's chromium; never a downloaded browser). */
export function chromiumMissing(): string | undefined {
  return existsSync(CHROMIUM) ? undefined : `Chromium is not installed (${CHROMIUM}; apt-get install -y chromium)`;
}

/** Headless Debian Chromium with WebGL2 on SwiftShader and no background network (plus `extraArgs`). */
export function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--enable-unsafe-swiftshader',
      '--use-angle=swiftshader',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      ...extraArgs,
    ],
  });
}

/** WebGPU on SwiftShader's Vulkan (pages from http://127.0.0.1, not about:blank, get an adapter). */
export const WEBGPU_ON_SWIFTSHADER = ['--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader'];

/** Saves a screenshot as a test artefact and returns its PNG bytes. */
export async function keepScreenshot(page: Page, name: string): Promise<Buffer> {
  await mkdir(screenshots, { recursive: true });
  return page.screenshot({ path: path.join(screenshots, `${name}.png`) });
}
