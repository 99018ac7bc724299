// Seed corpus and dictionaries of the fuzzers: valid documents (and a few near-valid ones) for
// every decoder, as the protocols' own clients send them (protocols.md), plus the words each
// protocol gives meaning to, for the mutators to insert.

const T_S = 1704067200; // 2024-01-01T00:00:00Z, seconds
const T_MS = T_S * 1000;

// ------------------------------------------------------------------------------ KairosDB ingest

export const KAIROS_INGEST_SEEDS: unknown[] = [
  [{ name: 'sys.cpu', timestamp: T_MS, value: 41.5, tags: { host: 'a', dc: 'eu' } }],
  { name: 'mem', time: T_MS, value: 12, tags: { host: 'b' } },
  [
    { name: 'disk', datapoints: [[T_MS, 1], [T_MS + 1000, 2.5], [T_MS + 2000, '3']], tags: { host: 'a' } },
    { name: 'net', datapoints: [[T_MS, 'up', 'string']], tags: { host: 'a' }, ttl: 60 },
  ],
  [{ name: 'typed', type: 'long', datapoints: [[T_MS, '7'], [T_MS + 1, 8]], tags: { k: 'v' } }],
  [{ name: 'both', timestamp: T_MS, value: 1, datapoints: [[T_MS + 5, 2]], tags: { a: '1', b: '2', c: '3' }, skip_validate: true }],
  [{ name: 'str', timestamp: T_MS, value: 'hello', tags: { 'tag name': 'tag value' } }, { name: '日本', timestamp: 0, value: -1, tags: { é: 'ü' } }],
  [{ name: 'neg', timestamp: -5000, value: 1e5, tags: { h: 'x' } }, { name: 'big', timestamp: T_MS, value: 9223372036854775807, tags: { h: 'x' } }],
];

export const KAIROS_INGEST_DICTIONARY = ['name', 'timestamp', 'time', 'value', 'tags', 'datapoints', 'type', 'ttl', 'skip_validate', 'long', 'double', 'string', 'host', 'strata:rollup'];

// ------------------------------------------------------------------------------ OpenTSDB put / rollup

export const OPENTSDB_PUT_SEEDS: unknown[] = [
  [
    { metric: 'sys.cpu.user', timestamp: T_S, value: 41.5, tags: { host: 'web01', dc: 'lga' } },
    { metric: 'sys.cpu.user', timestamp: T_S + 1, value: 42, tags: { host: 'web01', dc: 'lga' } },
    { metric: 'sys.cpu.user', timestamp: T_MS + 2000, value: '43.5', tags: { host: 'web02', dc: 'lga' } },
  ],
  { metric: 'mem.free', timestamp: T_S, value: 102.0, tags: { host: 'a' } },
  [{ metric: 'x/y-z_1.0', timestamp: T_MS, value: -7, tags: { host: 'a', t1: '1', t2: '2', t3: '3', t4: '4', t5: '5', t6: '6', t7: '7' } }],
  [{ metric: 'm', timestamp: 4294967295, value: '1e5', tags: { a: 'b' } }, null, { metric: 'n', timestamp: 4294967296, value: 0.1, tags: { a: 'b' } }],
  Array.from({ length: 12 }, (_, i) => ({ metric: 'cpu', timestamp: T_S + i, value: i + 0.5, tags: { host: `h${i % 3}` } })),
];

export const OPENTSDB_ROLLUP_SEEDS: unknown[] = [
  [{ metric: 'sys.cpu', timestamp: T_S, value: 41.5, tags: { host: 'a' }, interval: '1h', aggregator: 'SUM' }],
  [{ metric: 'sys.cpu', timestamp: T_S, value: 3, tags: { host: 'a' }, groupByAggregator: 'sum' }],
  [{ metric: 'sys.cpu', timestamp: T_S, value: 3, tags: { host: 'a' }, interval: '1m', aggregator: 'max', groupByAggregator: 'avg' }],
  { metric: 'm', timestamp: T_S, value: '12', tags: { a: 'b' }, interval: '1d', aggregator: 'count' },
];

