import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../../common/config.js';
import type { StackLayout } from './layout.js';
import { tcpExchange } from './probe.js';
import type { StackService } from './service.js';

/**
 * Redis 7 from Debian's package: the ledger's index, a cache of what Kafka
 * holds. No persistence (no AOF, no RDB): everything in it is rebuilt from
 * Kafka and the roll's own record when it comes back empty (ingest notices
 * by itself), and nothing on disk keeps an ordered, timed log of `voter:`
 * and `cred:` writes (DESIGN §4). A restart costs a rebuild (docs/capacity.md).
 */
export function redisService(config: Config, layout: StackLayout): StackService {
  const confFile = join(layout.redisDir, 'redis.conf');
  const { port } = config.redis;
  return {
    name: 'redis',
    endpoint: `redis://127.0.0.1:${port}`,
    marker: `127.0.0.1:${port}`,
    startTimeoutMs: 20_000,
    async prepare() {
      mkdirSync(layout.redisDir, { recursive: true });
      writeFileSync(
        confFile,
        [
          'bind 127.0.0.1',
          `port ${port}`,
          'protected-mode yes',
          'daemonize no',
          `dir ${layout.redisDir}`,
          'appendonly no',
          'save ""',
          // No per-key access clock: under an LRU policy (the default) OBJECT IDLETIME
          // gives each key's last access to the second, so a cred:<ballotId> key would
          // time its ballot. LFU keeps a use counter instead, and with no decay period
          // not even the minute of the last access shows (nothing is evicted: no maxmemory).
          'maxmemory-policy volatile-lfu',
          'lfu-decay-time 0',
          // 20k sockets per process is the machine's hard limit; leave room for files.
          'maxclients 18000',
          'tcp-backlog 4096',
          'loglevel notice',
          '',
        ].join('\n'),
      );
    },
    launchSpec() {
      // The address in argv doubles as the marker that proves the pid is ours.
      return {
        command: 'redis-server',
        args: [confFile, '--bind', '127.0.0.1', '--port', String(port)],
        cwd: layout.redisDir,
        pidFile: layout.pidFile('redis'),
        logFile: layout.logFile('redis'),
      };
    },
    async healthy() {
      const reply = await tcpExchange(port, 'PING\r\n', /\r\n/);
      return reply.startsWith('+PONG');
    },
  };
}
