package dev.graft.train;

import ai.djl.ndarray.NDManager;
import dev.graft.data.BadImages;
import dev.graft.data.DataSplits;
import dev.graft.data.Transforms;
import dev.graft.model.Network;
import dev.graft.model.nn.Torch;
import dev.graft.util.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** Ctrl-C's message says what happened to the checkpoint: written, or not (and what a resume will then do). */
class StopMessageTest {
    @TempDir
    Path tmp;

    List<String> stopWith(Path ckpt) {
        DataSplits data = Fixtures.subset(4, 0);
        Recipe r = Fixtures.recipe(Recipe.Mode.FINETUNE, 1, 4).build();
        List<String> log = new ArrayList<>();
        try (NDManager m = Torch.newManager();
             BatchSource source = BatchSource.images(data.train(), Transforms.bookTest(Fixtures.SMALL), Fixtures.SMALL, 4, 1,
                     Fixtures.quiet(), new BadImages(s -> { }))) {
            Network net = Fixtures.resnet18(m);
            Trainer t = new Trainer(new TrainingPlan(net, ParamGroups.bodyAndHead(net, 1e-5, 1e-4), LrSchedule.of(r, 2), new Sgd(0),
                    new Loss(Recipe.Reduction.SUM), source, 1, 1), List.of(), new StopSignal());
            new Checkpointing(Checkpointing.Target.single(ckpt, 0, Json.object()), log::add).onStop(t);
        }
        return log;
    }

    @Test
    void aCheckpointThatCouldNotBeWrittenIsNotReportedAsWritten() throws Exception {
        Path ok = tmp.resolve("ok.safetensors");
        List<String> written = stopWith(ok);
        assertTrue(Files.isRegularFile(ok) && written.stream().anyMatch(l -> l.equals("checkpoint written to " + ok)), written.toString());

        // the temporary file cannot be created: the writer sees what a full disk gives it
        Path blocked = tmp.resolve("blocked.safetensors");
        Files.createDirectories(tmp.resolve("blocked.safetensors.tmp/blocker"));
        List<String> log = stopWith(blocked);
        assertTrue(log.stream().noneMatch(l -> l.contains("checkpoint written")), "no claim of a written checkpoint: " + log);
        assertTrue(log.stream().anyMatch(l -> l.contains("could not be written") && l.contains("no checkpoint to resume from")), log.toString());

        // with an earlier checkpoint on disk, the message says a resume goes back to it
        Files.copy(ok, blocked);
        log = stopWith(blocked);
        assertTrue(log.stream().anyMatch(l -> l.contains("could not be written") && l.contains("previous checkpoint")), log.toString());
    }
}