export const OPENTSDB_PUT_DICTIONARY = ['metric', 'timestamp', 'value', 'tags', 'tsuid', 'interval', 'aggregator', 'groupByAggregator', 'host', 'sum', 'SUM', 'avg', 'dev', '1h', '_aggregate', 'strata:rollup'];

/** Query strings of /api/put and /api/rollup (response flags). */
export const OPENTSDB_PUT_QUERIES = ['', 'details', 'summary', 'details&summary', 'sync', 'sync&sync_timeout=10', 'details&jsonp=cb', 'sync_timeout=abc'];

// ------------------------------------------------------------------------------ CAVE

export const CAVE_SEEDS: unknown[] = [
  { metrics: [{ name: 'orders', timestamp: T_S, value: 1, tags: { shard: '1' } }] },
  { metrics: [] },
  {
    metrics: [
      { name: 'orders', timestamp: T_S, value: 1.5, tags: { shard: '1', env: 'prod' } },
      { name: 'orders', timestamp: T_MS, value: 2, tags: { shard: '2', env: 'prod' } },
      { name: 'latency', timestamp: T_MS * 1000, value: -0.25, tags: {} },
    ],
  },
  { metrics: [{ name: 'x'.repeat(127), timestamp: T_S, value: 1, tags: Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`k${i}`, 'v'.repeat(127)])) }] },
];

export const CAVE_DICTIONARY = ['metrics', 'name', 'metric', 'timestamp', 'value', 'tags', 'CAVE-account', 'CAVE-cluster', 'strata:rollup', 'shard'];

// ------------------------------------------------------------------------------ OneNET

export const ONENET_TYPE1_SEEDS: unknown[] = [
  { datastreams: [{ id: 'temperature', datapoints: [{ at: '2013-04-22T00:35:43', value: 84 }] }] },
  { datastreams: [{ id: 'temp', datapoints: [{ value: 22.5 }, { at: '2015-03-22 22:31:12', value: '95.2%' }] }, { id: 'gps', datapoints: [{ value: { lon: 1.5, lat: 2 } }] }] },
  { datastreams: [{ id: 'a', datapoints: [{ at: '2015-03-22T22:31:12.123', value: 1 }, { at: '2015-03-22T22:31:13', value: 9223372036854775807 }] }] },
];
export const ONENET_TYPE3_SEEDS: unknown[] = [{ temperature: 22.5, humidity: '95.2%' }, { a: 1, b: { c: [1, 2] }, c: true, d: null }];
export const ONENET_TYPE4_SEEDS: unknown[] = [
  { temperature: { '2015-03-22T22:31:12': 22.5 } },
  { temperature: { '2015-03-22T22:31:12': 22.5, '2015-03-22 22:31:13': 23 }, humidity: { '2015-03-22T22:31:12': '95%' } },
];
export const ONENET_TYPE5_SEEDS = [
  ',;temperature,2015-03-22 22:31:12,22.5;102;pm2.5,89;10',
  '#@temperature#2015-03-22 22:31:12#22.5@102@pm2.5#89@10',
  ',;Active,0;Power,1.5;Status,on;',
  ',;a,2015-03-22T22:31:12,1,2,3;b,x;7\r\n',
];
export const ONENET_DICTIONARY = ['datastreams', 'datapoints', 'id', 'at', 'value', 'temperature', '2015-03-22T22:31:12', '2015-03-22 22:31:12', ',', ';', '#', '@'];

// ------------------------------------------------------------------------------ telnet

