#!/usr/bin/env node
// The `relais` command: the entry point of every relais process. It owns nothing itself;
// each subcommand is a composition root (see ./commands).
import { bounces } from './commands/bounces';
import { demo } from './commands/demo';
import { dns } from './commands/dns';
import { service } from './commands/service';
import { simulator } from './commands/simulator';
import { tenants } from './commands/tenants';
import { up } from './commands/up';

const USAGE = `usage: relais <command>

commands:
  up [--check-config]   run the platform in one process (embedded unless AMQP_URL and
                        DATABASE_URL are set); --check-config prints the effective
                        configuration with secrets redacted and exits
  service <name>        run one service (campaign, segmentation, dispatcher, mta-relay,
                        bounce-processor, analytics): the distributed shape
  demo [--recipients N] [--exit] [--json]
                        seed a tenant, send a campaign to the provider simulator, show
                        progress and a checked summary (npm start runs this)
  bounces classify <file-or-folder>... | bounces eval <folder>
                        classify DSNs, complaints and auto-replies (one JSON line each),
                        or score the classifier against labels.tsv files
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
  case 'service':
    await service(rest);
    break;
  case 'demo':
    await demo(rest);
    break;
  case 'bounces':
    bounces(rest);
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
