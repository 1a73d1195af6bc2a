package dev.graft.model;

import ai.djl.ndarray.NDManager;
import dev.graft.model.nn.Conv2d;
import dev.graft.model.nn.Layers;
import dev.graft.model.nn.Torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The per-machine tuning measures real options, never chooses a wrong one, and uses a cached choice only on its own machine. */
class TuningTest {
    @TempDir
    Path tmp;

    /** ResNet-18 with the fixture's torchvision weights (its downsamples are 1x1 convolutions). */
    static Network resnet18(NDManager m) {
        Network net = new Backbone(Architectures.get("resnet18"), "fixture", null, null, List.of(), null).newNetwork(2, new Layers(m));
        net.loadBody(dev.graft.weights.PthReader.read(dev.graft.Shared.path("fixtures/torchvision/resnet18_seed0.pth")), List.of("fc."));
        net.initHeadXavier(7);
        return net;
    }

    @Test
    void anOptionWhoseKernelIsWrongIsRefusedWhateverItsSpeed() {
        for (dev.graft.model.nn.Precision p : new dev.graft.model.nn.Precision[] {dev.graft.model.nn.Precision.FP32, dev.graft.model.nn.Precision.BF16}) {
            Conv2d.injectProductFault(true);
            try (NDManager m = Torch.newManager()) {
                Network net = resnet18(m);
                net.compute().setPrecision(p);
                Tuning.Table t = Tuning.tune(net, 64, null);
                System.out.print(t.describe());
                List<Tuning.Trial> product = t.trials().stream().filter(tr -> tr.options().pointwiseProduct() && tr.options().channelsLast()).toList();
                assertFalse(product.isEmpty(), "the 1x1 product was measured");
                for (Tuning.Trial tr : product) {
                    assertTrue(tr.refused() != null && tr.relativeError() > 0.3, p + ": the broken product is refused: " + tr);
                }
                assertFalse(t.train().channelsLast() && t.train().pointwiseProduct(), p + ": never chosen for training: " + t.train());
                assertFalse(t.infer().channelsLast() && t.infer().pointwiseProduct(), p + ": never chosen for inference: " + t.infer());
                if (p == dev.graft.model.nn.Precision.FP32) {
                    // every correct option agrees with the plain path within float32 rounding: its output, and a
                    // training step's gradient within the tuner's gradient rule (BatchNorm's backward amplifies order)
                    t.trials().stream().filter(tr -> tr.refused() == null).forEach(tr -> assertTrue(
                            tr.relativeError() <= (tr.use().equals("train") ? Tuning.GRADIENT_TOLERANCE : 1e-4), tr.toString()));
                } else {
                    // bfloat16 options are held to float32: none kept is much further from it than the most accurate one
                    for (String use : List.of("train", "infer")) {
                        double best = t.trials().stream().filter(tr -> tr.use().equals(use)).mapToDouble(Tuning.Trial::relativeError).min().orElseThrow();
                        t.trials().stream().filter(tr -> tr.use().equals(use) && tr.refused() == null)
                                .forEach(tr -> assertTrue(tr.relativeError() <= Tuning.BF16_SLACK * best + 1e-9, tr + " against the best " + best));
                    }
                }
            } finally {
                Conv2d.injectProductFault(false);
            }
        }
    }

    @Test
    void anOptionSlowerThanTheFixedOneIsNotTimedAfterItsSecondRun() {
        // contiguous BatchNorm-unfolded inference made 2 s slower than anything else: its checking run and one more,
        // then out (counted in the first measurement, not in a confirmation, which times the fixed one again when
        // another option measured faster)
        Tuning.Options slow = new Tuning.Options(false, false, false);
        java.util.Map<Tuning.Options, Integer> timed = new java.util.concurrent.ConcurrentHashMap<>();
        Tuning.delayForTests = (o, again) -> {
            if (!again) {
                timed.merge(o, 1, Integer::sum);
            }
            return o.equals(slow) ? 2000L : 0L;
        };
        try (NDManager m = Torch.newManager()) {
            Network net = resnet18(m);
            Tuning.Table t = Tuning.tune(net, 64, null, true);
            System.out.print(t.describe());
            assertEquals(2, timed.get(slow), "its checking run and one more: " + timed);
            assertTrue(timed.get(Tuning.FIXED) >= 2 && timed.get(Tuning.FIXED) <= Tuning.ROUNDS, "the fixed option: " + timed);
            assertTrue(t.trials().stream().anyMatch(tr -> tr.options().equals(slow) && tr.imagesPerSecond() > 0 && tr.imagesPerSecond() < 32 / 2.0),
                    "its time is in the table: " + t.trials());
        } finally {
            Tuning.delayForTests = null;
        }
    }