export const TELNET_SEEDS = [
  `put sys.cpu.user ${T_S} 42.5 host=web01 cpu=0\n`,
  `put sys.cpu.user ${T_MS} 42 host=web01\r\nput sys.cpu.user ${T_S}.250 1e5 host=web02\n`,
  `putm kairos.metric ${T_MS} 12 host=a dc=b\nputs kairos.str ${T_MS} hello host=a\n`,
  `putm m ${T_MS} 1\nputm m ${T_MS} 1 kairos_opt.ttl=60 a=b=c\n`,
  `rollup 1h-sum sys.cpu ${T_S} 12 host=a\nrollup sum sys.cpu ${T_S} 12 host=a\nrollup 1m-max:avg m ${T_S} 1 h=b\n`,
  'version\nhelp\n',
  `put m ${T_S} 1 host=a\nexit\nput m ${T_S} 2 host=a\n`,
  `put "quoted metric" ${T_S} 1 "k=v w"\nfoo bar\n\n  \n`,
  `put  m  ${T_S}  1  host=a  \n`, // collectd's double blanks
];
export const TELNET_DICTIONARY = ['put', 'putm', 'puts', 'rollup', 'version', 'help', 'exit', 'stats', 'host=a', 'a=', '=b', '=', 'k=v=w', 'kairos_opt.ttl=5', 'strata:rollup=x', '1h-sum', 'sum', '1h-avg:sum', '\n', '\r\n', '"', ' ', '\t'];
export const TELNET_SEPARATORS = [' ', '\n', '\r\n', '=', '  '];

// ------------------------------------------------------------------------------ queries

export const KAIROS_QUERY_SEEDS: unknown[] = [
  { start_absolute: T_MS, end_absolute: T_MS + 3600000, metrics: [{ name: 'sys.cpu', tags: { host: ['a', 'b'] } }] },
  { start_relative: { value: '1', unit: 'hours' }, cache_time: 0, metrics: [{ name: 'm', limit: 10, order: 'desc', aggregators: [{ name: 'sum', sampling: { value: '5', unit: 'minutes' }, align_sampling: true }] }] },
  {
    start_absolute: 0,
    time_zone: 'Europe/Paris',
    metrics: [
      {
        name: 'm',
        group_by: [{ name: 'tag', tags: ['host'] }, { name: 'time', range_size: { value: 2, unit: 'hours' }, group_count: 3 }, { name: 'value', range_size: 5 }],
        aggregators: [{ name: 'rate', unit: 'seconds' }, { name: 'percentile', percentile: 0.9, sampling: { value: 1, unit: 'days' } }, { name: 'filter', filter_op: 'gt', threshold: 3 }],
        exclude_tags: true,
        alias: 'x',
      },
    ],
  },
  { start_absolute: 1, metrics: [{ name: 'a', aggregators: [{ name: 'div', divisor: 2 }, { name: 'scale', factor: 0.5 }, { name: 'trim', trim: 'both' }, { name: 'sma', size: 3 }, { name: 'save_as', metric_name: 'b' }] }] },
];
export const KAIROS_QUERY_DICTIONARY = [
  'start_absolute', 'end_absolute', 'start_relative', 'end_relative', 'value', 'unit', 'metrics', 'name', 'tags', 'group_by', 'aggregators', 'sampling', 'align_sampling',
  'align_start_time', 'align_end_time', 'start_time', 'time_zone', 'cache_time', 'limit', 'order', 'exclude_tags', 'plugins', 'range_size', 'group_count', 'bins', 'percentile',
  'divisor', 'factor', 'filter_op', 'threshold', 'trim', 'size', 'metric_name', 'sum', 'avg', 'rate', 'sampler', 'dev', 'gaps', 'least_squares', 'minutes', 'MONTHS', 'years', 'UTC',
];

