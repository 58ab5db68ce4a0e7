#!/usr/bin/env node
// The `qtls` command: client, server, demo, kme, bb84.
import { processIO, UsageError, type IO } from './args.js';
import { CLIENT_USAGE, runClientCommand } from './client-command.js';
import { runDemoCommand } from './demo-command.js';
import { SERVER_USAGE, runServerCommand } from './server-command.js';
import { runKmeCommand } from '../qkd/kme/command.js';
import { runBb84Command } from './bb84-command.js';

const USAGE = `usage: qtls <command> [options]

commands:
  demo      HTTPS end to end on qtls (what \`npm start\` runs)
  server    a TLS server for testing (like openssl s_server)
  client    a TLS client for testing (like openssl s_client)
  kme       a two-site QKD key-management network (ETSI GS QKD 014 and 004)
  bb84      run the simulated BB84 link and report its figures (--json, --plot FILE.svg)

${SERVER_USAGE}
${CLIENT_USAGE}
`;

type Command = (argv: string[], io: IO) => Promise<number>;

const commands: Record<string, Command> = {
  demo: runDemoCommand,
  server: runServerCommand,
  client: runClientCommand,
  kme: (argv, io) => runKmeCommand(argv, io),
  bb84: (argv, io) => runBb84Command(argv, io),
};

export async function main(argv: string[], io: IO = processIO): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(USAGE);
    return name ? 0 : 2;
  }
  const cmd = commands[name];
  if (!cmd) {
    io.stderr.write(`qtls: unknown command "${name}"\n\n${USAGE}`);
    return 2;
  }
  try {
    return await cmd(rest, io);
  } catch (e) {
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.stderr.write(`qtls ${name}: ${(e as Error).message}\n`);
      return 2;
    }
    io.stderr.write(`qtls ${name}: ${(e as Error).message}\n`);
    return 1;
  }
}

// Run when executed directly (not when imported by tests).
const invoked = process.argv[1] ?? '';
if (/(^|[\\/])(main\.(ts|js)|qtls)$/.test(invoked)) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
    // Commands that finished must not be kept alive by stdin or lingering handles.
    setImmediate(() => process.exit(code));
  });
}
