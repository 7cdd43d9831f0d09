import { describe, expect, it } from 'vitest';
import type { OrgKind } from '../../src/domain/organisation.js';
import {
  type Actor,
  actorLabel,
  type LinkTarget,
  type LinkVerdict,
  Principal,
  ROLE_NAMES,
  type RoleGrant,
} from '../../src/domain/roles.js';

const org = (ods: string, kind: OrgKind) => ({ ods, kind });
const RXX = org('RXX', 'trust');
const RYY = org('RYY', 'trust');
const PHARMACY = org('FA123', 'pharmacy');
const OTHER_PHARMACY = org('FB456', 'pharmacy');
const GP_LOCUMS = org('GPL', 'gp-locum');
const EVERY_ORG = [
  RXX,
  RYY,
  PHARMACY,
  OTHER_PHARMACY,
  GP_LOCUMS,
  org('QWE', 'icb'),
  org('A81001', 'gp-practice'),
];

const person = (address: string, ...roles: RoleGrant[]) => new Principal({ kind: 'person', address }, roles);
const role = (name: RoleGrant['role'], ods: string | null): RoleGrant => ({ role: name, org: ods });

/** Every "may they?" answer for one organisation, to compare whole rows of the table at once. */
const rights = (p: Principal, o: { ods: string; kind: OrgKind }) => ({
  view: p.canView(o),
  subscribe: p.canSubscribe(o),
  administer: p.canAdminister(o),
  markLeaver: p.canMarkLeaver(o),
  grantManager: p.canGrant('manager', o),
});
const NONE = { view: false, subscribe: false, administer: false, markLeaver: false, grantManager: false };
const ALL = { view: true, subscribe: true, administer: true, markLeaver: true, grantManager: true };

describe('a manager of X', () => {
  const manager = person('mgr@nhs.net', role('manager', 'RXX'));

  it('sees and subscribes to X, and administers nothing', () => {
    expect(rights(manager, RXX)).toEqual({ ...NONE, view: true, subscribe: true });
  });

  it('has no rights over another organisation', () => {
    expect(rights(manager, RYY)).toEqual(NONE);
  });

  it('cannot request site accounts or grant any role', () => {
    expect(manager.canRequestSiteAccount(RXX)).toBe(false);
    for (const name of ROLE_NAMES) expect(manager.canGrant(name, RXX)).toBe(false);
  });
});

describe('a local administrator of X', () => {
  const la = person('la@nhs.net', role('local-admin', 'RXX'));

  it('may do all a manager may, plus administer X', () => {
    expect(rights(la, RXX)).toEqual(ALL);
  });

  it('has no rights over Y', () => {
    expect(rights(la, RYY)).toEqual(NONE);
    expect(rights(la, PHARMACY)).toEqual(NONE);
  });

  it('may grant only the manager role, and only for X', () => {
    expect(la.canGrant('manager', RXX)).toBe(true);
    expect(la.canGrant('manager', RYY)).toBe(false);
    expect(la.canGrant('manager', null)).toBe(false);
    expect(la.canGrant('local-admin', RXX)).toBe(false);
    expect(la.canGrant('site-owner', RXX)).toBe(false);
    expect(la.canGrant('nas-admin', null)).toBe(false);
    expect(la.canGrant('nas-admin', RXX)).toBe(false);
  });

  it('cannot request site accounts', () => {
    expect(la.canRequestSiteAccount(RXX)).toBe(false);
    expect(la.canRequestSiteAccount(PHARMACY)).toBe(false);
  });

  it('with roles in two organisations, has each role only where it was granted', () => {
    const mixed = person('mixed@nhs.net', role('local-admin', 'RXX'), role('manager', 'RYY'));
    expect(rights(mixed, RXX)).toEqual(ALL);
    expect(rights(mixed, RYY)).toEqual({ ...NONE, view: true, subscribe: true });
  });
});

describe('the owner of site S', () => {
  const owner = person('owner@nhs.net', role('site-owner', 'FA123'));

  it("sees S's accounts, subscribes to S, requests accounts and marks leavers for S", () => {
    expect(owner.canView(PHARMACY)).toBe(true);
    expect(owner.canSubscribe(PHARMACY)).toBe(true);
    expect(owner.canRequestSiteAccount(PHARMACY)).toBe(true);
    expect(owner.canMarkLeaver(PHARMACY)).toBe(true);
  });

  it('does not administer S', () => {
    expect(owner.canAdminister(PHARMACY)).toBe(false);
    for (const name of ROLE_NAMES) expect(owner.canGrant(name, PHARMACY)).toBe(false);
  });

  it('has no rights over another site', () => {
    expect(rights(owner, OTHER_PHARMACY)).toEqual(NONE);
    expect(owner.canRequestSiteAccount(OTHER_PHARMACY)).toBe(false);
  });
});

