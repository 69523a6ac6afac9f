import { UseGuards } from '@nestjs/common';
import { Args, Int, Mutation, Query, Resolver } from '@nestjs/graphql';
import { MAX_DEAD_LETTERS_PER_COMMAND } from '@app/domain';
import { Pagination } from '../graphql/collection.model.js';
import { TokenGuard, WholeInstallation } from '../graphql/token.guard.js';
import { ActOnDeadLetters } from './act-on-dead-letters.usecase.js';
import { DeadLetterCollection, DeadLetterFilters, DeadLetterModel, DeadLetterOrder } from './dead-letter.model.js';
import { ListDeadLetters } from './list-dead-letters.usecase.js';

@Resolver(() => DeadLetterModel)
@UseGuards(TokenGuard)
export class DeadLettersResolver {
  constructor(
    private readonly list: ListDeadLetters,
    private readonly act: ActOnDeadLetters,
  ) {}

  @Query(() => DeadLetterCollection, { description: 'Messages the data path gave up on, with why; newest first by default.' })
  @WholeInstallation()
  deadLetters(
    @Args('filters', { type: () => DeadLetterFilters, nullable: true }) filters?: DeadLetterFilters,
    @Args('order', { type: () => DeadLetterOrder, nullable: true }) order?: DeadLetterOrder,
    @Args('pagination', { type: () => Pagination, nullable: true }) pagination?: Pagination,
  ) {
    return this.list.execute(filters, order, pagination);
  }

  @Mutation(() => Int, {
    description: `Sends the OPEN dead letters of the filters back where they came from, with the headers they had, and marks them RESUBMITTED (at most ${MAX_DEAD_LETTERS_PER_COMMAND} a call, oldest first: call again while it returns that many). A dead letter that still cannot succeed comes back as a new one. Returns how many.`,
  })
  resubmitDeadLetters(@Args('filters', { type: () => DeadLetterFilters }) filters: DeadLetterFilters) {
    return this.act.execute('resubmit', filters);
  }

  @Mutation(() => Int, { description: `Marks the OPEN dead letters of the filters DISCARDED (at most ${MAX_DEAD_LETTERS_PER_COMMAND} a call). Returns how many.` })
  discardDeadLetters(@Args('filters', { type: () => DeadLetterFilters }) filters: DeadLetterFilters) {
    return this.act.execute('discard', filters);
  }
}
