/**
 * ClickHouse from Debian's `clickhouse-server` (18.16), run as a plain
 * process with a config generated under `.stack/clickhouse/`.
 */
import { copyFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../../common/config.js';
import { repoRoot } from '../../common/paths.js';
import type { StackLayout } from './layout.js';
import type { StackService } from './service.js';

function configXml(config: Config, dir: string): string {
  const { httpPort, nativePort, interserverPort } = config.clickhouse;
  // <yandex> is the root both 18.16 and current releases accept.
  return `<?xml version="1.0"?>
<yandex>
  <logger>
    <level>information</level>
    <log>${dir}/log/clickhouse-server.log</log>
    <errorlog>${dir}/log/clickhouse-server.err.log</errorlog>
    <size>100M</size>
    <count>3</count>
  </logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>${httpPort}</http_port>
  <tcp_port>${nativePort}</tcp_port>
  <interserver_http_port>${interserverPort}</interserver_http_port>
  <interserver_http_host>127.0.0.1</interserver_http_host>
  <max_connections>1024</max_connections>
  <keep_alive_timeout>10</keep_alive_timeout>
  <max_concurrent_queries>100</max_concurrent_queries>
  <uncompressed_cache_size>268435456</uncompressed_cache_size>
  <mark_cache_size>268435456</mark_cache_size>
  <path>${dir}/data/</path>
  <tmp_path>${dir}/tmp/</tmp_path>
  <user_files_path>${dir}/user_files/</user_files_path>
  <format_schema_path>${dir}/format_schemas/</format_schema_path>
  <users_config>${dir}/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <mlock_executable>false</mlock_executable>
  <builtin_dictionaries_reload_interval>3600</builtin_dictionaries_reload_interval>
  <max_session_timeout>3600</max_session_timeout>
  <default_session_timeout>60</default_session_timeout>
  <query_log>
    <database>system</database>
    <table>query_log</table>
    <flush_interval_milliseconds>7500</flush_interval_milliseconds>
  </query_log>
  <!-- librdkafka settings for the Kafka engine: notice broker changes fast. -->
  <kafka>
    <topic_metadata_refresh_interval_ms>5000</topic_metadata_refresh_interval_ms>
    <socket_keepalive_enable>true</socket_keepalive_enable>
  </kafka>
</yandex>
`;
}

const USERS_XML = `<?xml version="1.0"?>
<yandex>
  <profiles>
    <default>
      <max_memory_usage>4000000000</max_memory_usage>
      <use_uncompressed_cache>0</use_uncompressed_cache>
      <load_balancing>random</load_balancing>
    </default>
  </profiles>
  <users>
    <default>
      <password></password>
      <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
    </default>
  </users>
  <quotas>
    <default>
      <interval><duration>3600</duration><queries>0</queries><errors>0</errors>
        <result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval>
    </default>
  </quotas>
</yandex>
`;

/**
 * The aggregator owns the server settings its Kafka engine tables need
 * (aggregator/server-config/, see its README); they are installed as
 * config.d/ and users.d/ overrides, which ClickHouse merges at start.
 * Files are named `<config.d|users.d>-<name>.xml`.
 */
function installOverrides(dir: string): void {
  const source = join(repoRoot, 'aggregator', 'server-config');
  for (const file of readdirSync(source)) {
    const match = /^(config\.d|users\.d)-(.+\.xml)$/.exec(file);
    if (match === null) continue;
    mkdirSync(join(dir, match[1]!), { recursive: true });
    copyFileSync(join(source, file), join(dir, match[1]!, match[2]!));
  }
}

export function clickhouseService(config: Config, layout: StackLayout): StackService {
  const dir = layout.clickhouseDir;
  const configFile = join(dir, 'config.xml');
  const { httpPort } = config.clickhouse;
  return {
    name: 'clickhouse',
    endpoint: `http://127.0.0.1:${httpPort} (native 127.0.0.1:${config.clickhouse.nativePort})`,
    marker: configFile,
    startTimeoutMs: 60_000,
    async prepare() {
      for (const sub of ['log', 'data', 'tmp', 'user_files', 'format_schemas']) {
        mkdirSync(join(dir, sub), { recursive: true });
      }
      writeFileSync(configFile, configXml(config, dir));
      writeFileSync(join(dir, 'users.xml'), USERS_XML);
      installOverrides(dir);
    },
    launchSpec() {
      return {
        command: 'clickhouse-server',
        args: [`--config-file=${configFile}`],
        cwd: dir,
        pidFile: layout.pidFile('clickhouse'),
        logFile: layout.logFile('clickhouse'),
      };
    },
    async healthy() {
      const res = await fetch(`http://127.0.0.1:${httpPort}/ping`, { signal: AbortSignal.timeout(2000) });
      return res.ok && (await res.text()).startsWith('Ok');
    },
  };
}
