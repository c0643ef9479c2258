import { LastbeatError } from "./errors.js";

const JOB_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function isValidJobName(name: unknown): name is string {
  return typeof name === "string" && JOB_NAME.test(name);
}

/** Throws before any path is built from `name`: no `..`, `/`, spaces, NUL, empty or > 128 chars. */
export function validateJobName(name: unknown): string {
  if (isValidJobName(name)) return name;
  const shown = typeof name === "string" ? JSON.stringify(name.length > 40 ? `${name.slice(0, 40)}…` : name) : String(name);
  throw new LastbeatError(
    "E_JOB_NAME",
    `invalid job name ${shown}: use 1-128 characters from A-Z a-z 0-9 . _ -, starting with a letter or digit`,
  );
}
