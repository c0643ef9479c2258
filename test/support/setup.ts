import { afterAll } from "vitest";
import { removeFileScopedTestdirs } from "./testdir.js";

// Loaded before every test file (vitest.config.ts `setupFiles`).
afterAll(removeFileScopedTestdirs);