    @Test
    void theTimingStopsWhenNothingIsFasterThanTheFixedOne() {
        // every option but the fixed ones 300 ms slower: each is run twice (its check and one timed run), the fixed ones
        // too, and nothing is confirmed; without the early stop every option would run ROUNDS times
        Tuning.Options fixedTrain = new Tuning.Options(Tuning.FIXED.channelsLast(), Tuning.FIXED.pointwiseProduct(), true);
        java.util.Map<Tuning.Options, Integer> timed = new java.util.concurrent.ConcurrentHashMap<>();
        Tuning.delayForTests = (o, again) -> {
            timed.merge(o, 1, Integer::sum);
            return o.equals(Tuning.FIXED) || o.equals(fixedTrain) ? 0L : 300L;
        };
        try (NDManager m = Torch.newManager()) {
            Network net = resnet18(m);
            Tuning.Table t = Tuning.tune(net, 64, null);
            System.out.print(t.describe());
            // training's options carry "folded", so three of them equal inference options: run twice for each use
            List<Tuning.Options> training = t.trials().stream().filter(tr -> tr.use().equals("train")).map(Tuning.Trial::options).toList();
            assertEquals(9, t.trials().size(), "three training options, six inference ones: " + t.trials());
            t.trials().stream().filter(tr -> tr.use().equals("infer")).forEach(tr -> assertEquals(training.contains(tr.options()) ? 4 : 2,
                    timed.get(tr.options()), tr.options() + " run twice for each use: " + timed));
            assertEquals(fixedTrain, t.train());
            assertEquals(Tuning.FIXED, t.infer());
        } finally {
            Tuning.delayForTests = null;
        }
    }

    @Test
    void anOptionThatWinsOnlyOnceDoesNotReplaceTheFixedOne() {
        // noise played by a delay: the fixed options slow while all are timed, every other option slow when it is
        // timed again; without the second measurement one of them would replace the fixed one
        Tuning.Options fixedTrain = new Tuning.Options(Tuning.FIXED.channelsLast(), Tuning.FIXED.pointwiseProduct(), true);
        Tuning.delayForTests = (o, again) -> (o.equals(Tuning.FIXED) || o.equals(fixedTrain)) != again ? 300L : 0L;
        try (NDManager m = Torch.newManager()) {
            Network net = resnet18(m);
            Tuning.Table t = Tuning.tune(net, 64, null);
            System.out.print(t.describe());
            assertEquals(fixedTrain, t.train(), "training keeps the fixed choice");
            assertEquals(Tuning.FIXED, t.infer(), "inference keeps the fixed choice");
        } finally {
            Tuning.delayForTests = null;
        }
        // and one that wins both times is chosen: the fixed options slow in both measurements
        Tuning.delayForTests = (o, again) -> o.equals(Tuning.FIXED) || o.equals(fixedTrain) ? 300L : 0L;
        try (NDManager m = Torch.newManager()) {
            Network net = resnet18(m);
            Tuning.Table t = Tuning.tune(net, 64, null);
            assertNotEquals(fixedTrain, t.train(), "a confirmed faster option is chosen for training");
            assertNotEquals(Tuning.FIXED, t.infer(), "and for inference");
        } finally {
            Tuning.delayForTests = null;
        }
    }

    @Test
    void measuringLeavesTheNetworkAsItWas() {
        try (NDManager m = Torch.newManager()) {
            Network net = resnet18(m);
            var before = net.stateDict();
            boolean order = net.compute().channelsLast(true);
            Tuning.tune(net, 48, null);
            var after = net.stateDict();
            for (String k : before.tensors().keySet()) {
                assertArrayEquals(before.tensors().get(k).toFloats(), after.tensors().get(k).toFloats(), 0f, k);
            }
            assertEquals(order, net.compute().channelsLast(true));
        }
    }

    @Test
    void aChoiceIsCachedForThisMachineAndNotUsedOnAnother() throws Exception {
        try (NDManager m = Torch.newManager()) {
            Network net = resnet18(m);
            Tuning.Table first = Tuning.tune(net, 32, tmp);
            assertFalse(first.cached());
            Tuning.Table again = Tuning.tune(net, 32, tmp);
            assertTrue(again.cached(), "the second call reads the cache");
            assertEquals(first.train(), again.train());
            assertEquals(first.infer(), again.infer());

            // the same cache read on a machine with another CPU: measured again, its own entry
            System.setProperty("graft.cpu_model", "Some Other CPU");
            try {
                Tuning.Table other = Tuning.tune(net, 32, tmp);
                assertFalse(other.cached(), "another CPU's choice is not used");
                assertNotEquals(first.key(), other.key());
            } finally {
                System.clearProperty("graft.cpu_model");
            }
            // a cache file whose key is not this machine's (copied from elsewhere to the same name) is not used either
            Path file;
            try (Stream<Path> files = Files.list(tmp.resolve("tuning"))) {
                file = files.filter(f -> {
                    try {
                        return Files.readString(f).contains(first.key().replace("\\", "\\\\"));
                    } catch (java.io.IOException e) {
                        return false;
                    }
                }).findFirst().orElseThrow();
            }
            Files.writeString(file, Files.readString(file).replace(first.key(), first.key().replaceFirst("^[^\\[]*", "Another CPU ")));
            assertFalse(Tuning.tune(net, 32, tmp).cached(), "a file with another machine's key is measured again");
        }
    }

    @Test
    void offByTheEnvironmentOrTheProperty() {
        String was = System.getProperty("graft.tune");
        try {
            System.setProperty("graft.tune", "off");
            assertFalse(Tuning.enabled());
            System.setProperty("graft.tune", "on");
            assertTrue(Tuning.enabled());
        } finally {
            if (was == null) {
                System.clearProperty("graft.tune");
            } else {
                System.setProperty("graft.tune", was);
            }
        }
    }
}
