import { onCallAt, resolveRecipients, type RecipientDirectory } from '../../src/rules/recipients';

/** Who each tier reaches, by the written rule (docs/clinical/escalation-recipients.md). */
describe('escalation recipients', () => {
  const at = '2025-03-03T10:00:00Z'; // a Monday, 10:00 in England (GMT)
  const rotas = { 'org-north': { organisationId: 'org-north', shifts: [{ practitionerId: 'nurse-ola', from: '20:00', until: '08:00' }] } };
  const nurse = { practitionerId: 'nurse-sarah', teamRole: 'accountable-clinician', role: 'district-nurse', organisationId: 'org-north' };
  const worker = { practitionerId: 'cw-amira', teamRole: 'care-worker', role: 'care-worker', organisationId: 'org-kindly' };

  it.each<[string, RecipientDirectory, string[]]>([
    ['with a delegation: the delegating nurse', { careTeam: [nurse], rotas: {}, delegation: { delegatedBy: 'nurse-zed', careWorkerId: 'cw-amira' } }, ['nurse-zed']],
    ['no delegation: the nursing team on the care team', { careTeam: [nurse, worker], registeredGp: 'gp-david', rotas: {} }, ['nurse-sarah']],
    ['no nursing team: the registered GP', { careTeam: [worker], registeredGp: 'gp-david', rotas: {} }, ['gp-david']],
    [
      'no nursing team and no GP: the registered manager of the care service',
      { careTeam: [worker], rotas: { 'org-kindly': { organisationId: 'org-kindly', shifts: [], registeredManager: 'rm-kim' } } },
      ['rm-kim'],
    ],
    ['nobody at all: nobody (the decider sends it on at once)', { careTeam: [], rotas: {} }, []],
  ])('the first tier, %s', (_, directory, expected) => {
    expect(resolveRecipients(directory)('accountable-district-nurse', at).map((r) => r.practitionerId)).toEqual(expected);
  });

  it('the on-call tier is whoever the rota names at that hour: an overnight shift covers 23:00 and 07:59 but not 08:00', () => {
    const directory: RecipientDirectory = { careTeam: [nurse], rotas };
    const onCall = (instant: string) => resolveRecipients(directory)('on-call-nurse-or-gp', instant).map((r) => r.practitionerId);
    expect(onCall('2025-03-03T23:00:00Z')).toEqual(['nurse-ola']);
    expect(onCall('2025-03-04T07:59:00Z')).toEqual(['nurse-ola']);
    expect(onCall('2025-03-04T08:00:00Z')).toEqual([]);
    expect(onCall(at)).toEqual([]);
  });

  it('shifts are in England’s local time (BST in summer) and on the days given', () => {
    const rota = { organisationId: 'org-north', shifts: [{ practitionerId: 'nurse-ola', days: ['sat' as const, 'sun' as const], from: '09:00', until: '17:00' }] };
    expect(onCallAt(rota, '2025-07-05T08:30:00Z')).toEqual(['nurse-ola']); // Saturday 09:30 BST
    expect(onCallAt(rota, '2025-07-05T07:30:00Z')).toEqual([]); // Saturday 08:30 BST
    expect(onCallAt(rota, '2025-07-07T10:00:00Z')).toEqual([]); // Monday
  });

  it('the last tier is the care worker who recorded the entry, or the care team’s care workers', () => {
    expect(resolveRecipients({ careTeam: [nurse, worker], rotas: {}, recordedBy: { id: 'cw-tom', role: 'care-worker' } })('care-worker', at).map((r) => r.practitionerId)).toEqual(['cw-tom']);
    expect(resolveRecipients({ careTeam: [nurse, worker], rotas: {}, recordedBy: { id: 'nurse-sarah', role: 'district-nurse' } })('care-worker', at).map((r) => r.practitionerId)).toEqual(['cw-amira']);
  });
});
