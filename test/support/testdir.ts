import { mkdtempSync, rmSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, onTestFinished } from "vitest";

/*
 * One real temporary folder per caller, removed automatically: a folder made inside a test or a
 * `beforeEach` is removed when that test finishes; one made in a `beforeAll` or at module scope
 * when the file's tests are done (test/support/setup.ts, loaded by every vitest project).
 */

const fileScoped = new Set<string>();

export async function testdir(prefix = "lastbeat-test-"): Promise<string> {
  return track(await mkdtemp(join(tmpdir(), prefix)));
}

export function testdirSync(prefix = "lastbeat-test-"): string {
  return track(mkdtempSync(join(tmpdir(), prefix)));
}

function track(dir: string): string {
  if (expect.getState().currentTestName === undefined) fileScoped.add(dir);
  else onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Removes the folders made outside any test; test/support/setup.ts runs it after each file. */
export function removeFileScopedTestdirs(): void {
  for (const dir of fileScoped) rmSync(dir, { recursive: true, force: true });
  fileScoped.clear();
}
