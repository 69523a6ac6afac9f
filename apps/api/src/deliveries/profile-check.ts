import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { checkProfiles, type AgentEvent, type CheckResult, type ProfileGroup, type ProfileState } from '@app/events';

/**
 * The deleted-profile check for paths that re-send history (resend,
 * replay): an event whose candidates have all been deleted since is not sent
 * again, deleted candidates are stripped, and groups are the current ones.
 */
@Injectable()
export class ProfileCheck {
  constructor(private readonly dataSource: DataSource) {}

  async apply(body: Uint8Array): Promise<{ result: CheckResult; body: Uint8Array }> {
    const event = JSON.parse(Buffer.from(body).toString('utf8')) as AgentEvent;
    const ids = 'candidates' in event && event.candidates ? event.candidates.map((candidate) => candidate.profile.id) : [];
    const states = new Map<string, ProfileState>();
    if (ids.length > 0) {
      const rows: Array<{ id: string; profile_groups: ProfileGroup[]; deleted: boolean }> = await this.dataSource.query(
        'SELECT id, profile_groups, deleted_at IS NOT NULL AS deleted FROM profile WHERE id = ANY($1::uuid[])',
        [ids],
      );
      for (const row of rows) states.set(row.id, row.deleted ? { deleted: true } : { deleted: false, groups: row.profile_groups });
    }
    const result = checkProfiles(event, (id) => states.get(id));
    const checked = result.kind === 'deliver' && result.changed ? new TextEncoder().encode(JSON.stringify(result.event)) : body;
    return { result, body: checked };
  }
}
