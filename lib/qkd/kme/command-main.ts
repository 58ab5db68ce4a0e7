// Entry for running `qtls kme` directly: node --import tsx lib/qkd/kme/command-main.ts --data DIR ...
import { runKmeCommand } from './command.js';

process.exitCode = await runKmeCommand(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr });
