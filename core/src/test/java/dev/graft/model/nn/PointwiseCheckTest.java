package dev.graft.model.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * libtorch's 1x1 kernel is checked per shape in a child process: a shape that takes the process down is marked
 * wrong and the others are still answered; answers are cached per machine; a layer runs the kernel only for a shape
 * that passed, the product otherwise.
 */
class PointwiseCheckTest {
    @TempDir
    Path tmp;

    @AfterEach
    void clear() {
        System.clearProperty("graft.probe.crash");
        System.clearProperty("graft.probe.hang");
        System.clearProperty("graft.probe.timeout_seconds");
        System.clearProperty("graft.home");
        System.clearProperty("graft.cpu_model");
        Conv2d.injectProductFault(false);
    }

    @Test
    void aShapeThatKillsItsProcessIsMarkedWrongAndTheRestAreStillAnswered() {
        System.setProperty("graft.probe.crash", "16,24,9,9,1,1,fp32");
        Map<String, String> got = PointwiseProbe.probe(List.of("8,16,9,9,1,1,fp32", "16,24,9,9,1,1,fp32", "24,8,9,9,1,1,fp32"));
        assertEquals(3, got.size(), got.toString());
        assertEquals("crashed", got.get("16,24,9,9,1,1,fp32"));
        // the kernel's answers on the other two, whatever they are here, are numbers
        assertTrue(Double.parseDouble(got.get("8,16,9,9,1,1,fp32")) >= 0, got.toString());
        assertTrue(Double.parseDouble(got.get("24,8,9,9,1,1,fp32")) >= 0, got.toString());
    }

    @Test
    @org.junit.jupiter.api.Timeout(value = 90, threadMode = org.junit.jupiter.api.Timeout.ThreadMode.SEPARATE_THREAD)
    void aChildThatHangsIsStoppedAtItsDeadlineAndItsShapesStayUnanswered() {
        System.setProperty("graft.probe.hang", "16,8,9,9,1,1,fp32");
        System.setProperty("graft.probe.timeout_seconds", "8");
        long t0 = System.nanoTime();
        Map<String, String> got = PointwiseProbe.probe(List.of("8,24,9,9,1,1,fp32", "16,8,9,9,1,1,fp32", "24,16,9,9,1,1,fp32"));
        double secs = (System.nanoTime() - t0) / 1e9;
        assertTrue(secs < 60, "returned after " + secs + " s");
        assertEquals(Set.of("8,24,9,9,1,1,fp32"), got.keySet(), "the shape before the hang answered, the hung one not marked: " + got);
    }

    @Test
    void answersAreCachedForThisMachineOnly() throws Exception {
        System.setProperty("graft.home", tmp.toString());
        String key = "8,8,5,5,1,1,fp32";
        boolean first = PointwiseProbe.answers(Set.of(key)).get(key);
        assertTrue(Files.list(tmp.resolve("tuning")).anyMatch(f -> f.getFileName().toString().startsWith("pointwise-")));
        // a probe now would "crash" on it: the cached answer is used instead
        System.setProperty("graft.probe.crash", key);
        assertEquals(first, PointwiseProbe.answers(Set.of(key)).get(key), "read from the cache");
        // another CPU: asked again (and the injected crash says wrong)
        System.setProperty("graft.cpu_model", "Some Other CPU");
        assertFalse(PointwiseProbe.answers(Set.of(key)).get(key), "another machine's answer is not used");
    }

    /** The layer's output when its product is broken (negated): the kernel's result if it ran, the negation if the product did. */
    private static double[] outputs(int in, int out, int side) {
        try (NDManager m = Torch.newManager()) {
            Layers l = new Layers(m);
            Conv2d conv = l.conv(in, out, 1, 1, 0, 1, true);
            conv.weight().set(m.arange(out * in).toType(DataType.FLOAT32, false).mul(0.37).sin().mul(0.05).toFloatArray());
            NDArray x = l.compute().input(m.arange(2 * in * side * side).toType(DataType.FLOAT32, false).mul(0.11).sin()
                    .reshape(2, in, side, side));
            NDArray ref = JniUtils.convolution((PtNDArray) x.toType(DataType.FLOAT64, false), (PtNDArray) conv.weight().toType(DataType.FLOAT64, false),
                    (PtNDArray) conv.bias().toType(DataType.FLOAT64, false), new Shape(1, 1), new Shape(0, 0), new Shape(1, 1), 1).toType(DataType.FLOAT32, false);
            Conv2d.checkPointwise(() -> conv.apply(x, false));
            Conv2d.injectProductFault(true);
            NDArray y = conv.apply(x, false);
            return new double[] {y.sub(ref).norm().getFloat() / ref.norm().getFloat(), y.add(ref).norm().getFloat() / ref.norm().getFloat()};
        }
    }

    @Test
    void aLayerRunsTheKernelOnlyWhereItsShapePassed() {
        System.setProperty("graft.home", tmp.toString());
        String right = "16,32,6,6,1,1,fp32";
        // on a machine where this shape's kernel is wrong, the product runs anyway: nothing to show here
        org.junit.jupiter.api.Assumptions.assumeTrue(PointwiseProbe.error(right) < 1e-4, "the kernel is right for " + right + " here");
        double[] ran = outputs(16, 32, 6);
        assertTrue(ran[0] < 1e-5, "the kernel ran (the broken product did not): " + ran[0]);
        // the same kind of layer whose shape "crashed" its probe: the product runs (and shows its injected fault)
        System.setProperty("graft.probe.crash", "16,40,6,6,1,1,fp32");
        double[] product = outputs(16, 40, 6);
        assertTrue(product[1] < 1e-5, "the product ran: " + product[1]);
    }
}
