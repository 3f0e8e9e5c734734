#!/usr/bin/env node
// The `relais` command: the entry point of every relais process. It owns nothing itself;
// each subcommand is a composition root (see ./commands).
import { dns } from './commands/dns';
import { simulator } from './commands/simulator';
import { tenants } from './commands/tenants';
import { up } from './commands/up';

const USAGE = `usage: relais <command>

commands:
  up [--check-config]   run the platform in one process (embedded unless AMQP_URL and
                        DATABASE_URL are set); --check-config prints the effective
                        configuration with secrets redacted and exits
  tenants create --name N
                        create a tenant and print its first API key (once)
  dns --domain D (--generate DIR | --rsa-key F --ed25519-key F)
                        the DKIM, SPF and DMARC records to publish for a sending domain
  simulator [--profiles F] [--base-port N] [--output DIR]
                        the mailbox provider simulator on its own (routes and stats as JSON)
`;

const [command, ...rest] = process.argv.slice(2);
switch (command) {
  case 'up':
    await up(rest);
    break;
  case 'dns':
    dns(rest);
    break;
  case 'simulator':
    await simulator(rest);
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
