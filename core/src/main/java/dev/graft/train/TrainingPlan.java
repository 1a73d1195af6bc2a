package dev.graft.train;

import dev.graft.model.Network;

/**
 * What one training loop runs: the network and its parameter groups, the schedule over all its steps, the
 * optimizer, the loss, the batches, the planned epochs, and the seed that replays dropout masks on resume.
 */
public record TrainingPlan(Network net, ParamGroups groups, LrSchedule schedule, Optimizer optimizer, Loss loss,
                           BatchSource data, int epochs, long seed) {
}
