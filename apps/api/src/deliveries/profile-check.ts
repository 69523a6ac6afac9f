import { Injectable } from '@nestjs/common';
import { DataSource, In } from 'typeorm';
import { checkProfiles, idKey, type AgentEvent, type CheckResult, type ProfileState } from '@app/events';
import { ProfileEntity } from '@app/persistence';

/**
 * The deleted-profile check for paths that re-send history (resend,
 * replay): an event whose candidates have all been deleted since is not sent
 * again, deleted candidates are stripped, and groups are the current ones.
 * It reads profile-sync's profile registry; it never writes it.
 */
@Injectable()
export class ProfileCheck {
  constructor(private readonly dataSource: DataSource) {}

  async apply(body: Uint8Array): Promise<{ result: CheckResult; body: Uint8Array }> {
    const event = JSON.parse(Buffer.from(body).toString('utf8')) as AgentEvent;
    const ids = 'candidates' in event && event.candidates ? event.candidates.map((candidate) => candidate.profile.id) : [];
    const states = new Map<string, ProfileState>();
    if (ids.length > 0) {
      const rows = await this.dataSource.getRepository(ProfileEntity).find({
        select: { id: true, profileGroups: true, deletedAt: true },
        where: { id: In(ids) },
      });
      // Keyed as checkProfiles asks: by the ids' keys, whatever case the candidates use.
      for (const row of rows) states.set(idKey(row.id), row.deletedAt ? { deleted: true } : { deleted: false, groups: row.profileGroups });
    }
    const result = checkProfiles(event, (id) => states.get(id));
    const checked = result.kind === 'deliver' && result.changed ? new TextEncoder().encode(JSON.stringify(result.event)) : body;
    return { result, body: checked };
  }
}
