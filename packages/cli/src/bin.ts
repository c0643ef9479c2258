import { runCli } from "./cli.js";
import type { OutputStream } from "./io.js";

/**
 * `process.stdout` or `process.stderr`, made on first use: on a pipe each is a socket, and the
 * modules behind one cost every start ~2 ms, though most runs never write to stderr.
 */
function realStream(open: () => NodeJS.WriteStream): OutputStream {
  let made: NodeJS.WriteStream | undefined;
  const stream = (): NodeJS.WriteStream => {
    if (made === undefined) {
      made = open();
      // `lastbeat status | head -1` closes the pipe early: not an error worth a stack trace, and
      // `lastbeat run` must finish its command and write its beat even when nobody reads the output.
      made.on("error", () => {});
    }
    return made;
  };
  return {
    write: (chunk: string) => stream().write(chunk),
    writeBytes: (chunk: Uint8Array) => stream().write(chunk),
    get isTTY() {
      return stream().isTTY === true;
    },
    // Also settles when the stream fails or closes (a reader that went away): `run` must never
    // wait forever for a drain that will not come.
    drained: () =>
      made !== undefined && made.writableNeedDrain && !made.destroyed
        ? new Promise<void>((resolve) => {
            const current = made as NodeJS.WriteStream;
            const done = () => {
              current.off("drain", done).off("close", done).off("error", done);
              resolve();
            };
            current.once("drain", done).once("close", done).once("error", done);
          })
        : Promise.resolve(),
  };
}

const code = await runCli(process.argv.slice(2), {
  stdout: realStream(() => process.stdout),
  stderr: realStream(() => process.stderr),
  env: process.env,
  cwd: process.cwd(),
  now: () => new Date(),
});
// exitCode, not exit(): let piped stdout drain before the process ends.
process.exitCode = code;
