import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { LostEventEntity } from '@app/persistence';
import { emptyPage, idsOf, pageOf, SortDirection, type Pagination } from '../graphql/collection.model.js';
import type { LostEventCollection, LostEventFilters, LostEventOrder, EventTypeFilter } from './lost-event.model.js';

/** Lists lost events in OMNI's filter style. */
@Injectable()
export class ListLostEvents {
  constructor(private readonly dataSource: DataSource) {}

  async execute(filters: LostEventFilters | undefined, order: LostEventOrder | undefined, pagination: Pagination | undefined): Promise<LostEventCollection> {
    const query = this.dataSource.getRepository(LostEventEntity).createQueryBuilder('lost');
    const ids = idsOf(filters?.id);
    const types = typesOf(filters?.type);
    const cameras = idsOf(filters?.cameraId);
    const agents = idsOf(filters?.agentId);
    const profiles = idsOf(filters?.profileId);
    // An empty `in` admits nothing (and `IN ()` is no SQL).
    if ([ids, types, cameras, agents, profiles].some((list) => list?.length === 0)) return emptyPage();
    if (ids) query.andWhere('lost.event_id IN (:...ids)', { ids });
    if (types) query.andWhere('lost.type IN (:...types)', { types });
    if (cameras) query.andWhere('lost.camera_id IN (:...cameras)', { cameras });
    if (agents) query.andWhere('lost.agent_id IN (:...agents)', { agents });
    if (profiles) query.andWhere('lost.deleted_profile_ids && CAST(:profiles AS uuid[])', { profiles });
    const date = filters?.date;
    if (date?.gt) query.andWhere('lost.detected_at > :gt', { gt: date.gt });
    if (date?.gte) query.andWhere('lost.detected_at >= :gte', { gte: date.gte });
    if (date?.lt) query.andWhere('lost.detected_at < :lt', { lt: date.lt });
    if (date?.lte) query.andWhere('lost.detected_at <= :lte', { lte: date.lte });
    const { offset, limit } = pageOf(pagination);
    const direction = order?.date ?? SortDirection.DESC;
    const [rows, totalCount] = await query.orderBy('lost.detected_at', direction).addOrderBy('lost.id', direction).skip(offset).take(limit).getManyAndCount();
    return {
      totalCount,
      collectionItems: rows.map((row) => ({
        id: row.eventId,
        event: row.event,
        reason: row.reason,
        deletedProfileIds: row.deletedProfileIds,
        divertedAt: row.divertedAt,
      })),
    };
  }
}

function typesOf(filter: EventTypeFilter | undefined): string[] | null {
  return filter?.exact !== undefined && filter.exact !== null ? [filter.exact] : (filter?.in ?? null);
}
