import { runCli } from "./cli.js";
import type { OutputStream } from "./io.js";

function realStream(stream: NodeJS.WriteStream): OutputStream {
  // `lastbeat status | head -1` closes the pipe early: not an error worth a stack trace, and
  // `lastbeat run` must finish its command and write its beat even when nobody reads the output.
  // Any other failure (ENOSPC, EIO) is kept for runCli: output that was not written is an error.
  let failure: NodeJS.ErrnoException | null = null;
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") failure ??= error;
  });
  return {
    failure: () => failure,
    write: (chunk: string) => stream.write(chunk),
    writeBytes: (chunk: Uint8Array) => stream.write(chunk),
    isTTY: stream.isTTY === true,
    // Also settles when the stream fails or closes (a reader that went away): `run` must never
    // wait forever for a drain that will not come.
    drained: () =>
      stream.writableNeedDrain && !stream.destroyed
        ? new Promise<void>((resolve) => {
            const done = () => {
              stream.off("drain", done).off("close", done).off("error", done);
              resolve();
            };
            stream.once("drain", done).once("close", done).once("error", done);
          })
        : Promise.resolve(),
  };
}

const code = await runCli(process.argv.slice(2), {
  stdout: realStream(process.stdout),
  stderr: realStream(process.stderr),
  env: process.env,
  cwd: process.cwd(),
  now: () => new Date(),
});
// exitCode, not exit(): let piped stdout drain before the process ends.
process.exitCode = code;