describe('national actors', () => {
  const nationals: Array<[string, Principal]> = [
    ['a NAS administrator', person('nas@nhs.net', role('nas-admin', null))],
    ['the operator', new Principal({ kind: 'operator' }, [])],
    ['the scheduler', new Principal({ kind: 'scheduler' }, [])],
  ];

  it.each(nationals)('%s may do everything, in every organisation', (_, p) => {
    expect(p.isNational).toBe(true);
    for (const o of EVERY_ORG) {
      expect(rights(p, o)).toEqual(ALL);
      expect(p.canRequestSiteAccount(o)).toBe(true);
      for (const name of ROLE_NAMES) expect(p.canGrant(name, o)).toBe(true);
    }
    expect(p.canGrant('nas-admin', null)).toBe(true);
    expect(p.visibleOrgs()).toBeNull();
  });

  it('counts only the operator and the scheduler as operators', () => {
    expect(new Principal({ kind: 'operator' }, []).isOperator).toBe(true);
    expect(new Principal({ kind: 'scheduler' }, []).isOperator).toBe(true);
    expect(person('nas@nhs.net', role('nas-admin', null)).isOperator).toBe(false);
  });
});

describe('GP locums', () => {
  it.each(['local-admin', 'manager', 'site-owner'] as const)(
    'a %s granted on the GP-locum organisation still has no rights over it',
    (name) => {
      const p = person('someone@nhs.net', role(name, 'GPL'));
      expect(p.holds(name, 'GPL')).toBe(true);
      expect(rights(p, GP_LOCUMS)).toEqual(NONE);
      for (const granted of ROLE_NAMES) expect(p.canGrant(granted, GP_LOCUMS)).toBe(false);
    },
  );

  it('only NAS and the operator act on GP locums', () => {
    expect(rights(person('nas@nhs.net', role('nas-admin', null)), GP_LOCUMS)).toEqual(ALL);
    expect(rights(new Principal({ kind: 'operator' }, []), GP_LOCUMS)).toEqual(ALL);
  });
});

describe('someone with no role', () => {
  const nobody = person('jane.doe@nhs.net');

  it('has no rights over any organisation', () => {
    expect(nobody.isNational).toBe(false);
    for (const o of EVERY_ORG) {
      expect(rights(nobody, o)).toEqual(NONE);
      expect(nobody.canRequestSiteAccount(o)).toBe(false);
    }
    for (const name of ROLE_NAMES) expect(nobody.canGrant(name, null)).toBe(false);
  });

  it('is recognised as themselves, and only themselves', () => {
    expect(nobody.isSelf('jane.doe@nhs.net')).toBe(true);
    expect(nobody.isSelf('john.doe@nhs.net')).toBe(false);
    expect(new Principal({ kind: 'operator' }, []).isSelf('jane.doe@nhs.net')).toBe(false);
  });
});

describe('visibleOrgs', () => {
  it('lists each organisation a person holds a role in, once', () => {
    const p = person(
      'mgr@nhs.net',
      role('manager', 'RXX'),
      role('local-admin', 'RXX'),
      role('manager', 'RYY'),
      role('site-owner', 'FA123'),
    );
    expect([...(p.visibleOrgs() ?? [])].sort()).toEqual(['FA123', 'RXX', 'RYY']);
  });

  it('is empty for someone with no role', () => {
    expect(person('jane.doe@nhs.net').visibleOrgs()).toEqual([]);
  });

  it('is every organisation (null) once a person is a NAS administrator', () => {
    expect(person('nas@nhs.net', role('manager', 'RXX'), role('nas-admin', null)).visibleOrgs()).toBeNull();
  });
});

describe('labels', () => {
  it.each<[Actor, string]>([
    [{ kind: 'operator' }, 'operator'],
    [{ kind: 'scheduler' }, 'scheduler'],
    [{ kind: 'person', address: 'jane.doe@nhs.net' }, 'jane.doe@nhs.net'],
  ])('labels %o as %s in the audit trail', (actor, label) => {
    expect(actorLabel(actor)).toBe(label);
    expect(new Principal(actor, []).label).toBe(label);
  });
});

