import { runCli } from "./cli.js";
import type { OutputStream } from "./io.js";

function realStream(stream: NodeJS.WriteStream): OutputStream {
  return {
    write: (chunk: string) => stream.write(chunk),
    writeBytes: (chunk: Uint8Array) => stream.write(chunk),
    isTTY: stream.isTTY === true,
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
