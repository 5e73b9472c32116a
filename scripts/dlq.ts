/**
 * `npm run dlq -- list|replay|purge <queue> [--id ID] [--json] [--url AMQP_URL]`
 * A thin CLI over platform/src/tools/dlq.ts. <queue> is the main queue (product-service.orders)
 * or its DLQ (product-service.orders.dlq). The broker is AMQP_URL (default: local guest).
 */
import {
  listDeadLetters,
  purgeDeadLetters,
  replayDeadLetters,
  redactUrl,
  ToolError,
  type DeadLetter,
} from '@shop/platform/tools';

const USAGE = `Usage: npm run dlq -- <command> <queue> [options]

Commands:
  list <queue>               show every dead message: type, id, reason, death count, contract check
  replay <queue> [--id ID]   re-validate, republish to the original exchange (confirmed), then remove
  purge <queue>              delete every message in the DLQ

<queue> is a queue name (e.g. product-service.orders) or its DLQ (product-service.orders.dlq).

Options:
  --id ID         replay only the message with this id
  --limit N       list at most N messages (default 1000)
  --json          print JSON instead of text
  --url URL       broker URL (default: $AMQP_URL or amqp://guest:guest@127.0.0.1:5672)`;

interface Args {
  command?: string;
  queue?: string;
  id?: string;
  limit?: number;
  json: boolean;
  url: string;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { json: false, url: process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672' };
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s, 2);
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === '') throw new ToolError(`${flag} needs a value`, 2);
      return v;
    };
    if (flag === '--help' || flag === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else if (flag === '--json') args.json = true;
    else if (flag === '--id') args.id = value();
    else if (flag === '--url') args.url = value();
    else if (flag === '--limit') {
      args.limit = Number(value());
      if (!Number.isInteger(args.limit) || args.limit < 1)
        throw new ToolError('--limit must be a positive integer', 2);
    } else if (flag.startsWith('--')) throw new ToolError(`unknown option ${flag}`, 2);
    else positional.push(argv[i]);
  }
  [args.command, args.queue] = positional;
  if (positional.length > 2) throw new ToolError(`unexpected argument ${positional[2]}`, 2);
  return args;
}

function printLetter(letter: DeadLetter): void {
  const where = letter.exchange ? `${letter.exchange}/${letter.routingKey ?? ''}` : '(unknown origin)';
  console.log(`- ${letter.type ?? '(no type)'}  id=${letter.id ?? '-'}`);
  console.log(
    `    reason: ${letter.reason}   deaths: ${letter.deaths}   replays: ${letter.replays}   from: ${where}   at: ${letter.deadLetteredAt ?? '-'}`,
  );
  console.log(
    `    contract: ${letter.contract.ok ? 'valid (replayable)' : `INVALID ${letter.contract.reason}: ${letter.contract.detail}`}`,
  );
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (!args.command || !args.queue) throw new ToolError(`a command and a queue are required\n\n${USAGE}`, 2);
  switch (args.command) {
    case 'list': {
      const list = await listDeadLetters(args.url, args.queue, { limit: args.limit });
      if (args.json) return console.log(JSON.stringify(list, null, 2));
      const shown = list.letters.length < list.total ? ` (showing ${list.letters.length})` : '';
      console.log(`${list.total} dead message(s) in ${list.dlq}${shown} on ${redactUrl(args.url)}`);
      list.letters.forEach(printLetter);
      return;
    }
    case 'replay': {
      const outcome = await replayDeadLetters(args.url, args.queue, { id: args.id });
      if (args.json) console.log(JSON.stringify(outcome, null, 2));
      else {
        for (const r of outcome.replayed)
          console.log(`replayed ${r.type ?? '-'} id=${r.id ?? '-'} → ${r.exchange}/${r.routingKey}`);
        for (const k of outcome.kept) console.log(`kept in DLQ ${k.type ?? '-'} id=${k.id ?? '-'}: ${k.why}`);
        console.log(`${outcome.replayed.length} replayed, ${outcome.kept.length} kept in the DLQ`);
      }
      // Something asked for was not replayed: say so in the exit status too.
      if (outcome.kept.length > 0) process.exitCode = 1;
      return;
    }
    case 'purge': {
      const { dlq, purged } = await purgeDeadLetters(args.url, args.queue);
      console.log(args.json ? JSON.stringify({ dlq, purged }) : `purged ${purged} message(s) from ${dlq}`);
      return;
    }
    default:
      throw new ToolError(`unknown command "${args.command}"\n\n${USAGE}`, 2);
  }
}

main().catch((error: unknown) => {
  if (error instanceof ToolError) {
    console.error(`dlq: ${error.message}`);
    process.exit(error.exitCode);
  }
  console.error(error);
  process.exit(1);
});