export const OPENTSDB_QUERY_SEEDS: unknown[] = [
  { start: '1h-ago', queries: [{ aggregator: 'sum', metric: 'sys.cpu.user', tags: { host: '*' } }] },
  { start: T_MS, end: T_MS + 3600000, msResolution: true, globalAnnotations: true, queries: [{ aggregator: 'avg', metric: 'm', downsample: '1m-avg-nan', rate: true, rateOptions: { counter: true, counterMax: 100, resetValue: 0, dropResets: true } }] },
  {
    start: '2024/01/01 00:00',
    end: '2024/01/02-12:00:00',
    timezone: 'UTC',
    useCalendar: true,
    queries: [{ aggregator: 'p95', metric: 'm', filters: [{ type: 'literal_or', tagk: 'host', filter: 'a|b', groupBy: true }, { type: 'wildcard', tagk: 'dc', filter: 'eu*' }], explicitTags: false, rollupUsage: 'ROLLUP_NOFALLBACK' }],
  },
  { start: '1704067200', queries: [{ aggregator: 'none', metric: 'm', downsample: '0all-sum' }, { aggregator: 'count', tsuids: ['000001000001000001'] }], showQuery: true, showSummary: true },
];
export const OPENTSDB_QUERY_DICTIONARY = [
  'start', 'end', 'queries', 'aggregator', 'metric', 'tsuids', 'tags', 'filters', 'type', 'tagk', 'filter', 'groupBy', 'downsample', 'rate', 'rateOptions', 'counter', 'counterMax',
  'resetValue', 'dropResets', 'timezone', 'useCalendar', 'msResolution', 'ms', 'explicitTags', 'percentiles', 'rollupUsage', 'delete', 'showTSUIDs', 'noAnnotations', 'regexp',
  'literal_or', 'not_iliteral_or', 'iwildcard', '*', 'a|b', '1m-avg', '1n-sum-zero', '1y-count-null', '0all-sum', '5s-avg-nan', 'zimsum', 'ep99r7', 'p999', 'mimmax', '1h-ago', 'now',
];

export const OPENTSDB_GET_SEEDS = [
  'start=1h-ago&m=sum:sys.cpu.user{host=*}',
  'start=1704067200&end=1704070800&m=avg:rate{counter,100,0}:1m-avg-nan:cpu{host=a|b}{dc=wildcard(eu*)}&ms&arrays',
  'start=72000ms-ago&end=60s-ago&m=avg:5s-avg:cpu.utilization{nid=*}&show_tsuids&no_annotations&global_annotations',
  'start=2024/01/01-00:00:00&tz=UTC&m=p95:rate:m&m=sum:explicit_tags:n{a=b}&tsuid=sum:000001000001000001',
];
export const OPENTSDB_GET_DICTIONARY = ['start', 'end', 'm', 'tsuid', 'ms', 'arrays', 'jsonp', 'sum', 'rate', '{counter,,}', '{', '}', '=', '*', '|', ':', '&', 'regexp(.*)', 'literal_or(a)', '1m-avg', 'explicit_tags', 'rollup_usage', 'percentiles[0.5]', '%7B', '%'];
export const QUERY_SEPARATORS = ['&', '=', ':', '{', '}', ',', '|', '-'];

export const CAVE_READ_SEEDS = [
  'metric=orders&aggregator=sum&period=5',
  'metric=orders&tags=shard:1,env:prod&aggregator=p99&period=60&start=2014-10-17T10:00:00.000Z&end=2014-10-17T11:00:00.000Z&limit=10',
];
export const CAVE_READ_DICTIONARY = ['metric', 'tags', 'aggregator', 'period', 'start', 'end', 'limit', 'mean', 'p999', 'collate', 'boom', '2014-10-17T10:00:00.000Z', '2014-10-17T10:00:00Z'];

export const ONENET_READ_SEEDS = [
  'datastream_id=temp,hum&start=2015-01-10T08:00:35&end=2015-01-10T09:00:35&limit=10&sort=DESC',
  'start=2015-01-10 08:00:35&duration=3600&cursor=x',
  'limit=6000&sort=ASC',
];
export const ONENET_READ_DICTIONARY = ['datastream_id', 'start', 'end', 'duration', 'limit', 'cursor', 'sort', 'type', 'ASC', 'desc', '2015-01-10T08:00:35', '6001', '0'];
