#!/usr/bin/env node
// The `relais` command: the entry point of every relais process. It owns nothing itself;
// each subcommand is a composition root (see ./commands).
import { tenants } from './commands/tenants';
import { up } from './commands/up';

const USAGE = `usage: relais <command>

commands:
  up [--check-config]   run the platform in one process (embedded unless AMQP_URL and
                        DATABASE_URL are set); --check-config prints the effective
                        configuration with secrets redacted and exits
  tenants create --name N
                        create a tenant and print its first API key (once)
`;

const [command, ...rest] = process.argv.slice(2);
switch (command) {
  case 'up':
    await up(rest);
    break;
  case 'tenants':
    await tenants(rest);
    break;
  case undefined:
  case 'help':
  case '--help':
  case '-h':
    process.stdout.write(USAGE);
    break;
  default:
    process.stderr.write(`relais: unknown command "${command}"\n\n${USAGE}`);
    process.exit(2);
}