describe('link: nobody links a chat user to more than they hold', () => {
  const held = (name: RoleGrant['role'], o: { ods: string; kind: OrgKind } | null) => ({
    role: name,
    org: o,
  });
  const SITE_FA = org('FA123', 'pharmacy');
  /** Addresses a chat user might be linked to: where each is homed and what it holds. */
  const targets: Record<string, LinkTarget> = {
    'plain in X': { home: RXX, roles: [] },
    'manager of X': { home: RXX, roles: [held('manager', RXX)] },
    'local-admin of X': { home: RXX, roles: [held('local-admin', RXX)] },
    'nas-admin homed in X': { home: RXX, roles: [held('nas-admin', null)] },
    'in X, local-admin of Y': { home: RXX, roles: [held('local-admin', RYY)] },
    'in X, manager of Y': { home: RXX, roles: [held('manager', RYY)] },
    'in X, site-owner of S': { home: RXX, roles: [held('site-owner', SITE_FA)] },
    'plain in Y': { home: RYY, roles: [] },
    'plain at site S': { home: SITE_FA, roles: [] },
    'owner of site S': { home: SITE_FA, roles: [held('site-owner', SITE_FA)] },
    'GP locum': { home: GP_LOCUMS, roles: [] },
    'not managed by the bot': { home: null, roles: [] },
  };
  const linkers: Record<string, Principal> = {
    'manager of X': person('mgr@nhs.net', role('manager', 'RXX')),
    'local-admin of X': person('la.x@nhs.net', role('local-admin', 'RXX')),
    'local-admin of X and Y': person('la.xy@nhs.net', role('local-admin', 'RXX'), role('local-admin', 'RYY')),
    'local-admin of X, manager of Y': person(
      'la.xm@nhs.net',
      role('local-admin', 'RXX'),
      role('manager', 'RYY'),
    ),
    'owner of site S': person('owner@nhs.net', role('site-owner', 'FA123')),
    'local-admin of GP locums': person('la.gpl@nhs.net', role('local-admin', 'GPL')),
    'nobody in particular': person('jane.doe@nhs.net'),
    'a NAS administrator': person('nas@nhs.net', role('nas-admin', null)),
    'the operator': new Principal({ kind: 'operator' }, []),
  };
  const OUT: LinkVerdict = 'not-your-organisation';
  const BEYOND: LinkVerdict = 'beyond-your-roles';
  const OK: LinkVerdict = 'allowed';
  const every = (verdict: LinkVerdict): Record<string, LinkVerdict> =>
    Object.fromEntries(Object.keys(targets).map((t) => [t, verdict]));
  const ALL_OK = every(OK);
  const ONLY_OUT = every(OUT);
  /** The whole matrix: each linker's verdict for each target. */
  const expected: Record<string, Record<string, LinkVerdict>> = {
    'manager of X': ONLY_OUT,
    'local-admin of X': {
      ...ONLY_OUT,
      'plain in X': OK,
      'manager of X': OK,
      'local-admin of X': OK,
      'nas-admin homed in X': BEYOND,
      'in X, local-admin of Y': BEYOND,
      'in X, manager of Y': BEYOND,
      'in X, site-owner of S': BEYOND,
    },
    'local-admin of X and Y': {
      ...ONLY_OUT,
      'plain in X': OK,
      'manager of X': OK,
      'local-admin of X': OK,
      'nas-admin homed in X': BEYOND,
      'in X, local-admin of Y': OK,
      'in X, manager of Y': OK,
      'in X, site-owner of S': BEYOND,
      'plain in Y': OK,
    },
    'local-admin of X, manager of Y': {
      ...ONLY_OUT,
      'plain in X': OK,
      'manager of X': OK,
      'local-admin of X': OK,
      'nas-admin homed in X': BEYOND,
      'in X, local-admin of Y': BEYOND,
      'in X, manager of Y': OK,
      'in X, site-owner of S': BEYOND,
    },
    'owner of site S': ONLY_OUT,
    'local-admin of GP locums': ONLY_OUT,
    'nobody in particular': ONLY_OUT,
    'a NAS administrator': ALL_OK,
    'the operator': ALL_OK,
  };

  it.each(Object.keys(linkers))('%s', (name) => {
    const linker = linkers[name] as Principal;
    const verdicts = Object.fromEntries(
      Object.entries(targets).map(([t, target]) => [t, linker.mayLink(target)]),
    );
    expect(verdicts).toEqual(expected[name]);
  });
});
