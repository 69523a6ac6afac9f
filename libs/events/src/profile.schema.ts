import { z } from 'zod';
import { uuidSchema } from './schema-messages.js';

/**
 * The platform's profile lifecycle, as profile-sync reads it
 * (docs/profiles.md): a profile created or changed, with its groups; a
 * profile deleted. Objects are loose: other fields are ignored.
 */
export const profileUpsertedSchema = z.looseObject({
  id: uuidSchema(),
  profile_groups: z.array(z.looseObject({ id: uuidSchema(), color: z.string().nullable().optional() })),
});

export const profileDeletedSchema = z.looseObject({
  id: uuidSchema(),
});

export type ProfileUpserted = z.infer<typeof profileUpsertedSchema>;
export type ProfileDeleted = z.infer<typeof profileDeletedSchema>;
export type ProfileGroup = ProfileUpserted['profile_groups'][number];
