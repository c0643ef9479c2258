import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const src = (pkg: string, entry = "index") => fileURLToPath(new URL(`./packages/${pkg}/src/${entry}.ts`, import.meta.url));

// Tests run against the TypeScript sources: no build needed first.
const alias = [
  { find: /^lastbeat\/internal$/, replacement: src("lastbeat", "internal") },
  { find: /^lastbeat\/text$/, replacement: src("lastbeat", "text") },
  { find: /^lastbeat$/, replacement: src("lastbeat") },
  { find: /^@lastbeat\/forge$/, replacement: src("forge") },
  { find: /^@lastbeat\/report$/, replacement: src("report") },
  { find: /^@lastbeat\/cli$/, replacement: src("cli") },
];

export default defineConfig({
  resolve: { alias },
  test: {
    projects: [
      {
        resolve: { alias },
        test: {
          name: "unit",
          include: ["packages/*/src/**/*.test.ts", "test/**/*.test.ts"],
          exclude: ["test/e2e/**", "**/node_modules/**"],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        resolve: { alias },
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          testTimeout: 180_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
