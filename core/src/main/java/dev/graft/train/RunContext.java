package dev.graft.train;

import ai.djl.ndarray.NDManager;
import dev.graft.weights.Downloader;

import java.nio.file.Path;
import java.util.List;

/**
 * What a run needs besides its configuration: where downloads go, the engine's memory scope, how it executes,
 * extra listeners (progress, printing), the stop signal, the checkpoint file (null: none), the state to resume
 * from (null: start), and whether to resume even though the data or recipe changed since the checkpoint.
 */
public record RunContext(Downloader downloader, NDManager manager, TrainOptions opts, List<TrainingListener> listeners,
                         StopSignal stop, Path checkpoint, Checkpoint.State resume, boolean resumeAnyway) {
}
