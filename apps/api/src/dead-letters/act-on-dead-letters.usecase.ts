import { Inject, Injectable } from '@nestjs/common';
import type { DeadLetterCommand } from '@app/domain';
import { DeadLetterCommandUnanswered, NatsClient, sendDeadLetterCommand } from '@app/messaging';
import { ApiError } from '../graphql/api.error.js';
import type { ApiConfig } from '../api.config.js';
import { API_CONFIG } from '../api.tokens.js';
import type { DeadLetterFilters } from './dead-letter.model.js';
import { selectionOf } from './dead-letter-selection.js';

/**
 * Resubmits or discards the OPEN dead letters of a filter: the
 * webhook-dispatcher owns their table, so the api sends it the command over
 * NATS and returns its count (at most MAX_DEAD_LETTERS_PER_COMMAND a
 * command). No dispatcher, or none answering in time, is UNAVAILABLE.
 */
@Injectable()
export class ActOnDeadLetters {
  constructor(
    private readonly nats: NatsClient,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
  ) {}

  async execute(action: DeadLetterCommand['action'], filters: DeadLetterFilters): Promise<number> {
    const answer = await sendDeadLetterCommand(this.nats, { action, filters: selectionOf(filters) }, this.config.DEAD_LETTER_COMMAND_TIMEOUT).catch((error: Error) => {
      if (error instanceof DeadLetterCommandUnanswered) throw new ApiError('UNAVAILABLE', `${error.message}; retry later`);
      throw new ApiError('UNAVAILABLE', `the command could not be sent to the webhook-dispatcher: ${error.message}; retry later`);
    });
    if ('error' in answer) throw new ApiError('UNAVAILABLE', `the webhook-dispatcher could not ${action} the dead letters: ${answer.error}; retry later`);
    return answer.count;
  }
}
