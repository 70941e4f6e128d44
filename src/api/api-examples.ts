/** Example answers for the OpenAPI document (shapes as the endpoints return them, figures from the demo). */

const money = (micro: string, dollars: string) => ({ microdollars: micro, dollars });

export const PERIOD_EXAMPLE = {
  step: 'day',
  from: '2026-11-21T00:00:00.000Z',
  to: '2026-11-22T00:00:00.000Z',
  through: '2026-11-22T00:00:00.000Z',
  partial: false,
  previous: { from: '2026-11-20T00:00:00.000Z', to: '2026-11-21T00:00:00.000Z' },
};

export const ROW_EXAMPLE = {
  key: 'payments',
  detail: 'group',
  cost: money('1234567', '1.234567'),
  share: '0.412345',
  cpuNanoseconds: '140637000000000',
  coreHours: '39.065833333',
  previous: money('1000000', '1'),
  change: { cost: money('234567', '0.234567'), percent: '23.46' },
};

export const COSTS_EXAMPLE = {
  currency: 'USD',
  period: PERIOD_EXAMPLE,
  groupBy: 'team',
  filter: { team: null, service: null, function: null },
  total: {
    cost: money('2994000', '2.994'),
    previous: money('2500000', '2.5'),
    change: { cost: money('494000', '0.494'), percent: '19.76' },
  },
  count: 4,
  nextCursor: null,
  rows: [ROW_EXAMPLE],
};

export const TREND_EXAMPLE = [
  {
    label: '2026-11-21',
    from: '2026-11-21T00:00:00.000Z',
    to: '2026-11-22T00:00:00.000Z',
    cost: money('1234567', '1.234567'),
  },
];

export const TEAMS_EXAMPLE = {
  currency: 'USD',
  period: PERIOD_EXAMPLE,
  catalogRevision: 'sha256:5f0c…',
  teams: [
    {
      team: 'payments',
      kind: 'group',
      displayName: 'Payments',
      email: 'payments@example.com',
      parentTeam: 'commerce',
      cost: money('1234567', '1.234567'),
      share: '0.412345',
      previous: money('1000000', '1'),
      change: { cost: money('234567', '0.234567'), percent: '23.46' },
    },
  ],
};

export const TEAM_EXAMPLE = {
  currency: 'USD',
  period: PERIOD_EXAMPLE,
  team: 'payments',
  kind: 'group',
  displayName: 'Payments',
  contacts: { email: 'payments@example.com' },
  parentTeam: 'commerce',
  childTeams: [],
  cost: money('1234567', '1.234567'),
  previous: money('1000000', '1'),
  change: { cost: money('234567', '0.234567'), percent: '23.46' },
  services: [{ ...ROW_EXAMPLE, key: 'checkout', detail: 'payments', system: 'shop' }],
  trend: TREND_EXAMPLE,
};

export const SERVICE_EXAMPLE = {
  currency: 'USD',
  period: PERIOD_EXAMPLE,
  service: 'checkout',
  owner: 'payments',
  system: 'shop',
  inCatalog: true,
  cost: money('1234567', '1.234567'),
  cpuNanoseconds: '140637000000000',
  coreHours: '39.065833333',
  previous: money('1000000', '1'),
  change: { cost: money('234567', '0.234567'), percent: '23.46' },
  trend: TREND_EXAMPLE,
  topFunctions: [
    {
      ...ROW_EXAMPLE,
      key: 'crypto/sha256.block',
      detail: null,
      cpuNanoseconds: null,
      coreHours: null,
      inclusive: money('1300000', '1.3'),
    },
  ],
};

export const FUNCTION_EXAMPLE = {
  currency: 'USD',
  period: PERIOD_EXAMPLE,
  function: 'runtime.mallocgc',
  total: {
    cost: money('345678', '0.345678'),
    previous: money('300000', '0.3'),
    change: { cost: money('45678', '0.045678'), percent: '15.23' },
  },
  services: [
    {
      ...ROW_EXAMPLE,
      key: 'checkout',
      detail: null,
      cpuNanoseconds: null,
      coreHours: null,
      inclusive: money('400000', '0.4'),
    },
  ],
};

export const BOOKS_EXAMPLE = {
  currency: 'USD',
  period: PERIOD_EXAMPLE,
  lines: [
    {
      label: '2026-11-21',
      from: '2026-11-21T00:00:00.000Z',
      to: '2026-11-22T00:00:00.000Z',
      functions: money('2994000', '2.994'),
      services: money('2994000', '2.994'),
      teams: money('2500000', '2.5'),
      unowned: money('494000', '0.494'),
      idle: money('0', '0'),
      total: money('2994000', '2.994'),
      measured: money('2994000', '2.994'),
      allocated: money('0', '0'),
      windows: 6,
      differences: {
        functionsVsServices: money('0', '0'),
        servicesVsTotal: money('0', '0'),
        teamsVsTotal: money('0', '0'),
        idle: money('0', '0'),
      },
      balanced: true,
    },
  ],
  provenance: {
    priceSchedules: ['sha256:…'],
    catalogRevisions: ['sha256:…'],
    priceIds: ['default@2026-01-01T00:00:00.000Z'],
    profileDigests: ['9f86d0…'],
    profileDigestCount: 36,
    windows: 6,
  },
};

export const REVISIONS_EXAMPLE = {
  current: '12',
  revisions: [
    {
      id: '12',
      revision: 'sha256:5f0c…',
      status: 'ok',
      sourceDir: '/etc/flamebill/catalog',
      loadedAt: '2026-11-21T06:00:00.000Z',
      lastLoadedAt: '2026-11-21T12:00:00.000Z',
      files: ['components.yaml'],
      errorCount: 0,
    },
  ],
};

export const PRICES_EXAMPLE = {
  scheduleId: 'sha256:0b1c…',
  currency: 'USD',
  cost: { mode: 'measured', samplingFraction: '1' },
  prices: [
    {
      id: 'default@2026-01-01T00:00:00.000Z',
      costPerCoreHour: '0.0316',
      nanosPerCoreHour: '31600000',
      effectiveFrom: '2026-01-01T00:00:00.000Z',
      scope: { kind: 'default' },
    },
  ],
};

export const AUDIT_EXAMPLE = {
  rows: [
    {
      id: '42',
      at: '2026-11-21T06:00:01.000Z',
      keyName: 'finance-export',
      scope: 'export',
      method: 'GET',
      path: '/api/v1/exports/focus',
      query: 'from=2026-11-01&to=2026-12-01',
      status: 200,
      requestId: '5d0e…',
    },
  ],
  nextCursor: null,
};
